"""Conditions that combine or place other conditions: all / any / not, scope windows, sequences."""

from __future__ import annotations

import bisect

from qc.rules.conditions.common import check_role, in_role
from qc.rules.context import CallContext, Hit, NotApplicable
from qc.rules.registry import Cond, Report, condition


def _merge(hit_lists: list[list[Hit]]) -> list[Hit]:
    seen: dict[tuple, Hit] = {}
    for hits in hit_lists:
        for h in hits:
            seen.setdefault((h.utterance, h.span, h.start), h)
    if any(h.utterance is not None for h in seen.values()):
        # whole-call hits (metadata, "absent") add nothing to evidence that points at utterances
        seen = {k: h for k, h in seen.items() if h.utterance is not None}
    return sorted(seen.values(), key=lambda h: (-1 if h.utterance is None else h.utterance, h.span or (0, 0)))


def _prepare_list(params: dict, report: Report) -> dict:
    if not params.get("conditions"):
        report("conditions", "RUL021", "give at least one condition")
    return params


@condition("all", prepare=_prepare_list, children=("conditions",))
def all_(ctx: CallContext, scope: tuple[int, ...], *, conditions: list[Cond]) -> list[Hit]:
    """Every condition holds (each has at least one hit); the hits of all of them are the evidence."""
    results = []
    for c in conditions:
        hits = c.run(ctx, scope)
        if not hits:
            return []
        results.append(hits)
    return _merge(results)


@condition("any", prepare=_prepare_list, children=("conditions",))
def any_(ctx: CallContext, scope: tuple[int, ...], *, conditions: list[Cond]) -> list[Hit]:
    """At least one condition holds; the hits of those that do are the evidence."""
    return _merge([c.run(ctx, scope) for c in conditions])


@condition("not", children=("condition",))
def not_(ctx: CallContext, scope: tuple[int, ...], *, condition: Cond) -> list[Hit]:
    """The condition does not hold anywhere in scope (one whole-scope hit), else no hit."""
    return [] if condition.run(ctx, scope) else [Hit(None, note="condition absent")]


def _prepare_scope(params: dict, report: Report) -> dict:
    check_role(params, report)
    for key in ("first", "last", "or_first"):
        if params.get(key) is not None and params[key] < 1:
            report(key, "RUL022", f"{key}: {params[key]} utterances can never match; use 1 or more")
    for key in ("first_seconds", "last_seconds"):
        if params.get(key) is not None and params[key] <= 0:
            report(key, "RUL022", f"{key}: a window of {params[key]} s can never match; use a positive number")
    given = [k for k in ("first", "last", "first_seconds", "last_seconds") if params.get(k) is not None]
    if params.get("first") is not None and params.get("last") is not None:
        report("last", "RUL022", "give first or last, not both")
    if params.get("first_seconds") is not None and params.get("last_seconds") is not None:
        report("last_seconds", "RUL022", "give first_seconds or last_seconds, not both")
    if params.get("anchor", "call_start") not in ("call_start", "agent_first"):
        report("anchor", "RUL013", "anchor must be 'call_start' or 'agent_first'")
    if params.get("or_first") is not None and params.get("first_seconds") is None:
        report("or_first", "RUL022", "or_first is the fallback of first_seconds for transcripts without times")
    if not given and params.get("role") in (None, "any") and params.get("match") is None:
        report("type", "RUL022", "a scope without role or window restricts nothing")
    return params


