"""Per-call scores: a call's findings against a loaded scorecard, with the trace
item → rule → utterance → time → points (the rules are in the package docstring, :mod:`qc.scoring`).
"""

from __future__ import annotations

from typing import Mapping

from qc.scoring.scorecard import Scorecard
from qc.types import (
    CallEmotion,
    CallInspection,
    CallScore,
    Deduction,
    DimensionScore,
    Finding,
    ItemScore,
    Transcript,
)

__all__ = ["VERDICTS", "score_call", "unscored_findings"]

#: Reviewer verdicts on a machine finding.
VERDICTS: tuple[str, ...] = ("confirmed", "false_positive")


def _first_start(f: Finding) -> float:
    for e in f.evidence:
        if e.start is not None:
            return e.start
    return float("inf")


def score_call(
    transcript: Transcript | None,
    inspection: CallInspection,
    emotion: CallEmotion | None,
    scorecard: Scorecard,
    verdicts: Mapping[str, str] | None = None,
) -> CallScore:
    """Score one call against a scorecard, keeping the trace item → rule → utterance → time → points.

    Args:
        transcript: the call (for its agent id; may be None).
        inspection: the rule engine's findings for the call.
        emotion: the call's emotion summary (not scored here; scores do not move with the
            customer's mood, only with the agent's conduct as the rules judge it).
        scorecard: a loaded scorecard.
        verdicts: optional reviewer verdicts for this call, rule code -> "confirmed" or
            "false_positive". With verdicts the score is the "reviewed" one: confirmed
            ``needs_review`` hits deduct and rejected hits do not.

    Returns:
        The CallScore (``score`` 0..100, 0 when a fatal item was hit).
    """
    del emotion  # kept in the signature so every stage is called the same way
    verdicts = dict(verdicts or {})
    checked = set(inspection.checked)
    not_applicable = inspection.not_applicable
    by_rule: dict[str, list[Finding]] = {}
    for f in inspection.findings:
        if f.kind == "violation":
            by_rule.setdefault(f.rule, []).append(f)

    items: list[ItemScore] = []
    dimensions: list[DimensionScore] = []
    fatal_items: list[str] = []
    pending = 0
    for dim in scorecard.dimensions:
        d_points = d_deducted = 0.0
        for item in dim.items:
            hits = sorted((f for code in item.rules for f in by_rule.get(code, [])), key=_first_start)
            applicable = bool(hits) or not all(
                code in not_applicable or (checked and code not in checked) for code in item.rules
            )
            score = ItemScore(
                item=item.id, name=item.name, dimension=dim.name, rules=list(item.rules), points=item.points,
                fatal=item.fatal, severity=item.severity,
            )
            if not applicable:
                score.status = "not_applicable"
                items.append(score)
                continue
            left = item.points
            hit_for_real = False
            for f in hits:
                verdict = verdicts.get(f.rule)
                evidence = f.evidence[0] if f.evidence else None
                if verdict == "false_positive":
                    score.deductions.append(Deduction(f.rule, 0.0, "rejected", f.message, evidence))
                    continue
                if f.needs_review and verdict != "confirmed":
                    pending += 1
                    score.deductions.append(Deduction(f.rule, 0.0, "pending_review", f.message, evidence))
                    continue
                hit_for_real = True
                take = min(item.deduct, left)
                left -= take
                status = "fatal" if item.fatal else ("deducted" if take > 0 else "capped")
                score.deductions.append(Deduction(f.rule, take, status, f.message, evidence))
            score.deducted = item.points - left
            if hit_for_real and item.fatal:
                score.status = "fatal"
                fatal_items.append(item.id)
            elif score.deducted > 0:
                score.status = "deducted"
            d_points += item.points
            d_deducted += score.deducted
            items.append(score)
        dimensions.append(DimensionScore(name=dim.name, points=d_points, earned=d_points - d_deducted, deducted=d_deducted))

    applicable_total = sum(d.points for d in dimensions)
    earned = sum(d.earned for d in dimensions)
    value = 100.0 * earned / applicable_total if applicable_total > 0 else 100.0
    if fatal_items:
        value = 0.0
    value = round(value, 1)
    return CallScore(
        call_id=inspection.call_id,
        scorecard=scorecard.name,
        score=value,
        passed=not fatal_items and value >= scorecard.pass_line,
        pass_line=scorecard.pass_line,
        earned=earned,
        applicable=applicable_total,
        agent_id=transcript.agent_id if transcript is not None else None,
        fatal=bool(fatal_items),
        fatal_items=fatal_items,
        dimensions=dimensions,
        items=items,
        pending_review=pending,
        basis="reviewed" if verdicts else "machine",
    )


def unscored_findings(inspection: CallInspection, scorecard: Scorecard) -> list[Finding]:
    """Violations whose rule no scorecard item covers (shown in reports as 未计分)."""
    covered = scorecard.item_for_rule()
    return [f for f in inspection.findings if f.kind == "violation" and f.rule not in covered]
