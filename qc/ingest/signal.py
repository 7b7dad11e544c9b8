"""One channel of a decoded recording at 16 kHz, resampled only where it is read (a window or a
stream of chunks) with one FFmpeg resampler: every sample equals a whole-file resample's."""

from __future__ import annotations

from typing import Iterable

import numpy as np

__all__ = ["Signal"]


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