@condition("scope", prepare=_prepare_scope, children=("match",))
def scope_(
    ctx: CallContext,
    scope: tuple[int, ...],
    *,
    role: str | None = None,
    first: int | None = None,
    last: int | None = None,
    first_seconds: float | None = None,
    last_seconds: float | None = None,
    anchor: str = "call_start",
    or_first: int | None = None,
    match: Cond | None = None,
) -> list[Hit]:
    """Restrict ``match`` to a window: utterances of ``role``; the ``first``/``last`` N of them; or
    those starting within ``first_seconds`` of the ``anchor`` (``call_start``, or ``agent_first``: the
    agent's first words, so ring-back and IVR do not count) or within ``last_seconds`` of the end.
    Windows in seconds need times; ``or_first: N`` uses the first N utterances on transcripts
    without times instead of skipping the rule. Without ``match`` every utterance in the window is a hit."""
    idx = in_role(ctx, scope, role)
    if first_seconds is not None or last_seconds is not None:
        if not ctx.has_timing:
            if or_first is None:
                raise NotApplicable("a window in seconds needs utterance times; this transcript has none")
            idx = idx[:or_first]
        else:
            us = ctx.utterances
            if first_seconds is not None:
                t0 = ctx.agent_first_start if anchor == "agent_first" else 0.0
                t0 = 0.0 if t0 is None else t0
                idx = tuple(i for i in idx if t0 - 1e-9 <= us[i].start <= t0 + first_seconds)
            else:
                end = ctx.transcript.duration or max(u.end for u in us)
                idx = tuple(i for i in idx if us[i].end >= end - last_seconds)
    if first is not None:
        idx = idx[:first]
    if last is not None:
        idx = idx[-last:]
    if match is None:
        return [Hit(i) for i in idx]
    return match.run(ctx, idx)


def _prepare_sequence(params: dict, report: Report) -> dict:
    check_role(params, report, "by")
    if params.get("within") is not None and params["within"] < 1:
        report("within", "RUL022", f"within {params['within']} utterances can never match; use 1 or more")
    if params.get("within_seconds") is not None and params["within_seconds"] <= 0:
        report("within_seconds", "RUL022", "within_seconds must be positive")
    if params.get("direction", "after") not in ("after", "before"):
        report("direction", "RUL013", "direction must be 'after' or 'before'")
    return params


@condition("sequence", prepare=_prepare_sequence, children=("when", "then"))
def sequence(
    ctx: CallContext,
    scope: tuple[int, ...],
    *,
    when: Cond,
    then: Cond,
    must: bool = True,
    by: str | None = None,
    within: int | None = None,
    within_seconds: float | None = None,
    direction: str = "after",
    include_trigger: bool = False,
) -> list[Hit]:
    """*When* a trigger happens, *then* something must (``must: true``) or must not (``must: false``)
    follow. The follow-up window is the next ``within`` utterances of role ``by`` (all roles if not
    given) and/or those starting within ``within_seconds`` of the trigger's end; ``direction: before``
    looks back instead (identity checked before account details are read out).
    ``include_trigger``: the trigger utterance itself may hold the follow-up.
    Hits are violations: the trigger when the follow-up is missing, or the forbidden follow-up."""
    us = ctx.utterances
    out: list[Hit] = []
    seen: set[int] = set()
    triggers = when.run(ctx, scope)
    if not triggers:
        return out
    pool = in_role(ctx, ctx.all, by)  # the window is cut from the whole call, whatever the scope
    for trig in triggers:
        t = trig.utterance
        if t is None or t in seen:
            continue
        seen.add(t)
        if direction == "after":
            k = bisect.bisect_right(pool, t)
            window = pool[k:k + within] if within is not None else pool[k:]
        else:
            k = bisect.bisect_left(pool, t)
            window = pool[max(0, k - within):k] if within is not None else pool[:k]
        if within_seconds is not None:
            if not ctx.has_timing:
                if within is None:
                    raise NotApplicable("within_seconds needs utterance times; this transcript has none")
            elif direction == "after":
                t_end = us[t].end
                window = tuple(i for i in window if us[i].start <= t_end + within_seconds)
            else:
                t_start = us[t].start
                window = tuple(i for i in window if us[i].end >= t_start - within_seconds)
        if include_trigger:
            window = (t, *window) if direction == "after" else (*window, t)
        follow = then.run(ctx, window) if window else []
        if must and not follow:
            out.append(Hit(t, trig.span, value=trig.value, note="expected follow-up missing"))
        elif not must and follow:
            out.extend(follow)
    return out
