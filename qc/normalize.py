"""Text normalisation for matching rules against ASR output.

ASR text and rule patterns go through the same :func:`normalize`, so a rule written as
``機主本人`` matches ``机主 本人。`` and ``幺三八`` matches ``138``:

* Traditional -> Simplified (OpenCC ``t2s``, character by character so positions stay aligned);
* full width -> half width (NFKC) and lower case;
* punctuation and white space removed;
* Chinese numerals -> digits where they are numbers (幺二三四 -> 1234, 七天 -> 7天, 一百二十元 -> 120元),
  but not in words (一下, 一起, 统一, 万一, 千万别, 一两天 stay as written).

:class:`NormText` keeps, for every normalised character, the span of the original text it came
from, so a match on normalised text can be quoted from the original utterance.

For homophones (机主 heard as 鸡主/基主) :func:`pinyin` gives one toneless syllable per normalised
character and :func:`find_pinyin` finds a pattern within a syllable edit distance, optionally
merging sounds that many speakers do not distinguish (zh/z, ch/c, sh/s, n/l, -ng/-n).
OpenCC and pypinyin are imported on first use.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

__all__ = ["NormText", "normalize", "normalize_text", "to_simplified", "pinyin", "fuzzy_syllable", "find_pinyin"]

_DIGITS = {"零": 0, "〇": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10_000}
_NUMERAL_CHARS = set(_DIGITS) | set(_UNITS)
# A lone numeral counts as a number only before one of these (七天, 两点, 五元); 一个/一下 stay words.
_MEASURES = set("天日号元块角分秒点个月年周岁倍折次位台张件笔期档级楼层栋号码到至%")
# Words whose numerals are not numbers, even when a measure word follows (一点 = "a little").
_WORDS = ("一下", "一个", "一到", "一起", "一定", "一般", "一样", "一直", "一切", "一些", "一点儿", "一会", "一旦", "万一", "千万",
          "一边", "一致", "统一", "唯一", "一线", "一声", "一遍", "一次性", "一模一样", "三番五次", "乱七八糟",
          "一五一十", "十分", "一律", "一向", "一共", "一再", "一概", "一度", "一经", "一同", "不一", "一流")


@dataclass(frozen=True)
class NormText:
    """Normalised text plus, per normalised character, the original span ``[starts[i], ends[i])``."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a ``[start, end)`` span of :attr:`text` back to the original string."""
        if not self.text or end <= start:
            return (0, 0)
        return (self.starts[start], self.ends[end - 1])


