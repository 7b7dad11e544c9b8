"""Recognised segments to utterances: a segment cut at long pauses, consecutive utterances of
one speaker joined across short ones, and an utterance heard again, fainter, on the other
channel dropped."""

from __future__ import annotations

import numpy as np

from qc.asr.guard import RawSegment, tidy_text
from qc.asr.stream import SAMPLE_RATE
from qc.types import Utterance, Word


def _speech_behind(seg: RawSegment, speech: list[tuple[float, float]], share: float = 0.5) -> bool:
    """True when the VAD heard speech under at least ``share`` of the segment's time."""
    a, b = seg.start, max(seg.end, seg.start + 0.05)
    heard = sum(max(0.0, min(b, e) - max(a, s)) for s, e in speech)
    return heard >= share * (b - a)


def _split_at_pauses(seg: RawSegment, gap: float) -> list[RawSegment]:
    """VAD glues speech chunks together, so one segment can span a long pause: cut it there."""
    if len(seg.words) < 2:
        return [seg]
    pieces, current = [], [seg.words[0]]
    for w in seg.words[1:]:
        if w.start - current[-1].end > gap:
            pieces.append(current)
            current = []
        current.append(w)
    pieces.append(current)
    if len(pieces) == 1:
        return [seg]
    return [
        RawSegment(ws[0].start, ws[-1].end, tidy_text("".join(w.text for w in ws)), ws,
                   seg.avg_logprob, seg.no_speech_prob, seg.compression_ratio)
        for ws in pieces
        if "".join(w.text for w in ws).strip()
    ]


def _utterance(seg: RawSegment, channel: int | None, role: str) -> Utterance:
    words = [Word(round(w.start, 2), round(w.end, 2), w.text, round(float(w.probability), 4)) for w in seg.words]
    if words:
        confidence = float(np.mean([w.probability for w in words]))
        start, end = words[0].start, words[-1].end
    else:
        confidence = float(np.exp(min(seg.avg_logprob, 0.0)))
        start, end = seg.start, seg.end
    return Utterance(
        role=role,
        text=seg.text.strip(),
        start=round(max(start, 0.0), 2),
        end=round(max(end, start), 2),
        confidence=round(min(max(confidence, 0.0), 1.0), 4),
        channel=channel,
        words=words,
    )


def _concat(a: str, b: str) -> str:
    if a and b and a[-1].isascii() and a[-1].isalnum() and b[0].isascii() and b[0].isalnum():
        return f"{a} {b}"
    return a + b


def _join_turns(utts: list[Utterance], gap: float) -> list[Utterance]:
    """Join consecutive utterances of one speaker separated by less than ``gap`` seconds."""
    out: list[Utterance] = []
    for u in utts:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.channel == u.channel
            and prev.role == u.role
            and prev.end is not None
            and u.start is not None
            and u.start - prev.end <= gap
        ):
            n1, n2 = max(len(prev.words), 1), max(len(u.words), 1)
            prev.confidence = round(((prev.confidence or 0) * n1 + (u.confidence or 0) * n2) / (n1 + n2), 4)
            prev.text = _concat(prev.text, u.text)
            prev.end = max(prev.end, u.end or prev.end)
            prev.words.extend(u.words)
        else:
            out.append(u)
    return out


def _drop_crosstalk(utts: list[Utterance], channels: list[np.ndarray]) -> list[Utterance]:
    """Drop an utterance heard again, fainter, on the other channel (line echo / bleed)."""
    from rapidfuzz import fuzz

    def level(u: Utterance) -> float:
        x = channels[u.channel or 0][int((u.start or 0) * SAMPLE_RATE): int((u.end or 0) * SAMPLE_RATE) + 1]
        return float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) if len(x) else 0.0

    drop: set[int] = set()
    for i, a in enumerate(utts):
        for j in range(i + 1, len(utts)):
            b = utts[j]
            if a.channel == b.channel or i in drop or j in drop:
                continue
            overlap = min(a.end or 0, b.end or 0) - max(a.start or 0, b.start or 0)
            shorter = min((a.end or 0) - (a.start or 0), (b.end or 0) - (b.start or 0))
            if shorter <= 0 or overlap < 0.5 * shorter:
                continue
            if fuzz.ratio(a.text, b.text) >= 75:
                drop.add(j if level(a) >= level(b) else i)
    return [u for k, u in enumerate(utts) if k not in drop]
