"""Conditions on data around the words: call metadata, facts against a knowledge base, the
work-order (工单) note, and per-utterance sentiment from the emotion stage."""

from __future__ import annotations

from typing import Any

from qc.normalize import normalize_text
from qc.rules.conditions.common import REGEX_TIMEOUT_S, check_role, compile_regex, in_role, joinable, matches_each
from qc.rules.context import CallContext, Hit, NotApplicable
from qc.rules.registry import Report, condition


def _prepare_meta(params: dict, report: Report) -> dict:
    given = [k for k in ("equals", "one_of", "none_of", "exists") if params.get(k) is not None]
    if not given:
        report("type", "RUL012", "meta needs one of equals / one_of / none_of / exists")
    for k in ("one_of", "none_of"):
        if params.get(k) is not None:
            if not params[k]:
                report(k, "RUL021", f"{k} is an empty list")
            params[k] = frozenset(str(v) for v in params[k])
    return params


def meta_matches(meta: dict, field: str, equals: Any = None, one_of=None, none_of=None, exists=None) -> bool:
    """Whether call metadata satisfies a test (shared by the ``meta`` condition and rule ``when:``)."""
    present = meta.get(field) not in (None, "")
    value = str(meta.get(field)) if present else None
    if exists is not None and present != exists:
        return False
    if equals is not None and value != str(equals):
        return False
    if one_of is not None and value not in one_of:
        return False
    if none_of is not None and value in none_of:
        return False
    return True


@condition("meta", prepare=_prepare_meta)
def meta(
    ctx: CallContext,
    scope: tuple[int, ...],
    *,
    field: str,
    equals: Any = None,
    one_of: list | None = None,
    none_of: list | None = None,
    exists: bool | None = None,
) -> list[Hit]:
    """Call metadata (calls.csv columns: queue, direction, team...) ``equals`` a value, is ``one_of``
    / ``none_of`` a list, or ``exists``. A whole-call hit when it does."""
    ok = meta_matches(ctx.transcript.meta, field, equals, one_of, none_of, exists)
    return [Hit(None, value=ctx.transcript.meta.get(field))] if ok else []


def _prepare_fact(params: dict, report: Report) -> dict:
    check_role(params, report)
    rx = compile_regex(params["capture"], "capture", report)
    if rx is not None and rx.groups < 1:
        report("capture", "RUL020", "capture needs a group ( ... ) around the stated value")
    params["capture"] = rx
    if not params.get("allowed"):
        report("allowed", "RUL021", "allowed is empty: list the values the knowledge base allows")
    params["allowed"] = frozenset(_canon(v) for v in params.get("allowed") or ())
    return params


def _canon(value: Any) -> str:
    text = normalize_text(str(value))
    try:
        return repr(float(text))
    except ValueError:
        return text


@condition("fact", prepare=_prepare_fact)
def fact(ctx: CallContext, scope: tuple[int, ...], *, capture: str, allowed: list, role: str = "agent") -> list[Hit]:
    """Facts against a knowledge base: ``capture`` (a regex on normalised text, digits already
    converted: 七天 -> 7天) takes the value the agent states in its first group; a hit (wrong
    information, 业务知识错误) when that value is not in ``allowed``."""
    hits = []
    try:
        found = matches_each(ctx, in_role(ctx, scope, role), capture)
    except TimeoutError:
        raise NotApplicable(f"capture regex {capture.pattern!r} timed out; simplify it") from None
    for i, off, m in found:
        value = m.group(1)
        if value is not None and _canon(value) not in allowed:
            s, e = m.span(1)
            hits.append(Hit(i, ctx.norm(i).original_span(s - off, e - off), value=value, note=f"stated {value}"))
    return hits


