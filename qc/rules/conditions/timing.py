"""Timing conditions: dead air, response delay, interruptions, speech rate, duration, talk ratio.

All need utterance times; on a transcript without them they raise NotApplicable, so a
hand-written or chat transcript never gets a false timing violation.
"""

from __future__ import annotations

from qc.rules.conditions.common import check_role, in_role, phrases
from qc.rules.context import CallContext, Hit
from qc.rules.registry import Report, condition


def _positive(params: dict, report: Report, *keys: str) -> None:
    for k in keys:
        v = params.get(k)
        if v is not None and v <= 0:
            report(k, "RUL022", f"{k}: {v} can never match; use a positive number")


def _prepare_silence(params: dict, report: Report) -> dict:
    _positive(params, report, "min_seconds")
    check_role(params, report, "before_role")
    check_role(params, report, "after_role")
    params["except_after"] = phrases(params, "except_after", report, allow_empty=False)
    return params


def _time_order(ctx: CallContext, scope: tuple[int, ...]) -> list[int]:
    us = ctx.utterances
    return sorted(scope, key=lambda i: (us[i].start, us[i].end))


@condition("silence", prepare=_prepare_silence, needs_timing=True)
def silence(
    ctx: CallContext,
    scope: tuple[int, ...],
    *,
    min_seconds: float,
    before_role: str | None = None,
    after_role: str | None = None,
    except_after: list[str] | None = None,
) -> list[Hit]:
    """Dead air: nobody speaks for ``min_seconds`` or more between two utterances (silence before
    the first words is ring-back, not dead air). ``before_role``: only gaps the given role breaks
    (the agent kept the customer waiting); ``after_role``: only gaps after that role spoke.
    ``except_after``: a gap after an utterance with one of these phrases (请稍等) is an announced hold."""
    ctx.require_timing("silence")
    us = ctx.utterances
    order = _time_order(ctx, scope)
    hits: list[Hit] = []
    last_end, last_i = None, None
    for i in order:
        u = us[i]
        if last_end is not None and u.start - last_end >= min_seconds:
            ok_role = (before_role in (None, "any") or u.role == before_role) and (
                after_role in (None, "any") or us[last_i].role == after_role
            )
            announced = except_after and any(p in ctx.text(last_i) for p in except_after)
            if ok_role and not announced:
                hits.append(Hit(i, start=last_end, end=u.start, value=round(u.start - last_end, 1)))
        if last_end is None or u.end > last_end:
            last_end, last_i = u.end, i
    return hits


def _prepare_delay(params: dict, report: Report) -> dict:
    _positive(params, report, "min_seconds")
    check_role(params, report)
    check_role(params, report, "after_role")
    return params


@condition("response_delay", prepare=_prepare_delay, needs_timing=True)
def response_delay(
    ctx: CallContext,
    scope: tuple[int, ...],
    *,
    min_seconds: float,
    role: str = "agent",
    after_role: str = "customer",
    from_first: bool = False,
) -> list[Hit]:
    """``role`` takes ``min_seconds`` or longer to answer after ``after_role`` stops speaking.
    ``from_first``: measure from the first of ``after_role``'s unanswered lines, not the last (a chat
    customer who sends three messages has waited since the first)."""
    ctx.require_timing("response_delay")
    us = ctx.utterances
    order = _time_order(ctx, scope)
    hits = []
    waiting = None  # the first unanswered line of after_role
    for a, b in zip(order, order[1:]):
        if us[a].role == after_role and waiting is None:
            waiting = a
        elif us[a].role != after_role:
            waiting = None
        if us[a].role == after_role and us[b].role == role:
            since = us[waiting].end if from_first and waiting is not None else us[a].end
            gap = us[b].start - since
            if gap >= min_seconds:
                hits.append(Hit(b, start=since, end=us[b].start, value=round(gap, 1)))
    return hits


def _prepare_interrupt(params: dict, report: Report) -> dict:
    check_role(params, report, "by")
    _positive(params, report, "min_overlap_ms", "min_count")
    return params


@condition("interruption", prepare=_prepare_interrupt, needs_timing=True)
def interruption(
    ctx: CallContext,
    scope: tuple[int, ...],
    *,
    by: str = "agent",
    min_overlap_ms: float = 500,
    min_count: int = 1,
    min_chars: int = 3,
) -> list[Hit]:
    """``by`` starts speaking while the other side is still talking, overlapping it by at least
    ``min_overlap_ms``; hits only when it happens ``min_count`` times or more. Utterances shorter than
    ``min_chars`` (嗯, 对, 好的: back-channel) are not interruptions."""
    ctx.require_timing("interruption")
    us = ctx.utterances
    order = _time_order(ctx, scope)
    hits = []
    texts = ctx.texts
    others: list = []  # earlier utterances of the other side, in time order, that may still be running
    for j in order:
        uj = us[j]
        if uj.role != by:
            others.append(uj)
            continue
        if len(texts[j]) < min_chars:
            continue
        # ``order`` is sorted by start, so one that ended before this start ends before every later one
        others = [ui for ui in others if ui.end > uj.start]
        for ui in others:
            if ui.start < uj.start < ui.end:
                overlap = min(ui.end, uj.end) - uj.start
                if overlap * 1000 >= min_overlap_ms:
                    hits.append(Hit(j, start=uj.start, end=min(ui.end, uj.end), value=round(overlap, 2)))
                    break
    return hits if len(hits) >= min_count else []


def _prepare_rate(params: dict, report: Report) -> dict:
    check_role(params, report)
    _positive(params, report, "max_cpm", "min_cpm", "pause_seconds")
    if params.get("edge_seconds") is not None and params["edge_seconds"] < 0:
        report("edge_seconds", "RUL022", "edge_seconds must be >= 0")
    if params.get("max_cpm") is None and params.get("min_cpm") is None:
        report("type", "RUL012", "speech_rate needs max_cpm and/or min_cpm")
    if params.get("per", "turn") not in ("turn", "utterance", "call"):
        report("per", "RUL013", "per must be 'turn', 'utterance' or 'call'")
    return params


