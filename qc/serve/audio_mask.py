"""Personal numbers in the recording: the seconds where they are spoken, replaced by a tone.

The spans come from the transcript: :func:`qc.report.redact.find_numbers` finds ID-card, phone and
bank-card numbers in each utterance's text, and the utterance's word times place them in the
audio (without word times the whole utterance is masked). The masked copy is 16 kHz 16-bit PCM
WAV, made once per recording and kept in a cache folder; the original is never changed.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import wave
from pathlib import Path

from qc.report.redact import find_numbers
from qc.types import Transcript

__all__ = ["masked_spans", "masked_copy", "TONE_HZ"]

TONE_HZ = 1000.0
_PAD = 0.15  # seconds added on both sides: word times are approximate
_RATE = 16000


def _word_span(u, start: int, end: int) -> tuple[float, float] | None:
    """Times of the words that cover characters ``start:end`` of the utterance text, if the words spell it."""
    if not u.words:
        return None
    text = u.text
    pos, hits = 0, []
    for w in u.words:
        token = w.text.strip()
        if not token:
            continue
        at = text.find(token, pos)
        if at < 0:
            return None  # words and text disagree: fall back to the whole utterance
        if at < end and at + len(token) > start:
            hits.append(w)
        pos = at + len(token)
    if not hits:
        return None
    return min(w.start for w in hits), max(w.end for w in hits)


def masked_spans(transcript: Transcript) -> list[tuple[float, float]]:
    """Seconds ``(start, end)`` of the call where a personal number is spoken, merged and padded."""
    spans: list[tuple[float, float]] = []
    for u in transcript.utterances:
        numbers = find_numbers(u.text)
        if not numbers or u.start is None:
            continue
        for start, end, _ in numbers:
            span = _word_span(u, start, end) or (u.start, u.end if u.end is not None else u.start + 10.0)
            spans.append((max(0.0, span[0] - _PAD), span[1] + _PAD))
    spans.sort()
    merged: list[tuple[float, float]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def masked_copy(source: Path, spans: list[tuple[float, float]], cache_dir: Path) -> Path:
    """A WAV copy of ``source`` with a tone over ``spans`` (made on first use, then reused)."""
    import numpy as np

    from qc.ingest import decode_audio

    st = source.stat()
    key = hashlib.sha256(f"{source}|{st.st_size}|{st.st_mtime_ns}|{spans}".encode()).hexdigest()[:24]
    dest = cache_dir / f"{key}.wav"
    if dest.exists():
        return dest
    audio = decode_audio(source, sample_rate=_RATE)
    samples = audio.samples.copy()
    n = samples.shape[1]
    for s, e in spans:
        a, b = max(0, int(s * _RATE)), min(n, int(e * _RATE))
        if b > a:
            t = np.arange(a, b) / _RATE
            samples[:, a:b] = 0.2 * np.sin(2 * np.pi * TONE_HZ * t)
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").T.copy()
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".wav", dir=cache_dir)
    os.close(fd)
    with wave.open(tmp, "wb") as w:
        w.setnchannels(samples.shape[0])
        w.setsampwidth(2)
        w.setframerate(_RATE)
        w.writeframes(pcm.tobytes())
    os.replace(tmp, dest)
    return dest
