"""Text conditions: keyword/phrase, with sound-alike (homophone) and fuzzy pinyin matching. The
other text conditions, regex and similar sentence, are in :mod:`qc.rules.conditions.pattern`.
All match on normalised text (see qc.normalize), so rule phrases and ASR output meet in the same form."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from qc.normalize import _pinyin_dict, find_misheard, find_pinyin, fuzzy_syllable, pinyin
from qc.rules.conditions.common import check_role, first_match_per_line, in_role, phrases
from qc.rules.context import CallContext, Hit
from qc.rules.registry import condition

from qc.rules.registry import Report


def _prepare_keyword(params: dict, report: Report) -> dict:
    check_role(params, report)
    modes = [k for k in ("any", "all", "none") if params.get(k) is not None]
    if not modes:
        report("type", "RUL012", "keyword needs one of any / all / none (a list of phrases)")
    elif len(modes) > 1:
        report(modes[1], "RUL022", f"keyword takes one of any / all / none, not {' and '.join(modes)}")
    for k in ("any", "all", "none"):
        params[k] = phrases(params, k, report, allow_empty=False) if params.get(k) is not None else None
    params["exclude"] = phrases(params, "exclude", report, allow_empty=False)
    params["unless_in"] = phrases(params, "unless_in", report, allow_empty=False)
    params["near"] = phrases(params, "near", report, allow_empty=False)
    words = params["any"] or params["all"] or params["none"] or ()
    at_least = params.get("at_least")
    if at_least is not None:
        if params["any"] is None:
            report("at_least", "RUL022", "at_least counts phrases from `any`; give an `any` list")
        elif not 1 <= at_least <= len(words):
            report("at_least", "RUL022", f"at_least {at_least} can never match {len(words)} phrase(s)")
    if params["near"] and params.get("distance") is None:
        params["distance"] = 10
    if params.get("distance") is not None and params["distance"] < 0:
        report("distance", "RUL022", "distance must be >= 0 characters")
    h = params.get("homophone")
    if h is not None:
        if h < 0:
            report("homophone", "RUL022", "homophone is a syllable edit distance >= 0")
        fuzzy = params.get("fuzzy_sounds", False)
        # a distance that swallows half the phrase matches anything; such phrases match exactly
        params["_pinyin"] = {w: _syllables_of(w, fuzzy) for w in (*words, *params["near"]) if len(w) >= max(2, 2 * h + 1)}
    else:
        params["_pinyin"] = {}
    m = params.get("misheard")
    params["_misheard"] = {}
    if m is not None:
        if m < 1:
            report("misheard", "RUL022", "misheard is a number of syllables >= 1")
        elif params["any"] is None or params["near"] or params["exclude"] or (at_least or 1) > 1:
            report("misheard", "RUL022", "misheard works with `any` alone (one phrase needed, no near / exclude)")
        else:
            short = [w for w in words if len(w) < max(3, 2 * m)]
            if short:
                report("misheard", "RUL022", f"{'/'.join(short)}: with misheard {m} a phrase needs "
                                             f"{max(3, 2 * m)}+ characters, or most of it could be anything")
            params["_misheard"] = {w: _syllables_of(w, params.get("fuzzy_sounds", False)) for w in words}
    params["_rx"] = _alternation(words) if words else None
    params["_py_rx"] = _alternation(" " + " ".join(p) + " " for p in params["_pinyin"].values()) if h == 0 else None
    params["_exclude_rx"] = _alternation(params["exclude"]) if params["exclude"] else None
    return params


def _alternation(words):
    """One compiled search for many literal phrases (longest first). Literals cannot backtrack."""
    import re

    words = sorted(set(words), key=len, reverse=True)
    return re.compile("|".join(re.escape(w) for w in words)) if words else None


def _sounds_like(text: str, s: int, e: int, py: dict, syllables: tuple[str, ...] | None = None) -> bool:
    """Whether ``text[s:e]``, found by toneless sound, reads as one of the phrases of ``py`` misheard.

    Toneless syllables ignore tones: 「请问您是急著用吗」 reads *shi ji zhu* like 是机主. Tone is a
    phoneme in Mandarin and what ASR writes in a word's place keeps it (公号/宫号/功耗 for 工号,
    鸡主 for 机主, 何时 for 核实: same tones), so a sound-alike that writes two or more characters
    differently counts only when it keeps the tone of at least half of them (急著 for 机主: neither;
    记住: neither). One character in another tone is the common slip (信好差 for 信号差) and counts.
    Tried and left out: requiring jieba word boundaries or no dictionary word inside the span lost
    true readings (身份正好四位 = 身份证后四位, 何时 = 核实, 功耗 = 工号) and caught nothing the
    tones miss.
    """
    found = text[s:e]
    for w, syl in py.items():
        if syllables is not None and syl != syllables:
            continue
        if len(w) != len(found):  # an edit-distance match: no character-by-character comparison
            return True
        differ = [k for k in range(len(w)) if found[k] != w[k]]
        if len(differ) <= 1 or 2 * sum(_tone(found[k]) == _tone(w[k]) for k in differ) >= len(differ):
            return True
    return False


_TONE_MARKS = {"\u0304": 1, "\u0301": 2, "\u030c": 3, "\u0300": 4}


@lru_cache(maxsize=4096)
def _tone(ch: str) -> int:
    """The tone (1-4, 5 neutral) of a character's first reading; 0 for a non-Han character."""
    import unicodedata

    readings = _pinyin_dict().get(ord(ch))
    if not readings:
        return 0
    for c in unicodedata.normalize("NFD", readings.split(",")[0]):
        if c in _TONE_MARKS:
            return _TONE_MARKS[c]
    return 5


