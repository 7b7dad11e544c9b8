"""Risk cues and complaint analysis (type and priority), each with evidence.

Risk cues come from one table (:data:`qc.emotion.lexicon.RISK_CUES` and friends), read through
:func:`risk_cues`. The rules (``rules/risk.yaml``, condition ``risk_cue``) are the one risk
detector: their RISK01-05 findings are the call's risk flags, which the queue and the reports
read. The complaint grade here asks the same function which kinds the customer raised:

1. exact phrases on the normalised text (digit cues such as 12345 never inside a longer number);
2. tagged accounts (``@人民日报``, ``@12315消费者维权``) classified by their name;
3. for the cues in :data:`~qc.emotion.lexicon.RISK_SOUND`, toneless pinyin, so ASR homophones
   still fire (工信部 heard as 公信不), but only where the sound-alike span starts and ends on a
   jieba word boundary and is not itself a dictionary word: 「转发原」 is not 法院, 「还没起床」 not
   煤气, 「重度用户」 not 中毒. jieba is loaded only when a sound-alike candidate appears.

Only the customer's (or an unknown speaker's) lines raise risks: an agent reading out 12315 is
not a threat.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import qc.emotion.lexicon as lexicon
from qc.normalize import normalize, normalize_text, pinyin, to_simplified
from qc.types import Complaint, Evidence, RiskFlag, Transcript

__all__ = ["RISK_KINDS", "PRIORITIES", "RiskCue", "risk_cues", "complaint_cues", "complaint_matcher", "classify_complaint"]

RISK_KINDS = ("media", "regulator", "lawyer", "privacy", "safety")
PRIORITIES = ("紧急危机", "高度紧急", "重要非紧急", "一般")

_DISMISS = ("不会", "不用", "没必要", "不打算", "没打算", "不想")
_FULLWIDTH = str.maketrans({chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)})
_QUOTED = re.compile(r"//\s*[@＠][^:：\s]*(客服|官方|官微)[^:：\s]*[:：]")
_HANDLE = re.compile(r"[@＠]([^\s@＠:：,，.。!！?？;；、()（）\[\]【】#\"“”'‘’<>《》/|]+)")


@dataclass(frozen=True)
class RiskCue:
    """One risk cue found in a line: ``cue`` is the lexicon phrase (or the @account's name),
    ``span`` its characters in the original text, ``how`` "text", "sound" or "account"."""

    kind: str
    cue: str
    span: tuple[int, int]
    how: str


def _fold(text: str) -> str:
    """Same length as ``text`` so positions stay valid for evidence spans."""
    simple = to_simplified(text)
    folded = (simple if len(simple) == len(text) else text).translate(_FULLWIDTH)
    return folded.lower() if len(folded.lower()) == len(folded) else folded


@lru_cache(maxsize=1)
def _tables():
    by_norm: dict[str, tuple[str, str]] = {}
    for kind in RISK_KINDS:
        for cue in lexicon.RISK_CUES[kind]:
            by_norm.setdefault(normalize_text(cue), (kind, cue))
    parts = []
    for n in sorted(by_norm, key=len, reverse=True):
        parts.append(f"(?<!\\d){re.escape(n)}(?!\\d)" if n[0].isdigit() or n[-1].isdigit() else re.escape(n))
    text_rx = re.compile("|".join(parts))
    by_sound: dict[str, tuple[str, str]] = {}
    for n, (kind, cue) in by_norm.items():
        if cue in lexicon.RISK_SOUND:
            by_sound.setdefault(" " + " ".join(pinyin(n)) + " ", (kind, cue))
    # sound-alike candidates by their first two syllables, longest first: a line is checked only
    # where two consecutive syllables start some cue (no regex over every line's pinyin)
    sound_rx: dict[tuple[str, str], list[tuple[tuple[str, ...], str, str]]] = {}
    for key, (kind, cue) in sorted(by_sound.items(), key=lambda kv: -len(kv[0])):
        syl = tuple(key.split())
        sound_rx.setdefault(syl[:2], []).append((syl, kind, cue))
    unless_kind = {kind: tuple(normalize_text(p) for p in lexicon.RISK_UNLESS_IN.get(kind, ())) for kind in RISK_KINDS}
    # per cue, only the longer phrases that contain it (almost always none: no search at all)
    unless: dict[str, tuple[str, ...]] = {}
    for n, (kind, cue) in by_norm.items():
        unless[cue] = tuple(u for u in unless_kind[kind] if n in u)
    for key, (kind, cue) in by_sound.items():
        unless.setdefault(cue, tuple(u for u in unless_kind[kind] if normalize_text(cue) in u))
    handles = [(kind, tuple(w.lower() for w in lexicon.RISK_HANDLES[kind])) for kind in ("regulator", "media")]
    names_only = {kind: frozenset(lexicon.RISK_NAMES_ONLY.get(kind, ())) for kind in RISK_KINDS}
    context = {kind: tuple(filter(None, map(normalize_text, lexicon.RISK_CONTEXT.get(kind, ())))) for kind in RISK_KINDS}
    context["media"] = lexicon.RISK_CONTEXT["media"]  # read on the raw line: question marks count
    not_after = {kind: tuple(filter(None, map(normalize_text, lexicon.RISK_NOT_AFTER.get(kind, ())))) for kind in RISK_KINDS}
    return by_norm, text_rx, by_sound, sound_rx, unless, handles, names_only, context, not_after


class _Syllables(dict):
    """Character -> toneless syllable (qc.normalize.pinyin of one character) as a plain dict: one
    lookup per character is the hot path of the sound-alike search."""

    def __missing__(self, ch: str) -> str:
        v = self[ch] = pinyin(ch)[0]
        return v


_SYLLABLE = _Syllables()


@lru_cache(maxsize=16384)
def _word_bounds(norm: str) -> tuple[frozenset[int], dict[tuple[int, int], str]]:
    """Word boundaries of ``norm`` (jieba, dictionary only) and its tokens by span; cached per text."""
    from qc.emotion.features import _jieba

    bounds, tokens, pos = {0}, {}, 0
    for w in _jieba().cut(norm, HMM=False):
        tokens[(pos, pos + len(w))] = w
        pos += len(w)
        bounds.add(pos)
    return frozenset(bounds), tokens


def _is_word(w: str) -> bool:
    from qc.emotion.features import _jieba

    return len(w) > 1 and _jieba().dt.FREQ.get(w, 0) > 0


def _inside(text: str, s: int, e: int, containers: tuple[str, ...]) -> bool:
    for c in containers:
        k = text.find(c, max(0, s - len(c)))
        while 0 <= k <= s:
            if k + len(c) >= e:
                return True
            k = text.find(c, k + 1)
    return False


def _dismissed(norm: str, s: int) -> bool:
    before = norm[max(0, s - 5):s]
    return any(d in before for d in _DISMISS)


def _near(norm: str, s: int, e: int, words: tuple[str, ...], after: bool = True) -> bool:
    w = lexicon.RISK_CONTEXT_WINDOW if after else lexicon.RISK_NOT_AFTER_WINDOW
    before, behind = norm[max(0, s - w):s], norm[e:e + w] if after else ""
    return any(x in before or x in behind for x in words)


def _complains(text: str, outside: list[tuple[int, int]]) -> bool:
    """A complaint cue in ``text`` that is not inside one of the ``outside`` spans (the risk cue
    itself, tagged accounts: 「@315在线投诉」 is a name, not a complaint)."""
    if any(not any(a <= s and e <= b for a, b in outside) for _c, (s, e) in complaint_cues(text)):
        return True
    words = _tables()[7]["media"]
    for a, b in sorted(outside, reverse=True):
        text = text[:a] + " " + text[b:]
    return any(w in text for w in words)


def _quoted_from(text: str) -> int:
    """Where a reposted reply of a service account starts (Weibo's 「//@某某客服:…」): the
    company's own words quoted back are not the customer's report."""
    m = _QUOTED.search(text)
    return m.start() if m else len(text)


@lru_cache(maxsize=16384)
def risk_cues(text: str) -> tuple[RiskCue, ...]:
    """Every risk cue in one line of text, in order (cached per text: short lines recur).

    Exact phrases first; a sound-alike only where no exact cue covers those characters and the
    span sits on jieba word boundaries without being a dictionary word of its own.
    """
    by_norm, text_rx, by_sound, sound_rx, unless, handles, names_only, context, not_after = _tables()
    nt = normalize(text)
    norm = nt.text
    found: list[RiskCue] = []
    taken = [False] * len(norm)

    def keep(kind: str, cue: str, s: int, e: int, how: str) -> None:
        if any(taken[s:e]) or (unless[cue] and _inside(norm, s, e, unless[cue])) or _dismissed(norm, s):
            return
        if not_after[kind] and _near(norm, s, e, not_after[kind], after=False):
            return
        if cue in names_only[kind]:
            if kind == "media":
                if not _complains(text, [nt.original_span(s, e), *(m.span() for m in _HANDLE.finditer(text))]):
                    return
            elif not _near(norm, s, e, context[kind]):
                return
        for k in range(s, e):
            taken[k] = True
        found.append(RiskCue(kind, cue, nt.original_span(s, e), how))

    for m in text_rx.finditer(norm):
        kind, cue = by_norm[m.group(0)]
        keep(kind, cue, m.start(), m.end(), "text")
    if sound_rx and any("\u4e00" <= ch <= "\u9fff" for ch in norm):
        table = _SYLLABLE
        syl = [table[ch] for ch in norm]
        for s in range(len(syl) - 1):
            cands = sound_rx.get((syl[s], syl[s + 1]))
            if not cands:
                continue
            for sy, kind, cue in cands:
                e = s + len(sy)
                if tuple(syl[s:e]) == sy:
                    break
            else:
                continue
            if any(taken[s:e]):
                continue
            bounds, tokens = _word_bounds(norm)
            if s not in bounds or e not in bounds:
                continue
            word = tokens.get((s, e))
            if word is not None and _is_word(word):
                continue  # a correctly written word that merely sounds like the cue (重度 ~ 中毒)
            keep(kind, cue, s, e, "sound")
    accounts = []
    tags = [m.span() for m in _HANDLE.finditer(text)]
    media_context: bool | None = None
    for m in _HANDLE.finditer(text):
        name = to_simplified(m.group(1)).lower()
        for kind, words in handles:
            if any(w in name for w in words) and not any(u in name for u in lexicon.RISK_UNLESS_IN.get(kind, ())):
                if kind == "media":
                    if media_context is None:
                        media_context = _complains(text, tags)
                    if not media_context:
                        break
                accounts.append(RiskCue(kind, m.group(1), m.span(), "account"))
                break
    if accounts:  # a cue inside a tagged account's name is that account
        found = [c for c in found if not any(a.span[0] <= c.span[0] and c.span[1] <= a.span[1] for a in accounts)]
    quoted = _quoted_from(text)
    found = [c for c in found if c.span[0] < quoted]  # (tags at the end are the poster's own)
    return tuple(sorted(found + accounts, key=lambda c: c.span))


@lru_cache(maxsize=1)
def _complaint_tables():
    cues = {normalize_text(c): c for c in lexicon.COMPLAINT_CUES}
    rx = re.compile("|".join(re.escape(n) for n in sorted(cues, key=len, reverse=True)))
    unless_all = tuple(normalize_text(p) for p in lexicon.COMPLAINT_UNLESS_IN)
    return cues, rx, {n: tuple(u for u in unless_all if n in u) for n in cues}


def complaint_matcher():
    """(regex over normalised text, cue -> the longer phrases that cancel it, containment test):
    what :func:`complaint_cues` uses, for the rule condition's one search over a whole call."""
    _cues, rx, unless = _complaint_tables()
    return rx, unless, _inside


@lru_cache(maxsize=16384)
def complaint_cues(text: str) -> tuple[tuple[str, tuple[int, int]], ...]:
    """The complaint cues (:data:`qc.emotion.lexicon.COMPLAINT_CUES`) in one line, as
    ``(cue, span in the original text)``, in order; the trigger of EMPA01 and of the emotion
    stage's complaint. Cached per text."""
    cues, rx, unless = _complaint_tables()
    nt = normalize(text)
    out = []
    for m in rx.finditer(nt.text):
        holders = unless[m.group(0)]
        if not holders or not _inside(nt.text, m.start(), m.end(), holders):
            out.append((cues[m.group(0)], nt.original_span(m.start(), m.end())))
    return tuple(out)


def _evidence(transcript: Transcript, i: int, span: tuple[int, int] | None = None) -> Evidence:
    u = transcript.utterances[i]
    return Evidence(utterance=i, role=u.role, start=u.start, end=u.end, text=u.text, span=span)


def _customer_risks(transcript: Transcript) -> list[RiskFlag]:
    # the kinds the customer's lines raise, one per line and kind (what RISK01-05 find), for the grade
    flags: list[RiskFlag] = []
    for i, u in enumerate(transcript.utterances):
        if u.role == "agent":
            continue
        first: dict[str, RiskCue] = {}
        for c in risk_cues(u.text):
            first.setdefault(c.kind, c)
        for kind in RISK_KINDS:
            if kind in first:
                flags.append(RiskFlag(kind=kind, evidence=_evidence(transcript, i, first[kind].span)))
    return flags


def classify_complaint(transcript: Transcript, negativity: list[float], customer_peak: float) -> Complaint | None:
    """Type and priority of the customer's complaint, or ``None`` when the call holds none.

    A call holds a complaint when a customer line has a complaint cue (:func:`complaint_cues`, the
    list EMPA01 triggers on) or the customer raises a risk; the text model's negativity alone does
    not make one (a customer describing a fault reads as negative). The type is the category whose
    cue words weigh most in the customer's lines (each hit weighted by that line's negativity);
    service when no category cue appears.
    """
    risks = _customer_risks(transcript)
    customer = [i for i, u in enumerate(transcript.utterances) if u.role != "agent"]
    complained = [i for i in customer if complaint_cues(transcript.utterances[i].text)]
    if not complained and not risks:
        return None
    weights = {t: 0.0 for t in lexicon.COMPLAINT_TYPES}
    where: dict[str, list[Evidence]] = {t: [] for t in lexicon.COMPLAINT_TYPES}
    for i in customer:
        text = _HANDLE.sub(lambda m: " " * len(m.group(0)), transcript.utterances[i].text)
        weight = (0.5 + negativity[i]) * (2.0 if i in complained else 1.0)
        for kind, cues in lexicon.COMPLAINT_TYPES.items():
            hits = _matches_text(text, cues)
            if hits:
                weights[kind] += len(hits) * weight
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
    elif ctype == "process":
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