@condition("speech_rate", prepare=_prepare_rate, needs_timing=True)
def speech_rate(
    ctx: CallContext,
    scope: tuple[int, ...],
    *,
    role: str = "agent",
    max_cpm: float | None = None,
    min_cpm: float | None = None,
    per: str = "turn",
    min_chars: int = 10,
    pause_seconds: float = 1.0,
    edge_seconds: float = 0.2,
) -> list[Hit]:
    """Speaking rate in characters per minute of voiced time (normalised characters) above
    ``max_cpm`` or below ``min_cpm``; utterances under ``min_chars`` are not judged.
    ``per: turn`` (default) judges each utterance with its share of the turn's voiced time: the
    role's consecutive utterances (nobody else starting in between) are one stretch of speech,
    and half of each pause up to ``pause_seconds`` between two of them is given to each side
    (longer pauses, a hold or a lookup, are not speaking time); ``edge_seconds`` is added for
    the word times ASR leaves out at the ends. ``per: utterance`` uses each utterance's own span,
    ``per: call`` the role's whole speech."""
    ctx.require_timing("speech_rate")
    us = ctx.utterances
    idx = [i for i in in_role(ctx, scope, role) if us[i].end > us[i].start]

    def bad(cpm: float) -> bool:
        return (max_cpm is not None and cpm > max_cpm) or (min_cpm is not None and cpm < min_cpm)

    if per == "call":
        chars = sum(len(ctx.text(i)) for i in idx)
        secs = _voiced_seconds([(us[i].start, us[i].end) for i in idx], pause_seconds)
        if chars < min_chars or secs <= 0:
            return []
        cpm = chars / secs * 60
        return [Hit(None, value=round(cpm))] if bad(cpm) else []
    voiced = {i: us[i].end - us[i].start for i in idx}
    if per == "turn":
        for turn in _turns(ctx, idx):
            turn = sorted(turn, key=lambda i: us[i].start)
            for i in turn:
                voiced[i] += edge_seconds
            for a, b in zip(turn, turn[1:]):
                gap = us[b].start - us[a].end
                if 0 < gap <= pause_seconds:
                    voiced[a] += gap / 2
                    voiced[b] += gap / 2
    hits = []
    for i in idx:
        n = len(ctx.text(i))
        if n >= min_chars:
            cpm = n / voiced[i] * 60
            if bad(cpm):
                hits.append(Hit(i, value=round(cpm)))
    return hits


def _turns(ctx: CallContext, idx: list[int]) -> list[list[int]]:
    """Group the role's utterances into turns: consecutive in time, no other speaker starting between."""
    us = ctx.utterances
    mine = set(idx)
    turns: list[list[int]] = []
    current: list[int] = []
    for i in sorted(ctx.all, key=lambda k: (us[k].start if us[k].start is not None else 0.0, k)):
        if i in mine:
            current.append(i)
        elif current and us[i].role not in (None, us[current[0]].role):
            turns.append(current)
            current = []
    if current:
        turns.append(current)
    return turns


def _voiced_seconds(spans: list[tuple[float, float]], pause: float) -> float:
    """Time from first to last word of each stretch of speech; gaps over ``pause`` s left out."""
    total, run_start, run_end = 0.0, None, None
    for a, b in sorted(spans):
        if run_end is not None and a - run_end <= pause:
            run_end = max(run_end, b)
            continue
        if run_end is not None:
            total += run_end - run_start
        run_start, run_end = a, b
    if run_end is not None:
        total += run_end - run_start
    return total


def _prepare_minmax(params: dict, report: Report) -> dict:
    lo, hi = params.get("min"), params.get("max")
    if lo is None and hi is None:
        report("type", "RUL012", "give min and/or max")
    if lo is not None and hi is not None and lo >= hi:
        report("max", "RUL022", f"max {hi} <= min {lo}: the allowed range is empty")
    return params


@condition("duration", prepare=_prepare_minmax, needs_timing=True)
def duration(ctx: CallContext, scope: tuple[int, ...], *, min: float | None = None, max: float | None = None) -> list[Hit]:
    """Call duration in seconds outside [``min``, ``max``] (a whole-call hit)."""
    ctx.require_timing("duration")
    d = ctx.transcript.duration
    if d is None:
        return []
    if (min is not None and d < min) or (max is not None and d > max):
        return [Hit(None, start=0.0, end=d, value=round(d, 1))]
    return []


def _prepare_ratio(params: dict, report: Report) -> dict:
    check_role(params, report)
    for k in ("min", "max"):
        v = params.get(k)
        if v is not None and not 0 <= v <= 1:
            report(k, "RUL022", f"{k} is a fraction of talk time in [0, 1], not {v}")
    return _prepare_minmax(params, report)


@condition("talk_ratio", prepare=_prepare_ratio, needs_timing=True)
def talk_ratio(
    ctx: CallContext, scope: tuple[int, ...], *, role: str = "agent", min: float | None = None, max: float | None = None
) -> list[Hit]:
    """``role``'s share of all talk time outside [``min``, ``max``] (fractions, a whole-call hit)."""
    ctx.require_timing("talk_ratio")
    us = ctx.utterances
    total = sum(us[i].end - us[i].start for i in scope)
    if total <= 0:
        return []
    mine = sum(us[i].end - us[i].start for i in in_role(ctx, scope, role))
    r = mine / total
    if (min is not None and r < min) or (max is not None and r > max):
        return [Hit(None, value=round(r, 2))]
    return []
