"""Mask personal numbers in text shown in reports and exports.

Masked: mainland ID-card numbers (18 digits, the last may be X; old 15-digit ones), mobile
numbers (11 digits starting 13-19), landlines with an area code (0 + 9-11 digits), and bank-card
numbers (16-19 digits). Numbers count however they were written: Arabic or full-width digits,
or read out digit by digit in Chinese (幺三八, 洞/零/〇 for zero, 两 for two), with spaces or
dashes between groups. Each digit is replaced by ``*`` in place (the text keeps its length, so
evidence spans still point at the right characters); a few digits stay visible so that a
reviewer can tell numbers apart: phones keep the first 3 and last 4, bank cards the last 4,
ID cards the first 2 and last 2.

Transcripts on disk are never changed: reports apply :func:`redact_text` when they render.
"""

from __future__ import annotations

import re

__all__ = ["DIGIT_CHARS", "redact_text", "find_numbers"]

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
_SEP = " \t\u3000-—_.·"
# a run of digit characters (plus a trailing X for ID cards) with single separators between them
_RUN = re.compile(f"[{re.escape(_DIGITS)}](?:[{re.escape(_SEP)}]?[{re.escape(_DIGITS)}])*(?:[xX×])?")
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
    """Personal numbers in ``text`` as ``(start, end, kind)``; kind is "id", "phone" or "bank"."""
    out = []
    for m in _RUN.finditer(text):
        run = m.group(0)
        # Chinese digit characters are ordinary words too (一个, 三天): only long runs count
        has_x = run[-1] in "xX×"
        digits = "".join(DIGIT_CHARS[c] for c in run if c in DIGIT_CHARS)
        kind = _kind(digits, has_x)
        if kind is None and has_x:
            kind = _kind(digits, False)
            if kind is not None:
                out.append((m.start(), m.end() - 1, kind))
            continue
        if kind is not None:
            out.append((m.start(), m.end(), kind))
    return out


def redact_text(text: str) -> str:
    """Return ``text`` with ID-card, phone and bank-card numbers masked (same length)."""
    if not text:
        return text
    found = find_numbers(text)
    if not found:
        return text
    chars = list(text)
    for start, end, kind in found:
        positions = [i for i in range(start, end) if chars[i] in DIGIT_CHARS or chars[i] in "xX×"]
        head, tail = _KEEP[kind]
        for i in positions[head: len(positions) - tail]:
            chars[i] = "*"
    return "".join(chars)
