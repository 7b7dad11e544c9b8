"""Decode a recording into a compact :class:`DecodedAudio` (PyAV: FFmpeg's libraries, no ``ffmpeg``
program), refusing one over the allowed length from its header, before decoding."""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qc.ingest.signal import Signal
from qc.ingest.wav import WavSamples, _wav_layout
from qc.types import AudioInfo

__all__ = ["AUDIO_EXTENSIONS", "AudioError", "file_sha256", "DecodedAudio", "decode_audio", "MAX_DURATION", "max_duration_default"]

log = logging.getLogger(__name__)


#: default longest recording decoded, in seconds (``qc score --max-duration``): memory grows with it
MAX_DURATION = 2 * 3600.0


AUDIO_EXTENSIONS: tuple[str, ...] = (".wav", ".mp3", ".m4a", ".aac", ".amr", ".flac", ".ogg", ".opus", ".wma")


class AudioError(ValueError):
    """A recording that cannot be decoded; the message names the file and says what to do."""


@dataclass
class DecodedAudio:
    """One recording, shape ``(channels, n)``: float32 in [-1, 1], or int16 (full scale 32768)
    as :func:`decode_audio` keeps an integer codec at the file's own rate.

    ``info`` describes the original file (its own sample rate and channel count), while
    ``sample_rate`` is the rate of ``samples``. Read a channel at another rate with
    :meth:`channel`.
    """

    samples: np.ndarray
    sample_rate: int
    info: AudioInfo

    @property
    def channels(self) -> int:
        return 1 if self.samples.ndim == 1 else int(self.samples.shape[0])

    @property
    def duration(self) -> float:
        return self.samples.shape[-1] / float(self.sample_rate)

    @property
    def peak(self) -> float:
        """The largest absolute sample, in [0, 1] (no copy of the recording)."""
        if not self.samples.size:
            return 0.0
        top = max(float(self.samples.max()), -float(self.samples.min()))
        return top / 32768.0 if self.samples.dtype == np.int16 else top

    def channel(self, index: int, rate: int = 16000) -> "Signal":
        """Channel ``index`` at ``rate`` Hz as float32, resampled only where it is read."""
        x = self.samples if self.samples.ndim == 1 else self.samples[index]
        return Signal(x, self.sample_rate, rate)


def _fail(path: Path, problem: str, hint: str) -> AudioError:
    return AudioError(f"{path}: {problem}; {hint}")


def max_duration_default() -> float:
    """The longest recording decoded, in seconds: ``$QC_MAX_DURATION`` (``qc score --max-duration``) or 2 h."""
    raw = os.environ.get("QC_MAX_DURATION")
    try:
        return float(raw) if raw else MAX_DURATION
    except ValueError:
        return MAX_DURATION


def _length(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.2f} h".replace(".00 h", " h")
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.1f} s"


def _too_long(path: Path, seconds: float, limit: float, how: str) -> AudioError:
    return _fail(path, f"recording is {_length(seconds)} long ({how}), over the {_length(limit)} limit",
                 "split it, or raise the limit with qc score --max-duration SECONDS")