def _pinyin_line(ctx: CallContext, i: int, fuzzy: bool) -> tuple[str, tuple[int, ...]]:
    """Syllables of utterance ``i`` joined as " ji zhu ben ren ", with each syllable's offset."""
    return _pinyin_line_of(ctx.text(i), fuzzy)


@lru_cache(maxsize=8192)
def _pinyin_line_of(text: str, fuzzy: bool) -> tuple[str, tuple[int, ...]]:
    # keyed by normalised text: short replies (嗯, 好的, 对) recur in every call
    syl = pinyin(text)
    if fuzzy:
        syl = tuple(fuzzy_syllable(x) for x in syl)
    offsets, pos = [], 0
    for x in syl:
        offsets.append(pos)
        pos += len(x) + 1
    return (" " + " ".join(syl) + " ", tuple(offsets))


def _joined(ctx: CallContext, idx: tuple[int, ...], kind: str, fuzzy: bool = False) -> tuple[str, list[int]]:
    """The texts (or pinyin lines) of ``idx`` joined by NUL, with each one's start; cached per call."""
    if kind == "text":
        return ctx.joined(idx)
    cache = ctx.memo
    key = ("pinyin", idx, fuzzy)
    got = cache.get(key)
    if got is None:
        parts = [_pinyin_line(ctx, i, fuzzy)[0] for i in idx]
        starts, pos = [], 0
        for p in parts:
            starts.append(pos)
            pos += len(p) + 1
        got = cache[key] = ("\n".join(parts), starts)
    return got


def _any_joined(ctx: CallContext, idx: tuple[int, ...], rx, py_rx, homophone, fuzzy, py, unless_in) -> list[Hit]:
    """`any` with one phrase needed: one regex pass over the whole scope instead of one per utterance.

    The hit of each utterance depends on that utterance alone, so it is remembered for the call:
    sequence windows that ask about the same utterances again cost a lookup."""
    if not idx:
        return []
    key = ("any", rx, py_rx, homophone, fuzzy, unless_in)
    done = ctx.memo.get(key)
    if done is None:
        done = ctx.memo[key] = {}
        # exact phrases: one pass over the whole call (its joined text is shared by every keyword
        # condition) costs less than many small windows; pinyin is only built where it is asked for
        missing = ctx.all if homophone is None or not py else idx
    else:
        missing = tuple(i for i in idx if i not in done)
    if missing:
        for i in missing:
            done[i] = None
        for h in _any_joined_search(ctx, missing, rx, py_rx, homophone, fuzzy, py, unless_in):
            done[h.utterance] = h
    return [h for h in (done[i] for i in sorted(idx)) if h is not None]


def _any_joined_search(ctx: CallContext, idx: tuple[int, ...], rx, py_rx, homophone, fuzzy, py, unless_in) -> list[Hit]:
    import bisect

    skip = (lambda i, s, e, m: _unless(ctx, i, s, e, unless_in, homophone, fuzzy)) if unless_in else None
    first = first_match_per_line(ctx, idx, rx, skip)
    if homophone is not None and py:
        rest = tuple(i for i in idx if i not in first)
        if py_rx is not None and rest:
            line, lstarts = _joined(ctx, rest, "pinyin", fuzzy)
            for m in py_rx.finditer(line):
                k = bisect.bisect_right(lstarts, m.start()) - 1
                i = rest[k]
                if i in first:
                    continue
                offsets = _pinyin_line(ctx, i, fuzzy)[1]
                s = bisect.bisect_left(offsets, m.start() - lstarts[k])
                e = s + m.group(0).count(" ") - 1
                if _unless(ctx, i, s, e, unless_in, homophone, fuzzy):
                    continue
                if not _sounds_like(ctx.text(i), s, e, py, tuple(m.group(0).split())):
                    continue
                first[i] = (s, e)
        elif rest:
            for i in rest:
                for w in py:
                    span = _find(ctx, i, w, homophone, fuzzy, py, unless_in)
                    if span is not None:
                        first[i] = span
                        break
    hits = []
    for i in sorted(first):
        s, e = first[i]
        hits.append(Hit(i, ctx.norm(i).original_span(s, e), value=ctx.text(i)[s:e]))
    return hits


