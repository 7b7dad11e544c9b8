"""Risk and complaint cues. Risk: the customer threatens the media, a regulator or the law, or reports a privacy
breach or a safety hazard. The cue table lives in one place (qc.emotion.lexicon) and the emotion
stage raises its risk flags from the same function, so a rule and CallEmotion.risks never disagree.
Complaint: the customer shows dissatisfaction (EMPA01's trigger); the same list makes the emotion
stage's complaint."""

from __future__ import annotations

from typing import Any, Callable

from qc.rules.conditions.common import check_role, in_role
from qc.rules.context import Hit
from qc.rules.registry import condition

Report = Callable[[str, str, str], None]

RISK_KINDS = ("media", "regulator", "lawyer", "privacy", "safety")


def _prepare_risk(params: dict, report: Report) -> dict:
    check_role(params, report)
    kind = params.get("kind")
    if kind not in RISK_KINDS:
        from qc.yamlfile import did_you_mean

        report("kind", "RUL013", f"kind must be one of {', '.join(RISK_KINDS)}, not {kind!r}{did_you_mean(str(kind), RISK_KINDS)}")
    return params


@condition("risk_cue", prepare=_prepare_risk)
def risk_cue(ctx: Any, scope: tuple[int, ...], *, kind: str, role: str | None = None) -> list[Hit]:
    """A risk cue of ``kind`` (media, regulator, lawyer, privacy, safety) in a line: exact phrases,
    tagged @accounts, and ASR sound-alikes on word boundaries, from the table in
    ``qc/emotion/lexicon.py`` (see docs/emotion.md). ``role``: whose lines; by default every line
    that is not the agent's. One hit per line, on its first cue of that kind."""
    from qc.emotion.risk import risk_cues

    idx = in_role(ctx, scope, role) if role is not None else tuple(i for i in scope if ctx.roles[i] != "agent")
    hits = []
    us = ctx.utterances
    for i in idx:
        for c in risk_cues(us[i].text):
            if c.kind == kind:
                hits.append(Hit(i, c.span, value=us[i].text[c.span[0]:c.span[1]]))
                break
    return hits


def _prepare_complaint(params: dict, report: Report) -> dict:
    check_role(params, report)
    return params


@condition("complaint_cue", prepare=_prepare_complaint)
def complaint_cue(ctx: Any, scope: tuple[int, ...], *, role: str | None = None) -> list[Hit]:
    """The customer complains: a dissatisfaction cue from ``COMPLAINT_CUES`` in
    ``qc/emotion/lexicon.py`` (太差, 真烂, 糟糕, 乱收费, 太气人, 没解决, 投诉, 退钱...), not inside one of
    ``COMPLAINT_UNLESS_IN`` (请问这是怎么回事). ``role``: whose lines; by default every line that is not
    the agent's. One hit per line, on its first cue."""
    from qc.emotion.risk import complaint_cues

    idx = in_role(ctx, scope, role) if role is not None else tuple(i for i in scope if ctx.roles[i] != "agent")
    hits = []
    us = ctx.utterances
    for i in idx:
        found = complaint_cues(us[i].text)
        if found:
            cue, span = found[0]
            hits.append(Hit(i, span, value=us[i].text[span[0]:span[1]]))
    return hits
