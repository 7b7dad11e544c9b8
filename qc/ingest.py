"""Ingest: find call recordings, decode them, attach call metadata.

Decoding uses PyAV (FFmpeg's libraries, no ``ffmpeg`` program needed) and reads wav (PCM,
A-law, μ-law), mp3, m4a/aac, amr, flac and ogg. Each channel is kept separately so a stereo
call keeps the agent and the customer apart.

A recording is kept compactly (``decode_audio(path, sample_rate=None)``): a PCM 16-bit or
G.711 wav up to 16 kHz is read from its file where needed and never held; anything else is held
at its own rate (up to 16 kHz), as 16-bit integers for integer codecs: a 2-hour stereo 8 kHz
call would be 220 MiB, not the 880 MiB of float32 at 16 kHz. :meth:`DecodedAudio.channel` gives one channel at 16 kHz as a
:class:`Signal` that is resampled only where it is read (a window, or a stream of chunks), with
the same FFmpeg resampler, so every sample read equals the one a whole-file resample gives.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from qc.types import AudioInfo

__all__ = [
    "AUDIO_EXTENSIONS",
    "AudioError",
    "MetadataError",
    "DecodedAudio",
    "Signal",
    "CallMeta",
    "decode_audio",
    "MAX_DURATION",
    "max_duration_default",
    "duplicate_call_id",
    "discover_audio",
    "file_sha256",
    "load_call_table",
    "parse_filename",
    "call_metadata",
]

log = logging.getLogger(__name__)

#: default longest recording decoded, in seconds (``qc score --max-duration``): memory grows with it
MAX_DURATION = 2 * 3600.0

AUDIO_EXTENSIONS: tuple[str, ...] = (".wav", ".mp3", ".m4a", ".aac", ".amr", ".flac", ".ogg", ".opus", ".wma")

# Columns of calls.csv with a fixed meaning; every other column is carried into Transcript.meta.
_KNOWN_COLUMNS = ("call_id", "agent_id", "file")


class AudioError(ValueError):
    """A recording that cannot be decoded; the message names the file and says what to do."""


class MetadataError(ValueError):
    """A calls.csv or filename pattern that cannot be used; the message says how to fix it."""


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


class Signal:
    """One channel at ``rate`` Hz, float32 in [-1, 1], computed from the stored samples where it
    is read: ``x[a:b]`` is an array, ``len(x)`` the length, :meth:`chunks` streams it. With
    ``muted`` set, the frames it marks read as zeros.

    Resampling uses FFmpeg's resampler, as decoding does; it is a finite filter, so a window
    resampled with a little context on each side equals the same samples of a whole-file
    resample exactly (tests/test_hardening_memory.py checks this).
    """

    def __init__(self, source: np.ndarray, source_rate: int, rate: int,
                 muted: np.ndarray | None = None, frame: int = 0):
        from math import gcd

        self.source, self.source_rate, self.rate = source, int(source_rate), int(rate)
        self.muted, self.frame = muted, frame
        g = gcd(self.source_rate, self.rate)
        self._step_in, self._step_out = self.source_rate // g, self.rate // g
        n = len(source)
        self._len = n if self.source_rate == self.rate else -(-n * self.rate // self.source_rate)
        # input samples of context each side: FFmpeg's default filter spans 32 taps at the lower rate
        self._margin = (64 * max(self.source_rate // self.rate, 1) // self._step_in + 1) * self._step_in

    def __len__(self) -> int:
        return self._len

    def with_muted(self, muted: np.ndarray, frame: int) -> "Signal":
        """The same signal with the frames (``frame`` samples each) marked in ``muted`` silenced."""
        return Signal(self.source, self.source_rate, self.rate, muted, frame)

    def __getitem__(self, key: slice) -> np.ndarray:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("a Signal is read by contiguous slices, x[a:b]")
        a, b, _ = key.indices(self._len)
        if b <= a:
            return np.zeros(0, dtype=np.float32)
        if self.source_rate == self.rate:
            out = _as_float(self.source[a:b])
        else:
            k = self._step_in
            a0 = max((a * self.source_rate // self.rate) // k * k - self._margin, 0)
            b0 = min(-(-b * self.source_rate // self.rate) + self._margin, len(self.source))
            y = _resample(self.source[a0:b0], self.source_rate, self.rate)
            o = a0 // k * self._step_out
            out = y[a - o: b - o]
        return self._mute(out, a)

    def chunks(self, size: int) -> Iterable[np.ndarray]:
        """The whole signal as consecutive arrays of ``size`` samples (the last one shorter)."""
        if self.source_rate == self.rate:
            for a in range(0, self._len, size):
                yield self._mute(_as_float(self.source[a: a + size]), a)
            return
        pending: list[np.ndarray] = []
        have, pos = 0, 0
        for y in _resample_stream(self.source, self.source_rate, self.rate):
            pending.append(y)
            have += len(y)
            while have >= size:
                block = np.concatenate(pending)
                yield self._mute(block[:size].copy(), pos)
                pos += size
                pending, have = [block[size:]], have - size
        if have:
            yield self._mute(np.concatenate(pending), pos)

    def _mute(self, x: np.ndarray, at: int) -> np.ndarray:
        if self.muted is None or not self.muted.any():
            return x
        f = self.frame
        i0, i1 = at // f, min(-(-(at + len(x)) // f), len(self.muted))
        if i1 <= i0 or not self.muted[i0:i1].any():
            return x
        mask = np.repeat(self.muted[i0:i1], f)[at - i0 * f: at - i0 * f + len(x)]
        x = x.copy() if not x.flags.writeable or x.base is not None else x
        x[: len(mask)][mask] = 0.0
        return x


def _as_float(x: np.ndarray) -> np.ndarray:
    if x.dtype == np.int16:
        return x.astype(np.float32) / np.float32(32768.0)
    return np.asarray(x, dtype=np.float32)


def _resample_stream(x: np.ndarray, rate_in: int, rate_out: int, block: int = 1 << 16) -> Iterable[np.ndarray]:
    """``x`` (one channel, int16 or float32) through one FFmpeg resampler, in pieces."""
    import av

    fmt = "s16p" if x.dtype == np.int16 else "fltp"
    resampler = av.AudioResampler(format="fltp", layout="mono", rate=rate_out)
    for i in range(0, len(x), block):
        part = np.ascontiguousarray(x[i: i + block], dtype=np.int16 if fmt == "s16p" else np.float32)
        frame = av.AudioFrame.from_ndarray(part[None, :], format=fmt, layout="mono")
        frame.sample_rate = rate_in
        for out in resampler.resample(frame):
            yield out.to_ndarray()[0]
    for out in resampler.resample(None):
        yield out.to_ndarray()[0]


def _resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    parts = list(_resample_stream(x, rate_in, rate_out))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


@dataclass
class CallMeta:
    """Who and what a recording is: from calls.csv, a filename pattern, or the file stem."""

    call_id: str
    agent_id: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def duplicate_call_id(path: str | Path, call_id: str, first: str | Path) -> str:
    """The error for a second file that maps to a call id another file already has."""
    return (f"{path}: call_id {call_id!r} is already used by {first}; "
            "give a calls.csv or --pattern that makes call ids unique")


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes (the audio part of the transcript cache key)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def discover_audio(paths: Iterable[str | Path]) -> list[Path]:
    """Expand files and folders into a sorted, de-duplicated list of audio files.

    Folders are searched recursively for known audio extensions; a file named explicitly is
    kept whatever its extension (so that a bad file is reported rather than silently skipped).

    Raises:
        AudioError: a path does not exist.
    """
    found: dict[Path, None] = {}
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and f.suffix.lower() in AUDIO_EXTENSIONS and not f.name.startswith("."):
                    found[f] = None
                elif f.is_symlink():
                    warn_link(f)
        elif p.is_file():
            found[p] = None
        else:
            raise AudioError(f"{p}: no such file or folder; check the path")
    return list(found)


def warn_link(path: Path) -> None:
    """Log why a symbolic link met while searching a folder is skipped (a loop, a dangling link, a folder)."""
    try:
        target = path.resolve(strict=True)
    except RuntimeError:  # Python < 3.13 reports a loop this way
        log.warning("%s: symbolic link loop, skipped; fix or remove the link", path)
        return
    except OSError as e:
        problem = "symbolic link loop" if "loop" in str(e).lower() else "symbolic link to nothing"
        log.warning("%s: %s, skipped; fix or remove the link", path, problem)
        return
    if target.is_dir():
        log.warning("%s: symbolic link to the folder %s is not followed; pass that folder itself to include it", path, target)


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


class WavSamples:
    """The samples of a PCM 16-bit or G.711 wav, read from the file where they are needed.

    Looks like the ``(channels, n)`` int16 array :func:`decode_audio` would hold: ``x[ch]`` is
    one channel, sliced ``x[ch][a:b]``, and ``max()`` / ``min()`` read the file in blocks.
    Memory does not grow with the recording; the file must stay in place while it is used.
    """

    def __init__(self, path: Path, offset: int, frames: int, channels: int, codec: str):
        self.path, self.offset, self.frames, self.codec = path, offset, frames, codec
        self.shape = (channels, frames)
        self.ndim, self.dtype, self.size = 2, np.dtype(np.int16), channels * frames
        self.nbytes = 0  # nothing held in memory
        self._width = channels * (2 if codec == "pcm_s16le" else 1)

    def __getitem__(self, ch: int) -> "_WavChannel":
        if not isinstance(ch, (int, np.integer)) or not 0 <= ch < self.shape[0]:
            raise IndexError(f"channel {ch!r} of {self.shape[0]}")
        return _WavChannel(self, int(ch))

    def read(self, a: int, b: int) -> np.ndarray:
        """Frames ``a:b`` of every channel, shape ``(b - a, channels)``, int16."""
        a, b = max(a, 0), min(b, self.frames)
        if b <= a:
            return np.zeros((0, self.shape[0]), dtype=np.int16)
        with open(self.path, "rb") as f:
            f.seek(self.offset + a * self._width)
            raw = f.read((b - a) * self._width)
        if self.codec == "pcm_s16le":
            x = np.frombuffer(raw, dtype="<i2").astype(np.int16, copy=False)
        else:
            x = _g711_table(self.codec)[np.frombuffer(raw, dtype=np.uint8)]
        return x[: len(x) // self.shape[0] * self.shape[0]].reshape(-1, self.shape[0])

    def _blocks(self, size: int = 1 << 20) -> Iterable[np.ndarray]:
        for a in range(0, self.frames, size):
            yield self.read(a, a + size)

    def max(self) -> int:
        return max((int(x.max()) for x in self._blocks() if x.size), default=0)

    def min(self) -> int:
        return min((int(x.min()) for x in self._blocks() if x.size), default=0)


class _WavChannel:
    """One channel of a :class:`WavSamples`, read by slices."""

    dtype = np.dtype(np.int16)

    def __init__(self, wav: WavSamples, ch: int):
        self.wav, self.ch = wav, ch

    def __len__(self) -> int:
        return self.wav.frames

    def __getitem__(self, key: slice) -> np.ndarray:
        a, b, _ = key.indices(self.wav.frames)
        return np.ascontiguousarray(self.wav.read(a, b)[:, self.ch])


_WAV_CODECS = {1: "pcm_s16le", 6: "pcm_alaw", 7: "pcm_mulaw"}


def _wav_layout(path: Path, size: int) -> tuple[int, int, int, int, str] | None:
    """(data offset, frames, channels, rate, codec) of a wav that can be read in place: PCM
    16-bit, A-law or μ-law, at most 16 kHz, with its data size in the header; else None."""
    import struct

    with open(path, "rb") as f:
        f.seek(12)
        fmt = None
        while True:
            hdr = f.read(8)
            if len(hdr) < 8:
                return None
            cid, n = hdr[:4], struct.unpack("<I", hdr[4:])[0]
            if cid == b"fmt ":
                body = f.read(n + (n & 1))
                if len(body) < 16:
                    return None
                fmt = struct.unpack("<HHIIHH", body[:16])
                continue
            if cid == b"data":
                if fmt is None or n in (0, 0xFFFFFFFF) or f.tell() + n > size:
                    return None
                tag, channels, rate, _, align, bits = fmt
                codec = _WAV_CODECS.get(tag)
                if (codec is None or not 1 <= channels <= 8 or not 0 < rate <= 16000
                        or bits != (16 if tag == 1 else 8) or align != channels * bits // 8):
                    return None
                return f.tell(), n // align, channels, rate, codec
            f.seek(n + (n & 1), 1)


def _lazy_wav(path: Path, layout: tuple[int, int, int, int, str]) -> DecodedAudio:
    offset, frames, channels, rate, codec = layout
    if frames == 0:
        raise _fail(path, "no audio samples (truncated or zero-length recording)", "re-export the recording")
    info = AudioInfo(path=str(path), sha256=file_sha256(path), duration=round(frames / rate, 3),
                     sample_rate=rate, channels=channels, format=f"{path.suffix.lstrip('.').lower() or 'audio'}/{codec}")
    return DecodedAudio(samples=WavSamples(path, offset, frames, channels, codec), sample_rate=rate, info=info)  # type: ignore[arg-type]


@functools.lru_cache(maxsize=None)
def _g711_table(codec: str) -> np.ndarray:
    """The int16 value of each of the 256 G.711 codes, as FFmpeg decodes them."""
    import io
    import struct

    import av

    tag = {v: k for k, v in _WAV_CODECS.items()}[codec]
    codes = bytes(range(256))
    wav = (b"RIFF" + struct.pack("<I", 36 + 256) + b"WAVE" + b"fmt " + struct.pack("<IHHIIHH", 16, tag, 1, 8000, 8000, 1, 8)
           + b"data" + struct.pack("<I", 256) + codes)
    with av.open(io.BytesIO(wav)) as container:
        out = np.concatenate([fr.to_ndarray().reshape(-1) for fr in container.decode(audio=0)])
    return out.astype(np.int16)


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


# --- call metadata -------------------------------------------------------------------------


def load_call_table(path: str | Path) -> dict[str, CallMeta]:
    """Read calls.csv into ``{key: CallMeta}``.

    The file needs a ``call_id`` column; ``agent_id`` becomes the transcript's agent id and
    every other column (agent_name, team, started_at, queue, ...) goes into ``meta``. A
    ``channel`` column (voice / chat / ticket, or 电话 / 在线 / 工单) says how the customer came in;
    rules read it through :attr:`qc.types.Transcript.contact_channel`. Rows
    are found by ``call_id`` (matched against the file stem) or, when present, by a ``file``
    column holding the recording's file name.

    Raises:
        MetadataError: missing file, no call_id column, a duplicated call_id, or an unknown channel.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise MetadataError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        try:
            text = path.read_text(encoding="gb18030")  # Excel on Chinese Windows saves GBK
        except UnicodeDecodeError:
            raise MetadataError(f"{path}: not UTF-8 or GB18030 text; save it as CSV UTF-8") from None
    reader = csv.DictReader(text.splitlines())
    columns = [c.strip() for c in (reader.fieldnames or [])]
    if "call_id" not in columns:
        raise MetadataError(f"{path}:1:1: no 'call_id' column (found: {', '.join(columns) or 'nothing'})")
    table: dict[str, CallMeta] = {}
    for lineno, row in enumerate(reader, start=2):
        extra = [v for v in (row.get(None) or []) if (v or "").strip()]
        if extra:
            log.warning("%s:%d: %d cell(s) beyond the %d header columns dropped (%s); quote cells that contain commas",
                        path, lineno, len(extra), len(columns), ", ".join(repr(v) for v in extra[:3]))
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None}
        call_id = row.get("call_id", "")
        if not call_id:
            raise MetadataError(f"{path}:{lineno}:1: empty call_id")
        meta = {k: v for k, v in row.items() if k not in _KNOWN_COLUMNS and v != ""}
        if "channel" in meta:
            meta["channel"] = _channel(meta["channel"], f"{path}:{lineno}")
        entry = CallMeta(call_id=call_id, agent_id=row.get("agent_id") or None, meta=meta)
        keys = [call_id] + ([row["file"], Path(row["file"]).name, Path(row["file"]).stem] if row.get("file") else [])
        if call_id in table and table[call_id].call_id == call_id:
            raise MetadataError(f"{path}:{lineno}:1: call_id {call_id!r} appears twice")
        for key in keys:
            table[key] = entry
    return table


