"""Escalation risk flags and complaint analysis (type and priority), each with evidence.

Risk cues are matched on the text and, for cues of two or more Chinese characters, on toneless
pinyin too, so ASR homophones still fire (工信部 heard as 公信不, 曝光 written 暴光). Only the
customer's (or an unknown speaker's) lines raise risks: an agent reading out 12315 is not a
threat.
"""

from __future__ import annotations

import re
from functools import lru_cache

from qc.emotion import lexicon
from qc.normalize import to_simplified
from qc.types import Complaint, Evidence, RiskFlag, Transcript

__all__ = ["RISK_KINDS", "PRIORITIES", "find_risks", "classify_complaint"]

RISK_KINDS = ("media", "regulator", "lawyer", "privacy", "safety")
PRIORITIES = ("紧急危机", "高度紧急", "重要非紧急", "一般")

# Two-character cues whose pinyin is also an everyday word (记者 ~ 记着): text match only.
_TEXT_ONLY = {"记者", "新闻", "头条", "冒名", "电到", "伤到", "砸到", "炸了", "住院", "燃气", "过敏", "告到"}
_DISMISS = ("不会", "不用", "没必要", "不打算", "没打算", "不想")
_FULLWIDTH = str.maketrans({chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)})
_HAN = re.compile(r"[\u4e00-\u9fff]")


def _fold(text: str) -> str:
    """Same length as ``text`` so positions stay valid for evidence spans."""
    simple = to_simplified(text)
    folded = (simple if len(simple) == len(text) else text).translate(_FULLWIDTH)
    return folded.lower() if len(folded.lower()) == len(folded) else folded


def _syllables(text: str) -> list[str]:
    from pypinyin import lazy_pinyin

    syl = lazy_pinyin(text, errors=lambda s: list(s))
    return syl if len(syl) == len(text) else [lazy_pinyin(ch, errors=lambda s: list(s))[0] for ch in text]


@lru_cache(maxsize=None)
def _cue_syllables(cue: str) -> tuple[str, ...] | None:
    if len(_HAN.findall(cue)) < 2 or len(_HAN.findall(cue)) != len(cue) or cue in _TEXT_ONLY:
        return None
    return tuple(_syllables(cue))


def _matches(text: str, cues: tuple[str, ...]) -> list[tuple[str, int, int]]:
    """(cue, start, end) for each cue found in ``text``, by characters or by pinyin."""
    folded = _fold(text)
    found: list[tuple[str, int, int]] = []
    taken = [False] * len(text)
    syl: list[str] | None = None
    for cue in sorted(cues, key=len, reverse=True):
        starts = []
        i = folded.find(cue)
        while i >= 0:
            starts.append(i)
            i = folded.find(cue, i + 1)
        key = _cue_syllables(cue)
        if key is not None:
            if syl is None:
                syl = _syllables(folded)
            n = len(key)
            starts += [i for i in range(len(syl) - n + 1) if tuple(syl[i : i + n]) == key and i not in starts]
        for s in sorted(starts):
            e = s + len(cue)
            if any(taken[s:e]) or any(d in folded[max(0, s - 5) : s] for d in _DISMISS):
                continue
            for k in range(s, e):
                taken[k] = True
            found.append((cue, s, e))
    return found


def _evidence(transcript: Transcript, i: int, span: tuple[int, int] | None = None) -> Evidence:
    u = transcript.utterances[i]
    return Evidence(utterance=i, role=u.role, start=u.start, end=u.end, text=u.text, span=span)


def find_risks(transcript: Transcript) -> list[RiskFlag]:
    """Risk flags (media, regulator, lawyer, privacy, safety) raised by the customer's lines."""
    flags: list[RiskFlag] = []
    for i, u in enumerate(transcript.utterances):
        if u.role == "agent":
            continue
        for kind in RISK_KINDS:
            hits = _matches(u.text, lexicon.RISK_CUES[kind])
            if hits:
                _cue, s, e = min(hits, key=lambda h: h[1])
                flags.append(RiskFlag(kind=kind, evidence=_evidence(transcript, i, (s, e))))
    return flags


def classify_complaint(transcript: Transcript, negativity: list[float], risks: list[RiskFlag],
                       customer_peak: float) -> Complaint | None:
    """Type and priority of the customer's complaint, or ``None`` when the call holds none.

    A call holds a complaint when the customer is clearly negative (peak >= 0.6), says 投诉, or
    raises a risk. The type is the category whose cue words weigh most in the customer's lines
    (each hit weighted by that line's negativity); service when no category cue appears.
    """
    customer = [i for i, u in enumerate(transcript.utterances) if u.role != "agent"]
    mentions = any("投诉" in transcript.utterances[i].text for i in customer)
    if customer_peak < 0.6 and not mentions and not risks:
        return None
    weights = {t: 0.0 for t in lexicon.COMPLAINT_TYPES}
    where: dict[str, list[Evidence]] = {t: [] for t in lexicon.COMPLAINT_TYPES}
    for i in customer:
        text = transcript.utterances[i].text
        for kind, cues in lexicon.COMPLAINT_TYPES.items():
            hits = [(c, s, e) for c, s, e in _matches_text(text, cues)]
            if hits:
                weights[kind] += len(hits) * (0.5 + negativity[i])
                where[kind].append(_evidence(transcript, i, (hits[0][1], hits[0][2])))
    if any(r.kind == "safety" for r in risks):  # a hazard is a product fault unless told otherwise
        weights["product"] += 1.0
    best = max(weights, key=lambda k: weights[k])
    ctype = best if weights[best] > 0 else "service"
    kinds = {r.kind for r in risks}
    serious = [(i, h) for i in customer for h in _matches_text(transcript.utterances[i].text, lexicon.SERIOUS_QUALITY)]
    if kinds & {"safety", "media"}:
        priority = "紧急危机"
    elif serious or kinds & {"regulator", "lawyer", "privacy"} or (ctype == "product" and customer_peak >= 0.85):
        priority = "高度紧急"
    elif ctype == "process" or weights["process"] > 0:
        priority = "重要非紧急"
    else:
        priority = "一般"
    evidence = [r.evidence for r in risks if r.kind in {"safety", "media"}]
    evidence += [_evidence(transcript, i, (s, e)) for i, (_c, s, e) in serious[:2]]
    evidence += where[ctype][:3]
    if not evidence:
        peak_i = max(customer, key=lambda i: negativity[i]) if customer else None
        if peak_i is not None:
            evidence.append(_evidence(transcript, peak_i))
    return Complaint(type=ctype, priority=priority, evidence=evidence)


def _matches_text(text: str, cues: tuple[str, ...]) -> list[tuple[str, int, int]]:
    folded = _fold(text)
    out, taken = [], [False] * len(text)
    for cue in sorted(cues, key=len, reverse=True):
        i = folded.find(cue)
        while i >= 0:
            if not any(taken[i : i + len(cue)]):
                for k in range(i, i + len(cue)):
                    taken[k] = True
                out.append((cue, i, i + len(cue)))
            i = folded.find(cue, i + 1)
    return out
