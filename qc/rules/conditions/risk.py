"""Risk and complaint cues. Risk: the customer threatens the media, a regulator or the law, or reports a privacy
breach or a safety hazard. These conditions (RISK01-05) are the one risk detector: the queue and
the reports read their findings; the cue table lives in one place (qc.emotion.lexicon).
Complaint: the customer shows dissatisfaction (EMPA01's trigger); the same list makes the emotion
stage's complaint."""

from __future__ import annotations

from qc.rules.conditions.common import check_role, first_match_per_line, in_role
from qc.rules.context import CallContext, Hit
from qc.rules.registry import Report, condition


def _prepare_risk(params: dict, report: Report) -> dict:
    from qc.emotion.risk import RISK_KINDS  # the cue table's kinds (one definition)

    check_role(params, report)
    kind = params.get("kind")
    if kind not in RISK_KINDS:
        from qc.yamlfile import did_you_mean

        report("kind", "RUL013", f"kind must be one of {', '.join(RISK_KINDS)}, not {kind!r}{did_you_mean(str(kind), RISK_KINDS)}")
    return params


@condition("risk_cue", prepare=_prepare_risk)
def risk_cue(ctx: CallContext, scope: tuple[int, ...], *, kind: str, role: str | None = None) -> list[Hit]:
    """A risk cue of ``kind`` (media, regulator, lawyer, privacy, safety) in a line: exact phrases,
    tagged @accounts, and ASR sound-alikes on word boundaries, from the table in
    ``qc/emotion/lexicon.py`` (see docs/emotion.md). ``role``: whose lines; by default every line
    that is not the agent's. One hit per line, on its first cue of that kind."""
    idx = in_role(ctx, scope, role) if role is not None else tuple(i for i in scope if ctx.roles[i] != "agent")
    first = _first_cues(ctx)
    hits = []
    for i in idx:
        c = first[i].get(kind)
        if c is not None:
            hits.append(Hit(i, c.span, value=ctx.utterances[i].text[c.span[0]:c.span[1]]))
    return hits


class _FirstCues(dict):
    """Utterance index -> its first cue of each risk kind, filled on first use and kept for the call
    (the five risk rules ask about the same lines)."""

    def __init__(self, utterances: list) -> None:
        super().__init__()
        self.utterances = utterances

    def __missing__(self, i: int) -> dict:
        from qc.emotion.risk import risk_cues

        first: dict = {}
        for c in risk_cues(self.utterances[i].text):
            first.setdefault(c.kind, c)
        self[i] = first
        return first


def _first_cues(ctx: CallContext) -> _FirstCues:
    got = ctx.memo.get("risk_cues")
    if got is None:
        got = ctx.memo["risk_cues"] = _FirstCues(ctx.utterances)
    return got


def _prepare_complaint(params: dict, report: Report) -> dict:
    check_role(params, report)
    return params


@condition("complaint_cue", prepare=_prepare_complaint)
def complaint_cue(ctx: CallContext, scope: tuple[int, ...], *, role: str | None = None) -> list[Hit]:
    """The customer complains: a dissatisfaction cue from ``COMPLAINT_CUES`` in
    ``qc/emotion/lexicon.py`` (太差, 真烂, 糟糕, 乱收费, 太气人, 没解决, 投诉, 退钱...), not inside one of
    ``COMPLAINT_UNLESS_IN`` (请问这是怎么回事). ``role``: whose lines; by default every line that is not
    the agent's. One hit per line, on its first cue."""
    from qc.emotion.risk import complaint_matcher

    idx = in_role(ctx, scope, role) if role is not None else tuple(i for i in scope if ctx.roles[i] != "agent")
    if not idx:
        return []
    rx, holders, inside = complaint_matcher()

    def held(i: int, s: int, e: int, m) -> bool:  # the cue inside a longer phrase that is no complaint
        h = holders[m.group(0)]
        return bool(h) and inside(ctx.text(i), s, e, h)

    # one search over the lines joined (a cue never spans a newline), as complaint_cues does per line
    first = first_match_per_line(ctx, idx, rx, held)
    us = ctx.utterances
    hits = []
    for i in sorted(first):
        span = ctx.norm(i).original_span(*first[i])
        hits.append(Hit(i, span, value=us[i].text[span[0]:span[1]]))
    return hits