_CHANNEL_NAMES = {
    "voice": "voice", "phone": "voice", "call": "voice", "电话": "voice", "语音": "voice", "热线": "voice",
    "chat": "chat", "im": "chat", "online": "chat", "web": "chat", "app": "chat", "在线": "chat", "文字": "chat", "聊天": "chat",
    "ticket": "ticket", "email": "ticket", "e-mail": "ticket", "mail": "ticket", "form": "ticket", "工单": "ticket", "邮件": "ticket",
}


def _channel(value: str, where: str) -> str:
    """calls.csv's channel column as voice / chat / ticket (电话, 在线, 工单... accepted)."""
    got = _CHANNEL_NAMES.get(value.strip().lower())
    if got is None:
        raise MetadataError(f"{where}: channel {value!r} is not voice, chat or ticket (电话 / 在线 / 工单 also work)")
    return got


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[A-Za-z_][A-Za-z0-9_]*\})", pattern)
    out, seen = [], set()
    for part in parts:
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            if name in seen:
                raise MetadataError(f"filename pattern {pattern!r}: field {{{name}}} is used twice")
            seen.add(name)
            out.append(f"(?P<{name}>.+?)")
        else:
            out.append(re.escape(part))
    if "call_id" not in seen and "agent_id" not in seen and not seen:
        raise MetadataError(f"filename pattern {pattern!r} has no {{fields}}; e.g. '{{agent_id}}_{{call_id}}.wav'")
    return re.compile("^" + "".join(out) + "$")