def _any_spans(ctx: CallContext, i: int, rx, py_rx, need: int, homophone, fuzzy, py, unless_in) -> list[tuple[int, int]]:
    """Spans of up to ``need`` distinct phrases (exact first, then by pinyin) in utterance ``i``."""
    text = ctx.text(i)
    found: dict[str, tuple[int, int]] = {}
    for m in rx.finditer(text):
        if _unless(ctx, i, m.start(), m.end(), unless_in, homophone, fuzzy):
            continue
        found.setdefault(m.group(0), m.span())
        if len(found) >= need:
            return list(found.values())
    if homophone is None or not py:
        return list(found.values())
    if py_rx is not None:  # distance 0: one regex over the joined syllables
        line, offsets = _pinyin_line(ctx, i, fuzzy)
        import bisect

        for m in py_rx.finditer(line):
            s = bisect.bisect_left(offsets, m.start())
            e = s + m.group(0).count(" ") - 1
            if _unless(ctx, i, s, e, unless_in, homophone, fuzzy):
                continue
            if not _sounds_like(text, s, e, py, tuple(m.group(0).split())):
                continue
            found.setdefault("py:" + m.group(0), (s, e))
            if len(found) >= need:
                break
        return list(found.values())
    for w in py:
        if len(found) >= need:
            break
        span = _find(ctx, i, w, homophone, fuzzy, py, unless_in)
        if span is not None:
            found.setdefault(w, span)
    return list(found.values())


def _find(ctx: CallContext, i: int, word: str, homophone: int | None, fuzzy: bool, py: dict, unless_in: tuple) -> tuple[int, int] | None:
    """Normalised-text span of ``word`` in utterance ``i`` (exact, else by pinyin), skipping ``unless_in``."""
    text = ctx.text(i)
    start = text.find(word)
    while start >= 0:
        end = start + len(word)
        if not _unless(ctx, i, start, end, unless_in, homophone, fuzzy):
            return (start, end)
        start = text.find(word, start + 1)
    target = py.get(word)
    if homophone is not None and target is not None:
        for s, e, _d in find_pinyin(ctx.pinyin(i, fuzzy), target, homophone):
            if not _unless(ctx, i, s, e, unless_in, homophone, fuzzy) and _sounds_like(text, s, e, {word: target}):
                return (s, e)
    return None


def _with_misheard(ctx: CallContext, idx: tuple[int, ...], hits: list[Hit], phrases_: dict, most: int,
                   fuzzy: bool, unless_in: tuple) -> list[Hit]:
    """``hits`` plus, in the utterances of ``idx`` without one, a phrase of ``phrases_`` (its syllables)
    with up to ``most`` syllables heard as a near sound (:func:`qc.normalize.near_syllables`)."""
    found = {h.utterance for h in hits}
    extra = []
    for i in idx:
        if i in found:
            continue
        syl, text = ctx.pinyin(i, fuzzy), ctx.text(i)
        span = next((sp for target in phrases_.values() for sp in find_misheard(syl, target, most)
                     if not _unless(ctx, i, sp[0], sp[1], unless_in, 0, fuzzy)), None)
        if span is not None:
            s, e = span
            extra.append(Hit(i, ctx.norm(i).original_span(s, e), value=text[s:e]))
    return sorted(hits + extra, key=lambda h: h.utterance) if extra else hits


def _unless(ctx: CallContext, i: int, start: int, end: int, containers: tuple[str, ...], homophone, fuzzy: bool) -> bool:
    """Whether the span ``start``-``end`` of utterance ``i`` lies inside one of ``containers``
    (``unless_in``): by text, and where the keyword matches by sound (``homophone``), by the same
    syllables too (忘记服务密码 as Whisper wrote it: 旺祭服务密码)."""
    if not containers:
        return False
    if _inside(ctx.text(i), start, end, containers):
        return True
    if homophone is None:
        return False
    syl = ctx.pinyin(i, fuzzy)
    return any(s <= start and end <= e for c in containers for s, e, _d in find_pinyin(syl, _syllables_of(c, fuzzy)))