def _prepare_ticket(params: dict, report: Report) -> dict:
    items = params.get("items") or []
    compiled = []
    for n, item in enumerate(items):
        if not isinstance(item, dict) or not {"name", "pattern"} <= set(item) or set(item) - {"name", "pattern", "role"}:
            report("items", "RUL013", f"items[{n}] must be a mapping with name, pattern and optional role")
            continue
        check_role(item, report)
        rx = compile_regex(str(item["pattern"]), "items", report)
        if rx is not None:
            compiled.append((str(item["name"]), rx, item.get("role")))
    params["items"] = tuple(compiled)
    params["keywords"] = tuple(normalize_text(str(k)) for k in params.get("keywords") or ())
    if not compiled and not params["keywords"] and not params.get("min_chars"):
        report("type", "RUL012", "ticket needs items, keywords or min_chars")
    return params


@condition("ticket", prepare=_prepare_ticket)
def ticket(
    ctx: CallContext,
    scope: tuple[int, ...],
    *,
    field: str = "ticket_note",
    items: list | None = None,
    keywords: list[str] | None = None,
    min_chars: int = 0,
) -> list[Hit]:
    """The agent's work-order note (metadata ``field``, from calls.csv) must record key information:
    each of ``items`` ({name, pattern, role}) whose pattern matches in the call (a callback number,
    an order number) must appear in the note with the same value (the first group, else the whole
    match); the note must contain one of ``keywords`` (the customer's request) and ``min_chars``
    characters. Hits are what is missing. Calls without the field are not applicable."""
    note_raw = ctx.transcript.meta.get(field)
    if note_raw is None:
        raise NotApplicable(f"no {field!r} in the call metadata")
    note = normalize_text(str(note_raw))
    hits: list[Hit] = []
    if len(note) < max(min_chars, 1):
        return [Hit(None, value=str(note_raw), note=f"{field} is empty or shorter than {min_chars} characters")]
    if keywords and not any(k in note for k in keywords):
        hits.append(Hit(None, value=str(note_raw), note=f"{field} does not record the request"))
    for name, rx, role in items or ():
        found = _first_match(ctx, in_role(ctx, scope, role), rx)
        if found is not None:
            i, off, m = found
            value = m.group(1) if rx.groups and m.group(1) else m.group(0)
            if value not in note:
                s, e = m.span()
                hits.append(Hit(i, ctx.norm(i).original_span(s - off, e - off), value=value, note=f"{name} {value} not in {field}"))
    return hits


def _first_match(ctx: CallContext, idx: tuple[int, ...], rx: Any) -> tuple[int, int, Any] | None:
    """The first utterance of ``idx`` where ``rx`` matches, with the offset and match."""
    if len(idx) > 1 and joinable(rx):
        joined, starts = ctx.joined(idx)
        try:
            m = rx.search(joined, timeout=REGEX_TIMEOUT_S)
        except TimeoutError:
            m = False  # fall back to one search per utterance, each with its own time limit
        if m is None:
            return None
        if m:
            import bisect

            k = bisect.bisect_right(starts, m.start()) - 1
            return idx[k], starts[k], m
    for i in idx:
        m = rx.search(ctx.text(i), timeout=REGEX_TIMEOUT_S)
        if m:
            return i, 0, m
    return None


def _prepare_sentiment(params: dict, report: Report) -> dict:
    check_role(params, report)
    v = params.get("min_negativity", 0.7)
    if not 0 < v <= 1:
        report("min_negativity", "RUL022", f"min_negativity {v} can never match; use (0, 1]")
    return params


@condition("sentiment", prepare=_prepare_sentiment)
def sentiment(
    ctx: CallContext, scope: tuple[int, ...], *, role: str = "customer", min_negativity: float = 0.7, min_count: int = 1
) -> list[Hit]:
    """Utterances of ``role`` whose negativity (0..1, from the emotion stage: the CallEmotion given to
    ``inspect``, else ``qc.emotion.score_utterances`` on the text) is at least ``min_negativity``;
    hits only when there are ``min_count`` or more."""
    by_index = {e.index: e for e in ctx.emotions()}
    hits = []
    for i in in_role(ctx, scope, role):
        e = by_index.get(i)
        if e is not None and e.negativity >= min_negativity:
            hits.append(Hit(i, value=round(e.negativity, 2)))
    return hits if len(hits) >= min_count else []