def parse_filename(path: str | Path, pattern: str) -> dict[str, str] | None:
    """Match a file name against a pattern such as ``{agent_id}_{call_id}.wav``.

    A pattern without an extension matches the file stem. Returns the fields, or ``None``
    when the name does not fit.
    """
    p = Path(path)
    regex = _pattern_regex(pattern)
    name = p.name if Path(pattern).suffix else p.stem
    m = regex.match(name)
    return m.groupdict() if m else None


def call_metadata(
    path: str | Path,
    table: dict[str, CallMeta] | None = None,
    pattern: str | None = None,
) -> CallMeta:
    """Metadata for one recording: calls.csv row first, then filename pattern, then the stem.

    A file that matches neither keeps its stem as call_id and says so in ``meta['meta_source']``
    so a reviewer can see metadata is missing.
    """
    p = Path(path)
    fields: dict[str, str] = {}
    if pattern:
        fields = parse_filename(p, pattern) or {}
    call_id = fields.get("call_id") or p.stem
    if table:
        row = table.get(p.name) or table.get(str(p)) or table.get(p.stem) or table.get(call_id)
        if row is not None:
            extra = {k: v for k, v in fields.items() if k not in ("call_id", "agent_id")}
            return CallMeta(
                call_id=row.call_id,
                agent_id=row.agent_id or fields.get("agent_id"),
                meta={**extra, **row.meta, "meta_source": "calls.csv"},
            )
    if fields:
        extra = {k: v for k, v in fields.items() if k not in ("call_id", "agent_id")}
        return CallMeta(call_id=call_id, agent_id=fields.get("agent_id"), meta={**extra, "meta_source": "filename"})
    return CallMeta(call_id=p.stem, meta={"meta_source": "none"} if (table or pattern) else {})
