"""Mask personal data in text shown to people or kept for trends.

Masked: mainland ID-card numbers (18 digits, the last may be X; old 15-digit ones), mobile
numbers (11 digits starting 13-19), landlines with an area code (0 + 9-11 digits), bank-card
numbers (16-19 digits), and street addresses. Numbers count however they were written: Arabic
or full-width digits, or read out digit by digit in Chinese (幺三八, 洞/零/〇 for zero, 两 for
two), with up to three spaces, dashes, commas (，, 、) or dots between groups. Each digit is
replaced by ``*`` in place (the text keeps its length, so evidence spans still point at the
right characters); a few digits stay visible so that a reviewer can tell numbers apart: phones
keep the first 3 and last 4, bank cards the last 4, ID cards the first 2 and last 2.

An address is a run of at least two of province/city/district/road/number/estate/building/unit/
room parts with at least one below the district (北京市朝阳区建国路88号3号楼2单元501室): every
character from the district on becomes ``*`` (province and city stay, as a region).

Transcripts on disk (calls/*.json, the transcript cache) keep the raw text: reports, exports,
the history database, terminal output and logs apply :func:`redact_text` (docs/security.md).
"""

from __future__ import annotations

import dataclasses
import logging
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qc.run.store import CallResult
    from qc.types import AgentScorecard, Evidence

__all__ = [
    "DIGIT_CHARS", "redact_text", "redact_data", "find_numbers", "find_addresses", "RedactingFilter", "redact_logs", "redact_result",
    "redact_card",
]

#: characters read as one digit each
DIGIT_CHARS: dict[str, str] = {
    **{str(i): str(i) for i in range(10)},
    **{chr(0xFF10 + i): str(i) for i in range(10)},  # full-width ０-９
    "零": "0", "〇": "0", "○": "0", "洞": "0",
    "一": "1", "幺": "1", "壹": "1",
    "二": "2", "两": "2", "贰": "2",
    "三": "3", "叁": "3",
    "四": "4", "肆": "4",
    "五": "5", "伍": "5",
    "六": "6", "陆": "6",
    "七": "7", "柒": "7", "拐": "7",
    "八": "8", "捌": "8",
    "九": "9", "玖": "9", "勾": "9",
}
_DIGITS = "".join(sorted(DIGIT_CHARS))
_SEP = " \t\u3000-—_.·，,、"
# a run of digit characters (plus a trailing X for ID cards) with up to 3 separators between groups
_RUN = re.compile(f"[{re.escape(_DIGITS)}](?:[{re.escape(_SEP)}]{{0,3}}[{re.escape(_DIGITS)}])*(?:[xX×])?")
_GROUP = re.compile(f"[{re.escape(_DIGITS)}]+(?:[xX×](?![{re.escape(_DIGITS)}]))?")
_MOBILE = re.compile(r"(?:86)?1[3-9]\d{9}")
_LANDLINE = re.compile(r"0\d{9,11}")


def _kind(digits: str, has_x: bool) -> str | None:
    n = len(digits)
    if has_x:
        return "id" if n == 17 else None
    if n == 18 or (n == 15 and digits[0] != "0" and not _MOBILE.fullmatch(digits)):
        return "id"
    if _MOBILE.fullmatch(digits):
        return "phone"
    if 16 <= n <= 19:
        return "bank"
    if _LANDLINE.fullmatch(digits):
        return "phone"
    return None


_KEEP = {"phone": (3, 4), "bank": (0, 4), "id": (2, 2)}


def find_numbers(text: str) -> list[tuple[int, int, str]]:
    """Personal numbers in ``text`` as ``(start, end, kind)``; kind is "id", "phone" or "bank".

    A run of digit groups is tried whole first, then as its longest sub-runs of whole groups, so
    "13800138000，一个小时后" still finds the phone number.
    """
    out = []
    for m in _RUN.finditer(text):
        # Chinese digit characters are ordinary words too (一个, 三天): only long runs count
        groups = [(g.start() + m.start(), g.end() + m.start(), g.group(0)) for g in _GROUP.finditer(m.group(0))]
        i = 0
        while i < len(groups):
            for j in range(len(groups) - 1, i - 1, -1):
                part = groups[i: j + 1]
                has_x = part[-1][2][-1] in "xX×"
                digits = "".join(DIGIT_CHARS[c] for _, _, g in part for c in g if c in DIGIT_CHARS)
                kind = _kind(digits, has_x)
                end = part[-1][1]
                if kind is None and has_x:
                    kind, end = _kind(digits, False), end - 1
                if kind is not None:
                    out.append((part[0][0], end, kind))
                    i = j + 1
                    break
            else:
                i += 1
    return out


