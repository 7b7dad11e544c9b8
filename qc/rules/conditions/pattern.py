"""Text conditions over whole patterns: regex and similar sentence (keyword/phrase is in
:mod:`qc.rules.conditions.text`). Both match on normalised text (see qc.normalize), so rule
patterns and ASR output meet in the same form; ``regex`` can also match the raw text."""

from __future__ import annotations

from typing import Any

from qc.rules.conditions.common import REGEX_TIMEOUT_S, check_role, compile_regex, in_role, matches_each, phrases
from qc.rules.context import CallContext, Hit, NotApplicable
from qc.rules.registry import Report, condition


def _prepare_regex(params: dict, report: Report) -> dict:
    check_role(params, report)
    params["pattern"] = compile_regex(params["pattern"], "pattern", report)
    if params.get("exclude") is not None:
        params["exclude"] = compile_regex(params["exclude"], "exclude", report)
    if params.get("on", "normalized") not in ("normalized", "raw", "sound"):
        report("on", "RUL013", "on must be 'normalized', 'raw' or 'sound'")
    params["listen"] = phrases(params, "listen", report)
    return params


@condition("regex", prepare=_prepare_regex)
def regex_(
    ctx: CallContext,
    scope: tuple[int, ...],
    *,
    pattern: str,
    exclude: str | None = None,
    role: str | None = None,
    on: str = "normalized",
    listen: tuple[str, ...] = (),
) -> list[Hit]:
    """A regular expression (the ``regex`` package, each search limited to 50 ms so a pathological
    pattern cannot hang a night). ``on: normalized`` (default) matches the normalised text: simplified
    characters, digits, no punctuation or spaces; ``on: raw`` the text as transcribed; ``on: sound``
    its toneless pinyin, one syllable per character with a space before and after each (" wo shi 2 8
    hao ke fu "), so a pattern can take what ASR writes by sound (`` (\\d )+(hao|hou) ke fu ``: 号客服,
    后克服). ``exclude``: utterances matching this regex are skipped. ``listen``: the words ASR should listen
    for when the pattern decides a required or risk rule (qc.rules.vocabulary: a pattern gives
    none by itself), e.g. ``[号客服]`` for ``\\d+号客服``; matching ignores them."""
    idx = in_role(ctx, scope, role)
    if on == "normalized" and exclude is None:
        return _regex_first(ctx, idx, pattern)
    hits: list[Hit] = []
    for i in idx:
        if on == "sound":
            hit = _sound_match(ctx, i, pattern, exclude)
            if hit is not None:
                hits.append(hit)
            continue
        text = ctx.text(i) if on == "normalized" else ctx.utterances[i].text
        try:
            if exclude is not None and exclude.search(text, timeout=REGEX_TIMEOUT_S):
                continue
            m = pattern.search(text, timeout=REGEX_TIMEOUT_S)
        except TimeoutError:
            raise NotApplicable(f"regex {pattern.pattern!r} took over {REGEX_TIMEOUT_S * 1000:.0f} ms; simplify it") from None
        if m:
            span = ctx.norm(i).original_span(*m.span()) if on == "normalized" else m.span()
            hits.append(Hit(i, span, value=m.group(0)))
    return hits


def _sound_match(ctx: CallContext, i: int, pattern: Any, exclude: Any) -> Hit | None:
    """``on: sound``: the first match of ``pattern`` in utterance ``i``'s syllables, quoted as the
    characters whose syllables it touches."""
    import bisect

    from qc.rules.conditions.text import _pinyin_line

    line, offsets = _pinyin_line(ctx, i, False)  # offsets: the space before each syllable
    try:
        if exclude is not None and exclude.search(line, timeout=REGEX_TIMEOUT_S):
            return None
        m = pattern.search(line, timeout=REGEX_TIMEOUT_S)
    except TimeoutError:
        raise NotApplicable(f"regex {pattern.pattern!r} took over {REGEX_TIMEOUT_S * 1000:.0f} ms; simplify it") from None
    said = m.group(0).strip() if m is not None else ""
    if not said:
        return None
    a = line.index(said, m.start())  # the first and last syllables the match touches
    s, e = bisect.bisect_left(offsets, a) - 1, bisect.bisect_left(offsets, a + len(said) - 1)
    return Hit(i, ctx.norm(i).original_span(s, e), value=ctx.text(i)[s:e])


def _regex_first(ctx: CallContext, idx: tuple[int, ...], pattern: Any) -> list[Hit]:
    """The first match of ``pattern`` in each utterance of ``idx``, remembered per utterance for the
    call (sequence windows ask about the same utterances again and again)."""
    done = ctx.memo.setdefault(("regex", pattern), {})
    missing = tuple(i for i in idx if i not in done)
    if missing:
        try:
            found = matches_each(ctx, missing, pattern, first_only=True)
        except TimeoutError:
            raise NotApplicable(f"regex {pattern.pattern!r} took over {REGEX_TIMEOUT_S * 1000:.0f} ms; simplify it") from None
        for i in missing:
            done[i] = None
        for i, off, m in found:
            s, e = m.start() - off, m.end() - off
            done[i] = Hit(i, ctx.norm(i).original_span(s, e), value=m.group(0))
    return [h for h in (done[i] for i in idx) if h is not None]


def _prepare_similar(params: dict, report: Report) -> dict:
    check_role(params, report)
    params["examples"] = phrases(params, "examples", report, allow_empty=False)
    t = params.get("threshold", 80)
    if not 0 < t <= 100:
        report("threshold", "RUL022", f"threshold {t} is a similarity in (0, 100]")
    if params.get("scorer", "partial") not in ("partial", "ratio"):
        report("scorer", "RUL013", "scorer must be 'partial' or 'ratio'")
    return params


@condition("similar", prepare=_prepare_similar)
def similar(
    ctx: CallContext,
    scope: tuple[int, ...],
    *,
    examples: list[str],
    threshold: float = 80,
    role: str | None = None,
    scorer: str = "partial",
) -> list[Hit]:
    """Utterances similar to one of the ``examples`` (rapidfuzz, 0..100, at or above ``threshold``).
    ``scorer: partial`` (default) compares the example with the best-matching part of a longer
    utterance; ``ratio`` compares whole sentences."""
    from rapidfuzz import fuzz

    score = fuzz.partial_ratio if scorer == "partial" else fuzz.ratio
    hits: list[Hit] = []
    for i in in_role(ctx, scope, role):
        text = ctx.text(i)
        best, best_ex = 0.0, ""
        for ex in examples:
            if scorer == "partial" and len(text) < 0.6 * len(ex):
                continue  # a short reply is not "similar" to a long sentence
            s = score(text, ex, score_cutoff=threshold)
            if s > best:
                best, best_ex = s, ex
        if best >= threshold:
            span = (0, len(ctx.utterances[i].text))
            if scorer == "partial" and len(ex := best_ex) < len(text):
                al = fuzz.partial_ratio_alignment(text, ex)
                if al is not None:
                    span = ctx.norm(i).original_span(al.src_start, al.src_end) if al.src_end > al.src_start else span
            hits.append(Hit(i, span, value=round(best, 1), note=f"similar to 「{best_ex}」"))
    return hits