def decode_audio(path: str | Path, sample_rate: int | None = 16000, max_duration: float | None = None) -> DecodedAudio:
    """Decode a recording and resample every channel to ``sample_rate``.

    Memory is bounded by ``max_duration``: a recording whose header says it is longer is refused
    before anything is decoded, one that turns out longer while decoding is refused as soon as it
    passes the limit, and the samples are decoded into one array sized from the header (no
    second copy).

    Args:
        path: a wav (PCM / A-law / μ-law), mp3, m4a, amr, flac or ogg file.
        sample_rate: rate of the returned float32 samples (Whisper wants 16000); ``None`` keeps
            the recording compact, as the pipeline does: its own rate up to 16 kHz (higher rates
            become 16 kHz), int16 for an integer codec (PCM, A-law, μ-law), else float32. Read it
            at 16 kHz with :meth:`DecodedAudio.channel`.
        max_duration: longest recording accepted, in seconds (default: :func:`max_duration_default`,
            2 h; 0 for no limit).

    Returns:
        The samples, shape ``(channels, n)``, with an :class:`AudioInfo` for the original file.

    Raises:
        AudioError: the file is empty, truncated, too long, not audio, or in a format PyAV cannot read.
    """
    import av

    path = Path(path)
    limit = max_duration_default() if max_duration is None else float(max_duration)
    if not path.is_file():
        raise _fail(path, "no such file", "check the path")
    size = path.stat().st_size
    if size == 0:
        raise _fail(path, "empty file (0 bytes)", "the recording was not written; re-export it from the call system")
    with open(path, "rb") as f:
        head = f.read(12)
    header_seconds = None
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        header_seconds = _check_wav_length(path, size)
        if limit and header_seconds is not None and header_seconds > limit:
            raise _too_long(path, header_seconds, limit, "from the wav header")
        if sample_rate is None:
            layout = _wav_layout(path, size)
            if layout is not None:  # plain PCM / G.711: read from the file where needed, never held
                return _lazy_wav(path, layout)
    try:
        container = av.open(str(path))
    except Exception as e:  # PyAV raises several FFmpeg error classes
        if head.startswith(b"RIFF") or head.startswith(b"ID3"):
            raise _fail(path, f"damaged or truncated audio header ({e.__class__.__name__})",
                        "re-export the recording") from None
        raise _fail(path, "not a readable audio file",
                    f"expected one of {', '.join(AUDIO_EXTENSIONS)}; convert it with sox or ffmpeg") from None
    try:
        streams = [s for s in container.streams if s.type == "audio"]
        if not streams:
            raise _fail(path, "contains no audio stream", "is this a video or a document? export the audio track")
        stream = streams[0]
        orig_rate = int(stream.rate or stream.codec_context.sample_rate or 0)
        orig_channels = int(stream.codec_context.channels or 0)
        codec = stream.codec_context.name
        layout = "stereo" if orig_channels == 2 else ("mono" if orig_channels == 1 else None)
        if header_seconds is None:
            header_seconds = _container_seconds(container, stream)
            if limit and header_seconds is not None and header_seconds > limit:
                raise _too_long(path, header_seconds, limit, "from the file header")
        fmt = "fltp"
        if sample_rate is None:
            sample_rate = min(orig_rate, 16000) if orig_rate > 0 else 16000
            if stream.codec_context.format is not None and stream.codec_context.format.name in ("s16", "s16p", "u8", "u8p"):
                fmt = "s16p"
        try:
            resampler = av.AudioResampler(format=fmt, layout=layout, rate=sample_rate)
        except Exception:
            resampler = av.AudioResampler(format=fmt, rate=sample_rate)
        dtype = np.int16 if fmt == "s16p" else np.float32
        collect = _Samples(int((header_seconds or 0) * sample_rate) + sample_rate if header_seconds else 0, dtype)
        max_samples = int(limit * sample_rate) + sample_rate if limit else None
        try:
            for frame in container.decode(stream):
                frame.pts = None
                for out in resampler.resample(frame):
                    collect.add(out.to_ndarray())
                if max_samples is not None and collect.n > max_samples:
                    raise _too_long(path, collect.n / sample_rate, limit, "while decoding; the header did not say")
            for out in resampler.resample(None):
                collect.add(out.to_ndarray())
        except AudioError:
            raise
        except Exception as e:
            if not collect.n:
                raise _fail(path, f"audio data cannot be decoded ({e.__class__.__name__}: {e})",
                            "the file may be truncated or use an unsupported codec; re-export it") from None
            # A damaged tail: keep what decoded, like a player would, but say so.
            log.warning("%s: decoding stopped early (%s); using the first part", path, e)
    finally:
        container.close()
    if not collect.n:
        raise _fail(path, "no audio samples (truncated or zero-length recording)", "re-export the recording")
    samples = collect.array()
    if samples.shape[1] == 0:
        raise _fail(path, "no audio samples (truncated or zero-length recording)", "re-export the recording")
    if orig_channels <= 0:
        orig_channels = samples.shape[0]
    info = AudioInfo(
        path=str(path),
        sha256=file_sha256(path),
        duration=round(samples.shape[1] / sample_rate, 3),
        sample_rate=orig_rate or sample_rate,
        channels=orig_channels,
        format=f"{path.suffix.lstrip('.').lower() or 'audio'}/{codec}",
    )
    return DecodedAudio(samples=np.ascontiguousarray(samples), sample_rate=sample_rate, info=info)