_N = "[0-9０-９零一二三四五六七八九十百千幺两〇]"
# a place name: word characters, not the function words that start a sentence (我住在…)
_NAME = "[^\\W_的了在住是我们你他她家到从去和跟给就还也都要想请那这个吗呢吧啊嗯哦址寄送收]"
_ADDRESS = re.compile(
    f"(?P<prov>{_NAME}{{2,6}}?(?:省|自治区|特别行政区))?"
    f"(?P<city>{_NAME}{{1,6}}?(?:市|自治州|盟))?"
    f"(?P<dist>{_NAME}{{1,6}}?(?:区|县|旗|镇|乡))?"
    f"(?P<road>{_NAME}{{1,10}}?(?:大道|大街|路|街|巷|胡同)(?:{_N}{{1,3}}段)?)?"
    f"(?P<num>{_N}{{1,6}}(?:号院|号楼|号|弄))?"
    f"(?P<estate>{_NAME}{{2,10}}?(?:小区|花园|公寓|大厦|家园|新村|苑))?"
    f"(?P<bld>{_N}{{1,4}}(?:号楼|栋|幢|座))?"
    f"(?P<unit>{_N}{{1,3}}单元)?"
    f"(?P<room>{_N}{{2,5}}(?:室|房)?)?"
)
_DETAIL = ("road", "num", "estate", "bld", "unit", "room")


def find_addresses(text: str) -> list[tuple[int, int]]:
    """Street addresses in ``text`` as ``(start, end)`` of the part to mask (district and below)."""
    out = []
    for m in _ADDRESS.finditer(text):
        if m.end() == m.start():
            continue
        parts = [k for k, v in m.groupdict().items() if v]
        detail = [k for k in parts if k in _DETAIL]
        if len(parts) < 2 or not detail or parts == ["num", "room"] or parts == ["city", "num"]:
            continue
        first = next(k for k in ("dist",) + _DETAIL if m.group(k))
        out.append((m.start(first), m.end()))
    return out


def redact_text(text: str) -> str:
    """Return ``text`` with ID-card, phone and bank-card numbers and addresses masked (same length)."""
    if not text:
        return text
    addresses = find_addresses(text)
    found = find_numbers(text)
    if not found and not addresses:
        return text
    chars = list(text)
    for start, end in addresses:
        for i in range(start, end):
            if not chars[i].isspace():
                chars[i] = "*"
    for start, end, kind in found:
        positions = [i for i in range(start, end) if chars[i] in DIGIT_CHARS or chars[i] in "xX×"]
        head, tail = _KEEP[kind]
        for i in positions[head: len(positions) - tail]:
            chars[i] = "*"
    return "".join(chars)


def redact_data(data: Any) -> Any:
    """A copy of JSON-like data (dicts, lists, strings) with :func:`redact_text` applied to every string value."""
    if isinstance(data, str):
        return redact_text(data)
    if isinstance(data, dict):
        return {k: redact_data(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [redact_data(v) for v in data]
    return data


class RedactingFilter(logging.Filter):
    """A logging filter that masks personal data in every record it passes (message and arguments)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: let the handler report it
            return True
        masked = redact_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def redact_logs(logger: logging.Logger | None = None) -> None:
    """Mask personal data in everything the handlers of ``logger`` (default: the root logger) emit."""
    logger = logger or logging.getLogger()
    for handler in logger.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


# --- whole records, as reports and the workbench show them ---


def _redact_evidence(e: Evidence | None) -> Evidence | None:
    return None if e is None else dataclasses.replace(e, text=redact_text(e.text))


def redact_card(card: AgentScorecard) -> AgentScorecard:
    """A copy of an agent scorecard with its example quotes masked."""
    top = [dataclasses.replace(v, examples=[dataclasses.replace(ex, text=redact_text(ex.text)) for ex in v.examples])
           for v in card.top_violations]
    return dataclasses.replace(card, top_violations=top, team=redact_text(card.team))


def redact_result(r: CallResult) -> CallResult:
    """A copy of a result with personal numbers masked in every text a report shows.

    Word-level timings are dropped from the copy (reports show utterances, and a number split
    over words would escape the mask).
    """
    t = r.transcript
    transcript = dataclasses.replace(
        t,
        utterances=[dataclasses.replace(u, text=redact_text(u.text), words=[]) for u in t.utterances],
        meta={k: redact_text(v) if isinstance(v, str) else v for k, v in t.meta.items()},
    )
    inspection = dataclasses.replace(
        r.inspection,
        findings=[
            dataclasses.replace(f, message=redact_text(f.message), evidence=[_redact_evidence(e) for e in f.evidence])
            for f in r.inspection.findings
        ],
    )
    emotion = r.emotion
    if emotion is not None:
        emotion = dataclasses.replace(
            emotion,
            drivers=[_redact_evidence(e) for e in emotion.drivers],
            outcome_evidence=[_redact_evidence(e) for e in emotion.outcome_evidence],
            risks=[dataclasses.replace(x, evidence=_redact_evidence(x.evidence)) for x in emotion.risks],
            complaint=None if emotion.complaint is None else dataclasses.replace(
                emotion.complaint, evidence=[_redact_evidence(e) for e in emotion.complaint.evidence]
            ),
        )
    score = dataclasses.replace(
        r.score,
        items=[
            dataclasses.replace(i, deductions=[
                dataclasses.replace(d, message=redact_text(d.message), evidence=_redact_evidence(d.evidence)) for d in i.deductions
            ])
            for i in r.score.items
        ],
    )
    return type(r)(transcript=transcript, inspection=inspection, emotion=emotion, score=score)
