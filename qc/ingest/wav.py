"""A PCM 16-bit or G.711 (A-law, μ-law) wav read from its file where its samples are needed, never
held in memory: the layout from the header, G.711 decoded through FFmpeg's own 256-entry table."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Iterable

import numpy as np

__all__ = ["WavSamples"]


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