def _container_seconds(container: Any, stream: Any) -> float | None:
    """The duration the file's header declares (FFmpeg's estimate), or None."""
    try:
        if stream.duration is not None and stream.time_base is not None:
            return float(stream.duration * stream.time_base)
        if container.duration is not None:
            return container.duration / 1_000_000  # AV_TIME_BASE
    except (TypeError, ValueError, ZeroDivisionError):
        pass
    return None


class _Samples:
    """Decoded chunks gathered into one preallocated ``(channels, capacity)`` array, so that a long
    recording is held once, not as chunks plus their concatenation."""

    def __init__(self, capacity: int, dtype: Any = np.float32):
        self.capacity, self.dtype = capacity, dtype
        self.buf: np.ndarray | None = None
        self.n = 0
        self.extra: list[np.ndarray] = []

    def add(self, chunk: np.ndarray) -> None:
        chunk = chunk.astype(self.dtype, copy=False)
        k = chunk.shape[1]
        if self.buf is None and self.capacity and not self.extra:
            self.buf = np.empty((chunk.shape[0], self.capacity), dtype=self.dtype)  # pages are touched as filled
        if self.buf is not None and not self.extra and self.n + k <= self.capacity and chunk.shape[0] == self.buf.shape[0]:
            self.buf[:, self.n: self.n + k] = chunk
        else:  # longer than the header said, or no header: plain chunks
            self.extra.append(chunk)
        self.n += k

    def array(self) -> np.ndarray:
        if self.buf is None:
            return np.ascontiguousarray(np.concatenate(self.extra, axis=1))
        filled = self.n - sum(c.shape[1] for c in self.extra)
        channels = self.buf.shape[0]
        # compact the rows in place so the result is a contiguous view (no copy of the recording)
        flat = self.buf.reshape(-1)
        block = 1 << 20  # forward, in blocks: numpy buffers an overlapping copy, so keep that buffer small
        for ch in range(1, channels):
            for i in range(0, filled, block):
                k = min(block, filled - i)
                flat[ch * filled + i: ch * filled + i + k] = flat[ch * self.capacity + i: ch * self.capacity + i + k]
        head = flat[: channels * filled].reshape(channels, filled)
        return np.concatenate([head] + self.extra, axis=1) if self.extra else head


def _lazy_wav(path: Path, layout: tuple[int, int, int, int, str]) -> DecodedAudio:
    offset, frames, channels, rate, codec = layout
    if frames == 0:
        raise _fail(path, "no audio samples (truncated or zero-length recording)", "re-export the recording")
    info = AudioInfo(path=str(path), sha256=file_sha256(path), duration=round(frames / rate, 3),
                     sample_rate=rate, channels=channels, format=f"{path.suffix.lstrip('.').lower() or 'audio'}/{codec}")
    return DecodedAudio(samples=WavSamples(path, offset, frames, channels, codec), sample_rate=rate, info=info)  # type: ignore[arg-type]


def _check_wav_length(path: Path, size: int) -> float | None:
    """Refuse a wav whose data chunk is shorter than its header says (a cut-off recording).

    Returns the duration the header declares in seconds (None when it does not say).
    """
    import struct

    with open(path, "rb") as f:
        f.seek(12)
        byte_rate = 0
        while True:
            hdr = f.read(8)
            if len(hdr) < 8:
                raise _fail(path, "truncated wav: no audio data chunk", "re-export the recording")
            cid, n = hdr[:4], struct.unpack("<I", hdr[4:])[0]
            if cid == b"fmt ":
                fmt = f.read(n + (n & 1))
                if len(fmt) >= 12:
                    byte_rate = struct.unpack("<I", fmt[8:12])[0]
                continue
            if cid == b"data":
                have = size - f.tell()
                # 0 and 0xFFFFFFFF mean "size unknown" (written by a live recorder): nothing to check.
                if n not in (0, 0xFFFFFFFF) and have < n:
                    if byte_rate:
                        detail = f"header says {n / byte_rate:.1f} s of audio, file holds {max(have, 0) / byte_rate:.1f} s"
                    else:
                        detail = f"header says {n} bytes of audio, file holds {max(have, 0)}"
                    raise _fail(path, f"truncated wav ({detail})",
                                "the copy was interrupted; copy or export the recording again")
                if n in (0, 0xFFFFFFFF) or not byte_rate:
                    return None
                return n / byte_rate
            f.seek(n + (n & 1), 1)

def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes (the audio part of the transcript cache key)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()