@lru_cache(maxsize=1024)
def _syllables_of(phrase: str, fuzzy: bool) -> tuple[str, ...]:
    """A normalised phrase's toneless syllables, with ``fuzzy`` sounds merged."""
    syl = pinyin(phrase)
    return tuple(fuzzy_syllable(x) for x in syl) if fuzzy else tuple(syl)


def _inside(text: str, start: int, end: int, containers: tuple[str, ...]) -> bool:
    for c in containers:
        k = text.find(c, max(0, start - len(c)))
        while k >= 0 and k <= start:
            if k + len(c) >= end:
                return True
            k = text.find(c, k + 1)
    return False


@condition("keyword", prepare=_prepare_keyword)
def keyword(
    ctx: CallContext,
    scope: tuple[int, ...],
    *,
    any: list[str] | None = None,
    all: list[str] | None = None,
    none: list[str] | None = None,
    at_least: int | None = None,
    near: list[str] | None = None,
    distance: int | None = None,
    exclude: list[str] | None = None,
    unless_in: list[str] | None = None,
    role: str | None = None,
    homophone: int | None = None,
    fuzzy_sounds: bool = False,
    misheard: int | None = None,
    _pinyin: dict | None = None,
    _misheard: dict | None = None,
    _rx: Any = None,
    _py_rx: Any = None,
    _exclude_rx: Any = None,
) -> list[Hit]:
    """Phrases in an utterance: ``any`` (one of them; ``at_least`` N distinct ones), ``all`` (every one
    in the same utterance), or ``none`` (a whole-scope hit when no utterance has any of them).
    ``near``: an ``any``/``all`` phrase counts only within ``distance`` characters of a ``near`` phrase.
    ``exclude``: utterances containing one of these phrases are skipped. ``unless_in``: an occurrence
    inside one of these longer phrases does not count (没办法 inside 有没有办法). ``homophone``: also
    match by pinyin within this many syllable edits (机主 ~ 鸡主), where a sound-alike that writes two or more
    characters differently keeps the tone of at least half of them (急著 is not 机主); ``fuzzy_sounds`` merges zh/z, n/l, -ng/-n.
    ``misheard``: with `any` alone, also match with up to this many syllables heard as a near sound (the
    same initial and vowel, 北人/被人 for 本人; or the same final, an initial made in the same place, 基础
    for 机主), the rest the same syllables, none added or lost (本地人 is not 本人)."""
    py = _pinyin or {}
    words = any or all or none or ()
    need = len(words) if all else (at_least or 1)
    hits: list[Hit] = []
    for i in in_role(ctx, scope, role):
        text = ctx.text(i)
        if exclude and (_exclude_rx.search(text) or homophone is not None and _has_any(ctx, i, exclude, homophone, fuzzy_sounds, py)):
            continue
        if not all and not near and need == 1 and none is None and not exclude:
            idx = in_role(ctx, scope, role)
            hits = _any_joined(ctx, idx, _rx, _py_rx, homophone, fuzzy_sounds, py, unless_in or ())
            if _misheard:
                hits = _with_misheard(ctx, idx, hits, _misheard, misheard, fuzzy_sounds, unless_in or ())
            return hits
        if not all and not near:
            spans = _any_spans(ctx, i, _rx, _py_rx, need, homophone, fuzzy_sounds, py, unless_in or ())
            if len(spans) >= need:
                if none is not None:
                    return []
                s, e = min(spans)
                hits.append(Hit(i, ctx.norm(i).original_span(s, e), value=text[s:e]))
            continue
        spans = []
        for w in words:
            span = _find(ctx, i, w, homophone, fuzzy_sounds, py, unless_in or ())
            if span is not None and near:
                span = span if _near(ctx, i, span, near, distance or 0, homophone, fuzzy_sounds, py) else None
            if span is not None:
                spans.append(span)
                if len(spans) >= need and not all:
                    break
            elif all:
                break
        if len(spans) >= need:
            if none is not None:
                return []
            s, e = min(spans)
            hits.append(Hit(i, ctx.norm(i).original_span(s, e), value=text[s:e]))
    if none is not None:
        return [Hit(None, note="none of the phrases was said")]
    return hits


def _has_any(ctx: CallContext, i: int, phrases_: tuple, homophone, fuzzy, py) -> bool:
    for p in phrases_:
        if _find(ctx, i, p, homophone, fuzzy, py, ()) is not None:
            return True
    return False


def _near(ctx: CallContext, i: int, span: tuple[int, int], near: tuple, distance: int, homophone, fuzzy, py) -> bool:
    text = ctx.text(i)
    for w in near:
        k = text.find(w)
        while k >= 0:
            if k - span[1] <= distance and span[0] - (k + len(w)) <= distance:
                return True
            k = text.find(w, k + 1)
    return False