@lru_cache(maxsize=1)
def _opencc():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional -> Simplified Chinese (OpenCC t2s); other scripts are left alone.

    Every stage uses this one converter: ASR output, emotion features and rule matching.
    """
    return _opencc().convert(text) if text else text


@lru_cache(maxsize=65536)
def _char(c: str) -> str:
    """One character, normalised: '' for punctuation/space, else t2s + NFKC + lower."""
    s = unicodedata.normalize("NFKC", c).lower()
    out = []
    for ch in s:
        cat = unicodedata.category(ch)
        if cat[0] in "PZC" or cat in ("Sk", "Sm") and ch not in "%+" or ch == "·":
            continue
        if ord(ch) > 0x2E80:
            ch = _opencc().convert(ch) or ch
        out.append(ch)
    return "".join(out)


def _parse_number(run: str) -> int | None:
    """Value of a Chinese number with units (三十五, 一百二十, 两千零五); None if malformed."""
    total, section, digit, last_unit = 0, 0, None, 10**9
    for ch in run:
        if ch in "零〇" and last_unit < 10**9:
            continue  # 两千零五: 零 only fills a place
        if ch in _DIGITS:
            if digit is not None:
                return None
            digit = _DIGITS[ch]
        else:
            unit = _UNITS[ch]
            if unit == 10_000:
                section += digit or 0
                if section == 0:
                    return None
                total += section * unit
                section, digit, last_unit = 0, None, 10**9
                continue
            if unit >= last_unit:
                return None
            if digit is None:
                if unit != 10 or section or total:
                    return None
                digit = 1  # 十五 = 15
            section += digit * unit
            digit, last_unit = None, unit
    return total + section + (digit or 0)


def _convert_run(run: str, after: str) -> str | None:
    """Digits for a run of numeral characters, or None when it should stay as written."""
    if run[0] in "百千万" or run[0] in "两" and len(run) > 1 and run[1] in _DIGITS:
        return None
    if any(ch in _UNITS for ch in run):
        value = _parse_number(run)
        if value is None or (len(run) == 1 and after not in _MEASURES):
            return None
        return str(value)
    if len(run) == 1:
        return str(_DIGITS[run]) if after in _MEASURES else None
    if len(run) == 2:
        a, b = _DIGITS[run[0]], _DIGITS[run[1]]
        if b == a + 1 or "两" in run or after not in _MEASURES and not after.isdigit():
            return None  # 三四天 (a range), 一两天; a bare pair is usually a word
    if "两" in run:
        return None
    return "".join(str(_DIGITS[ch]) for ch in run)


# Every start position of every protected word, overlaps included: at one position the longest word
# is tried first, and any shorter word matching there is its prefix, so the union is the same.
_WORDS_AT = re.compile("(?=(" + "|".join(map(re.escape, sorted(_WORDS, key=len, reverse=True))) + "))")


def _protected(chars: list[str]) -> list[bool]:
    joined = "".join(chars)
    keep = [False] * len(chars)
    for m in _WORDS_AT.finditer(joined):
        start = m.start()
        for k in range(start, start + len(m.group(1))):
            keep[k] = True
    return keep


class _CharTable(dict):
    """Memo of :func:`_char` as a plain dict (a lookup per character is the hot path)."""

    def __missing__(self, c: str) -> str:
        v = self[c] = _char(c)
        if len(v) > 1:
            _EXPANDING.add(c)
        return v


_CHARS = _CharTable()
_EXPANDING: set[str] = set()  # characters NFKC turns into several (㎏ -> kg, ½ -> 1⁄2)


@lru_cache(maxsize=8192)
def normalize(text: str) -> NormText:
    """Normalise text for matching (see the module docstring), keeping the map back to ``text``."""
    table = _CHARS
    out = [table[c] for c in text]
    if _EXPANDING.isdisjoint(text):  # each character became one or none: the usual case
        starts = [i for i, o in enumerate(out) if o]
        joined = "".join(out)
        if _NUMERAL_CHARS.isdisjoint(joined):
            return NormText(joined, tuple(starts), tuple([i + 1 for i in starts]))
        chars = list(joined)
        ends = [i + 1 for i in starts]
    else:
        chars, starts, ends = [], [], []
        for i, o in enumerate(out):
            for ch in o:
                chars.append(ch)
                starts.append(i)
                ends.append(i + 1)
        if _NUMERAL_CHARS.isdisjoint(chars):
            return NormText("".join(chars), tuple(starts), tuple(ends))
    chars, starts, ends = _numbers(chars, starts, ends)
    return NormText("".join(chars), tuple(starts), tuple(ends))


def _numbers(chars: list[str], starts: list[int], ends: list[int]) -> tuple[list[str], list[int], list[int]]:
    keep = _protected(chars)
    out_c: list[str] = []
    out_s: list[int] = []
    out_e: list[int] = []
    i, n = 0, len(chars)
    while i < n:
        if chars[i] in _NUMERAL_CHARS and not keep[i]:
            j = i
            while j < n and chars[j] in _NUMERAL_CHARS and not keep[j]:
                j += 1
            run = "".join(chars[i:j])
            after = chars[j] if j < n else ""
            before = chars[i - 1] if i else ""
            digits = _convert_run(run, after)
            if digits is None and before.isdigit() and "两" not in run and not any(c in _UNITS for c in run):
                digits = "".join(str(_DIGITS[c]) for c in run)  # 138 幺三八: continues a digit string
            if digits is not None:
                out_c.extend(digits)
                out_s.extend([starts[i]] * len(digits))
                out_e.extend([ends[j - 1]] * len(digits))
                i = j
                continue
            out_c.extend(chars[i:j])
            out_s.extend(starts[i:j])
            out_e.extend(ends[i:j])
            i = j
            continue
        out_c.append(chars[i])
        out_s.append(starts[i])
        out_e.append(ends[i])
        i += 1
    return out_c, out_s, out_e


def normalize_text(text: str) -> str:
    """Just the normalised string of :func:`normalize`."""
    return normalize(text).text


@lru_cache(maxsize=1)
def _pinyin_dict() -> dict[int, str]:
    # pypinyin's per-character table alone: importing the pypinyin package loads its phrase
    # dictionary too (~0.6 s), which a homophone match on single characters does not need.
    import importlib.util
    import os

    spec = importlib.util.find_spec("pypinyin")
    if spec is None or spec.origin is None:
        raise ImportError("pypinyin is not installed; pip install pypinyin")
    path = os.path.join(os.path.dirname(spec.origin), "pinyin_dict.py")
    table_spec = importlib.util.spec_from_file_location("_qc_pinyin_dict", path)
    module = importlib.util.module_from_spec(table_spec)  # type: ignore[arg-type]
    table_spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.pinyin_dict


@lru_cache(maxsize=65536)
def _syllable(ch: str) -> str:
    readings = _pinyin_dict().get(ord(ch))
    if not readings:
        return ch
    first = readings.split(",")[0]
    plain = unicodedata.normalize("NFD", first)
    return "".join(c for c in plain if not unicodedata.combining(c)).replace("ü", "v")


def pinyin(norm_text: str) -> tuple[str, ...]:
    """One toneless pinyin syllable per character of already-normalised text (non-Han kept as is)."""
    return tuple(_syllable(ch) for ch in norm_text)


_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"))


@lru_cache(maxsize=8192)
def fuzzy_syllable(syllable: str) -> str:
    """Merge sounds many Mandarin speakers (and 8 kHz ASR) confuse: zh/z, ch/c, sh/s, l/n, -ng/-n."""
    s = syllable
    for a, b in _INITIALS:
        if s.startswith(a):
            s = b + s[len(a):]
            break
    if s.startswith("l"):
        s = "n" + s[1:]
    if s.endswith("ng") and len(s) > 2:
        s = s[:-1]
    return s


_INITIAL_LETTERS = frozenset("bpmfdtnlgkhjqxrzcsyw")


@lru_cache(maxsize=4096)
def _initial_final(syllable: str) -> tuple[str, str]:
    """A toneless syllable split into initial and final: zhu -> (zh, u), ai -> ("", ai)."""
    if syllable[:2] in ("zh", "ch", "sh"):
        return syllable[:2], syllable[2:]
    if syllable[:1] in _INITIAL_LETTERS:
        return syllable[:1], syllable[1:]
    return "", syllable


# Initials made in one place of the mouth: ASR on 8 kHz audio confuses these among themselves
_PLACES = {c: k for k, group in enumerate(("bpmf", "dtnl", "gkh", "jqx", ("zh", "ch", "sh", "r"), "zcs", "yw"))
           for c in group}


def near_syllables(a: str, b: str) -> bool:
    """Whether two different toneless syllables are near sounds, what 8 kHz ASR writes for one
    another: the same initial with finals of the same vowel (ben/bei 本/北, dian/ding 电/订), or
    the same final with initials made in one place (zhu/chu 主/础, z/zh and the like). Not near:
    bi/ji (lips vs palate), ben/zhen. Not Han syllables (digits, letters): never."""
    if a == b or not (a.isascii() and a.isalpha() and b.isascii() and b.isalpha()):
        return False
    (ia, fa), (ib, fb) = _initial_final(a), _initial_final(b)
    if ia == ib:
        return fa[:1] == fb[:1] != ""
    return fa == fb != "" and ia in _PLACES and _PLACES.get(ia) == _PLACES.get(ib)


def find_misheard(haystack: Sequence[str], needle: Sequence[str], most: int = 1) -> list[tuple[int, int]]:
    """Spans of ``haystack`` syllables that read as ``needle`` with 1..``most`` syllables heard as a
    near sound (:func:`near_syllables`) and every other syllable the same: no syllable added or lost,
    so 本地人 is not 本人. Non-overlapping, left to right."""
    m, found, i = len(needle), [], 0
    while i + m <= len(haystack):
        window = haystack[i:i + m]
        differ = [k for k in range(m) if window[k] != needle[k]]
        if 0 < len(differ) <= most and all(near_syllables(window[k], needle[k]) for k in differ):
            found.append((i, i + m))
            i += m
        else:
            i += 1
    return found


def find_pinyin(
    haystack: Sequence[str], needle: Sequence[str], max_distance: int = 0
) -> list[tuple[int, int, int]]:
    """Find ``needle`` syllables in ``haystack`` syllables within an edit distance.

    Returns non-overlapping ``(start, end, distance)`` spans in syllable (= normalised character)
    positions, best distance first at each place, left to right.
    """
    m = len(needle)
    if m == 0 or len(haystack) < max(1, m - max_distance):
        return []
    from rapidfuzz.distance import Levenshtein

    needle = list(needle)
    found: list[tuple[int, int, int]] = []
    i, n = 0, len(haystack)
    while i < n:
        best: tuple[int, int, int] | None = None
        if max_distance == 0:
            if list(haystack[i:i + m]) == needle:
                best = (i, i + m, 0)
        else:
            for length in range(max(1, m - max_distance), m + max_distance + 1):
                if i + length > n:
                    break
                d = Levenshtein.distance(list(haystack[i:i + length]), needle, score_cutoff=max_distance)
                if d <= max_distance and (best is None or d < best[2]):
                    best = (i, i + length, d)
            # a substitution at the first syllable is only worth it when the rest is exact
        if best is not None:
            found.append(best)
            i = best[1]
        else:
            i += 1
    return found
