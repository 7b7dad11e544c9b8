"""Voice arousal: loudness, pitch and speech-rate rises against the speaker's own baseline.

Shouting is relative: a loud line from a quiet speaker matters, a loud line from a loud speaker
does not. For each utterance the signal is cut from its channel (stereo: the utterance's
``channel``, else agent = left / customer = right; mono: the one stream), and three features
are measured:

* loudness: RMS in dBFS over the active frames (within 25 dB of the loudest frame);
* pitch: median f0 in semitones over voiced frames (normalised autocorrelation, 70-400 Hz);
* rate: characters per second.

Each becomes a robust z-score (median / MAD, with floors) against the same speaker's other
utterances in the call, and ``arousal = 0.45 z_loud + 0.35 z_pitch + 0.2 z_rate``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from qc.types import Transcript, Utterance

if TYPE_CHECKING:  # pragma: no cover
    from qc.ingest import DecodedAudio

__all__ = ["VoiceFeatures", "utterance_features", "voice_arousal"]

RATE = 16000  # the rate the features are measured at, whatever the recording's own
FRAME_S = 0.04
HOP_S = 0.02
F0_MIN, F0_MAX = 70.0, 400.0
WEIGHTS = {"loudness": 0.45, "pitch": 0.35, "rate": 0.2}
FLOORS = {"loudness": 2.0, "pitch": 1.0, "rate": 0.6}  # dB, semitones, chars/s
MIN_BASELINE = 3  # utterances a speaker needs before z-scores mean anything
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class VoiceFeatures:
    """Raw per-utterance measurements; ``None`` where the segment is too short or unvoiced."""

    loudness_db: float | None
    pitch_st: float | None  # semitones re 100 Hz
    rate_cps: float | None


def _frames(x: np.ndarray, size: int, hop: int) -> np.ndarray:
    if len(x) < size:
        return np.zeros((0, size), dtype=np.float32)
    n = 1 + (len(x) - size) // hop
    return np.lib.stride_tricks.as_strided(x, shape=(n, size), strides=(x.strides[0] * hop, x.strides[0]))


def _segment_features(x: np.ndarray, sr: int, text: str, duration: float) -> VoiceFeatures:
    size, hop = int(FRAME_S * sr), int(HOP_S * sr)
    frames = _frames(np.ascontiguousarray(x, dtype=np.float32), size, hop)
    chars = len(_CJK.findall(text)) or len(text.split())
    rate = chars / duration if duration > 0.3 and chars else None
    if len(frames) < 3:
        return VoiceFeatures(None, None, rate)
    energy = (frames.astype(np.float64) ** 2).mean(axis=1) + 1e-12
    db = 10 * np.log10(energy)
    active = db > max(db.max() - 25.0, -70.0)
    if active.sum() < 2:
        return VoiceFeatures(None, None, rate)
    loud = float(10 * np.log10(energy[active].mean()))
    act = frames[active].astype(np.float64)
    act = act - act.mean(axis=1, keepdims=True)
    lo, hi = int(sr / F0_MAX), min(int(sr / F0_MIN), size - 1)
    nfft = 1 << (size + hi).bit_length()  # long enough that lags up to ``hi`` do not wrap
    spec = np.fft.rfft(act * np.hanning(size), n=nfft)
    ac = np.fft.irfft(np.abs(spec) ** 2, n=nfft)[:, : hi + 1]
    ac /= ac[:, :1] + 1e-12
    lag = lo + ac[:, lo:hi].argmax(axis=1)
    peak = ac[np.arange(len(ac)), lag]
    voiced = peak > 0.45
    pitch = None
    if voiced.sum() >= 2:
        f0 = sr / lag[voiced]
        pitch = float(np.median(12 * np.log2(f0 / 100.0)))
    return VoiceFeatures(loud, pitch, rate)


def _channel_of(u: Utterance, n_channels: int) -> int | None:
    if n_channels < 2:
        return None
    if u.channel is not None and 0 <= u.channel < n_channels:
        return u.channel
    return {"agent": 0, "customer": 1}.get(u.role)


def utterance_features(transcript: Transcript, audio: DecodedAudio) -> list[VoiceFeatures | None]:
    """Measure each timed utterance on its own channel at 16 kHz; ``None`` for untimed ones.

    Only the utterance's own window is read (resampled) from the recording."""
    sr = RATE
    channels = [audio.channel(ch, sr) for ch in range(audio.channels)]
    n = len(channels[0])
    out: list[VoiceFeatures | None] = []
    for u in transcript.utterances:
        if u.start is None or u.end is None or u.end <= u.start:
            out.append(None)
            continue
        ch = _channel_of(u, len(channels))
        a, b = int(u.start * sr), min(int(u.end * sr), n)
        if b - a < int(FRAME_S * sr):
            out.append(None)
            continue
        if ch is None:  # mono, or a stereo utterance of no channel: the channels' mean
            x = channels[0][a:b] if len(channels) == 1 else np.stack([c[a:b] for c in channels]).mean(axis=0)
        else:
            x = channels[ch][a:b]
        out.append(_segment_features(x, sr, u.text, u.end - u.start))
    return out


def _speaker(u: Utterance, n_channels: int) -> str:
    ch = _channel_of(u, n_channels)
    return f"{u.role}/{ch}"


def voice_arousal(transcript: Transcript, audio: DecodedAudio) -> list[float | None]:
    """Per-utterance arousal in z-units against the same speaker's baseline (``None`` if unknown)."""
    feats = utterance_features(transcript, audio)
    n_channels = audio.channels
    speakers: dict[str, list[int]] = {}
    for i, (u, f) in enumerate(zip(transcript.utterances, feats)):
        if f is not None:
            speakers.setdefault(_speaker(u, n_channels), []).append(i)
    arousal: list[float | None] = [None] * len(feats)
    for members in speakers.values():
        if len(members) < MIN_BASELINE:
            continue
        z = np.zeros(len(members))
        weight = np.zeros(len(members))
        for name, attr in (("loudness", "loudness_db"), ("pitch", "pitch_st"), ("rate", "rate_cps")):
            values = np.array([getattr(feats[i], attr) for i in members], dtype=object)
            known = np.array([v is not None for v in values])
            if known.sum() < MIN_BASELINE:
                continue
            vals = values[known].astype(float)
            center = np.median(vals)
            spread = max(1.4826 * np.median(np.abs(vals - center)), FLOORS[name])
            zz = np.clip((vals - center) / spread, -4, 4)
            z[known] += WEIGHTS[name] * zz
            weight[known] += WEIGHTS[name]
        for k, i in enumerate(members):
            if weight[k] > 0:
                arousal[i] = float(z[k] / weight[k])
    return arousal
