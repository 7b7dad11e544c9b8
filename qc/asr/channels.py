"""Which channels of a recording to recognise, at 16 kHz: a 'stereo' file with the same signal
twice is mono, and a channel's faint copy of the other party (line echo) is silenced."""

from __future__ import annotations

import numpy as np

from qc.asr.stream import SAMPLE_RATE, VAD_BLOCK
from qc.ingest import DecodedAudio, Signal


def _to_16k(audio: DecodedAudio) -> list[Signal]:
    """Each channel at 16 kHz, resampled where it is read (the recording is never copied whole)."""
    return [audio.channel(ch, SAMPLE_RATE) for ch in range(audio.channels)]


def _distinct_channels(chans: list[Signal]) -> list[Signal]:
    """Channels to recognise: a 'stereo' file with the same signal twice is mono."""
    if len(chans) != 2 or len(chans[0]) != len(chans[1]):
        return list(chans)
    for a, b in zip(chans[0].chunks(VAD_BLOCK), chans[1].chunks(VAD_BLOCK)):
        if len(a) and np.max(np.abs(a - b)) >= 1e-3:
            return list(chans)
    return [chans[0]]


def _gate_bleed(chans: list[Signal], ratio: float = 0.1, frame: int = 320) -> list[Signal]:
    """Silence a channel where it is >20 dB below another one: line echo / crosstalk, not speech.

    Telephone stereo recordings often carry a faint copy of the other party (hybrid echo).
    Whisper would transcribe it as the wrong speaker; a double-talk customer is far louder
    than an echo, so this keeps real overlaps.
    """
    if len(chans) < 2:
        return chans
    n = min(len(c) for c in chans) // frame * frame
    if n == 0:
        return chans
    rms = np.stack([_frame_rms(c, n, frame) for c in chans])
    out = []
    for i, c in enumerate(chans):
        others = np.delete(rms, i, axis=0).max(axis=0)
        quiet = (rms[i] < ratio * others) & (others > 1e-3)
        # widen by one frame each side so the edges of an echo go too
        quiet = quiet | np.r_[quiet[1:], False] | np.r_[False, quiet[:-1]]
        if not quiet.any():
            out.append(c)
            continue
        out.append(c.with_muted(quiet, frame))
    return out


def _frame_rms(x: Signal, n: int, frame: int) -> np.ndarray:
    """RMS of each ``frame`` samples of the first ``n``, read block by block."""
    parts, pos = [], 0
    for block in x.chunks(VAD_BLOCK - VAD_BLOCK % frame):
        k = min(len(block), n - pos) // frame * frame
        if k <= 0:
            break
        parts.append(np.sqrt(np.mean(block[:k].reshape(-1, frame) ** 2, axis=1)))
        pos += k
    return np.concatenate(parts)
