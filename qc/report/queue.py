"""The re-review queue: which calls QA staff should listen to first, and why.

Every call gets a priority, the sum of these documented points (see docs/scoring.md; the night
report prints the same table). A call with nothing to review gets 0 and is not queued.

=========================================  ===============================================
signal                                      points
=========================================  ===============================================
fatal item hit (一票否决)                     100
fatal rule hit waiting for review            60 × the rule's precision
customer dissatisfied (call model p >= 0.5)  60 × p
problem unresolved (call model p >= 0.5)     30 × p
risk finding (RISK01-05: media, regulator…)  30 per kind, at most 60
rule deductions                              per deducted rule: points lost × severity
                                             weight (critical 2, major 1, minor 0.5) ×
                                             the rule's precision; at most 40 in all
agent lost temper                            20
complaint graded 紧急危机 (crisis)           20
needs_review hits (low ASR confidence)       8 each, at most 24
repeat complaint                             20
=========================================  ===============================================

A deducted rule hit is something to review even on a call that passes: a reviewer's verdict on
it is what measures the rule's precision. ``p`` is the calibrated probability of the call outcome models (:mod:`qc.emotion.dialogue`,
trained on annotated customer-service dialogues). A rule's precision is what reviewers' verdicts
say (confirmed / reviewed, from the history database), pulled towards a prior of 0.7 by two
pseudo-verdicts so a rule with one verdict is neither trusted nor muted.

Calls with priority above zero are queued, highest first (ties: lower score first, then call
id). A *calibration sample* of clean calls (no findings, no risk, passed) is drawn at random with a
seed, so that reviewers also see calls the machine thought fine and the machine's recall can be
estimated, not only its precision.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

from qc.emotion.summary import RISK_NAMES, risk_names  # noqa: F401  (RISK_NAMES: the reports' name table)
from qc.types import CallResult, Evidence

__all__ = [
    "PRIORITY_POINTS", "COMPLAINT_POINTS", "SEVERITY_WEIGHTS", "QueueEntry", "Reason", "call_priority",
    "build_queue", "rule_precision_estimate",
]

PRIORITY_POINTS: dict[str, float] = {
    "fatal": 100.0,
    "fatal_pending": 60.0,
    "dissatisfied": 60.0,
    "unresolved": 30.0,
    "outcome_floor": 0.5,  # a calibrated probability under this adds nothing
    "deductions_max": 40.0,
    "agent_temper": 20.0,
    "risk_each": 30.0,
    "risk_max": 60.0,
    "needs_review_each": 8.0,
    "needs_review_max": 24.0,
    "repeat_complaint": 20.0,
}
SEVERITY_WEIGHTS: dict[str, float] = {"critical": 2.0, "major": 1.0, "minor": 0.5, "info": 0.0}
PRECISION_PRIOR = 0.7  # a rule nobody has reviewed yet
PRECISION_PRIOR_WEIGHT = 2.0  # pseudo-verdicts behind the prior
# The lower grades restate negativity and risk, which the call models and risk flags already
# count (on held-out training dialogues their points cost 0.011 of priority AUC); a crisis
# still adds on top.
COMPLAINT_POINTS: dict[str, float] = {"紧急危机": 20.0, "高度紧急": 0.0, "重要非紧急": 0.0, "一般": 0.0}
COMPLAINT_TYPE_NAMES = {"service": "服务", "product": "产品", "environment": "环境", "price": "价格", "process": "流程"}


@dataclass
class Reason:
    """One reason a call is in the queue, the points it added and where to listen."""

    code: str
    text: str
    points: float
    evidence: Evidence | None = None


@dataclass
class QueueEntry:
    """One row of the queue."""

    call_id: str
    agent_id: str | None
    team: str
    score: float
    priority: float
    reasons: list[Reason] = field(default_factory=list)
    calibration: bool = False  # drawn at random from clean calls

    @property
    def evidence(self) -> list[Evidence]:
        return [r.evidence for r in self.reasons if r.evidence is not None]


def _first(evidence: list[Evidence]) -> Evidence | None:
    return evidence[0] if evidence else None


def rule_precision_estimate(confirmed: int, false_positive: int) -> float:
    """A rule's precision from reviewer verdicts, pulled towards ``PRECISION_PRIOR``."""
    return (confirmed + PRECISION_PRIOR * PRECISION_PRIOR_WEIGHT) / (confirmed + false_positive + PRECISION_PRIOR_WEIGHT)


def _pct(p: float) -> str:
    return f"{100 * p:.0f}%"


def call_priority(result: CallResult, repeat_complaint: bool = False,
                  rule_precision: Mapping[str, float] | None = None) -> tuple[float, list[Reason]]:
    """Priority and reasons for one call (see the module docstring for the points).

    Args:
        result: the call.
        repeat_complaint: the same customer complained again recently (from history).
        rule_precision: rule code -> precision (see :func:`rule_precision_estimate`); a rule
            missing here gets ``PRECISION_PRIOR``.
    """
    score = result.score
    emotion = result.emotion
    reasons: list[Reason] = []
    precision = rule_precision or {}

    def prec(rule: str) -> float:
        return float(precision.get(rule, PRECISION_PRIOR))

    item_of = {code: item for item in score.items for code in item.rules}
    fatal_rules = {code for item in score.items if item.fatal for code in item.rules}

    for item in score.items:
        if item.status == "fatal":
            d = next((x for x in item.deductions if x.status in ("fatal", "deducted")), None)
            reasons.append(Reason("fatal", f"一票否决: {item.name} ({', '.join(item.rules)})", PRIORITY_POINTS["fatal"], d.evidence if d else None))
    findings = result.inspection.findings
    pending_fatal = [f for f in findings if f.needs_review and f.rule in fatal_rules and f.kind == "violation"]
    if pending_fatal and not score.fatal:
        f = pending_fatal[0]
        pts = round(PRIORITY_POINTS["fatal_pending"] * prec(f.rule), 1)
        reasons.append(Reason("fatal_pending", f"疑似一票否决待复核: {f.rule} {f.message} (规则准确率 {_pct(prec(f.rule))})", pts, _first(f.evidence)))
    if emotion is not None:
        floor = PRIORITY_POINTS["outcome_floor"]
        evidence = emotion.outcome_evidence or [d for d in emotion.drivers if d.role != "agent"]
        if emotion.dissatisfied is not None and emotion.dissatisfied >= floor:
            reasons.append(Reason("dissatisfied", f"客户不满意 (模型概率 {_pct(emotion.dissatisfied)})",
                                  round(PRIORITY_POINTS["dissatisfied"] * emotion.dissatisfied, 1), _first(evidence)))
        if emotion.unresolved is not None and emotion.unresolved >= floor:
            last = [e for e in evidence if e.role != "agent"]
            reasons.append(Reason("unresolved", f"问题未解决 (模型概率 {_pct(emotion.unresolved)})",
                                  round(PRIORITY_POINTS["unresolved"] * emotion.unresolved, 1), last[-1] if last else None))
        if emotion.agent_lost_temper:
            reasons.append(Reason("agent_temper", "坐席情绪失控", PRIORITY_POINTS["agent_temper"],
                                  _first([d for d in emotion.drivers if d.role == "agent"])))
        if emotion.complaint is not None:
            pts = COMPLAINT_POINTS.get(emotion.complaint.priority, 0.0)
            if pts > 0:
                reasons.append(Reason("complaint", f"投诉 {emotion.complaint.priority} ({COMPLAINT_TYPE_NAMES.get(emotion.complaint.type, emotion.complaint.type)})", pts, _first(emotion.complaint.evidence)))
    risk_findings = [f for f in findings if f.kind == "risk"]  # the one risk detector: RISK01-05
    if risk_findings:
        names = risk_names(risk_findings)
        pts = min(PRIORITY_POINTS["risk_max"], PRIORITY_POINTS["risk_each"] * len(names))
        reasons.append(Reason("risk", f"风险: {'、'.join(names)}", pts, _first(risk_findings[0].evidence)))
    if not score.fatal:
        weighted: list[tuple[float, str, Evidence | None]] = []
        for item in score.items:
            lost: dict[str, tuple[float, Evidence | None]] = {}
            for d in item.deductions:
                if d.status == "deducted" and d.points > 0:
                    pts, ev = lost.get(d.rule, (0.0, d.evidence))
                    lost[d.rule] = (pts + d.points, ev)
            for rule, (pts, ev) in lost.items():
                weighted.append((pts * SEVERITY_WEIGHTS.get(item.severity, 1.0) * prec(rule), rule, ev))
        weighted.sort(key=lambda x: -x[0])
        total = min(PRIORITY_POINTS["deductions_max"], sum(w for w, _, _ in weighted))
        if total > 0:
            rules = ", ".join(f"{rule} {_pct(prec(rule))}" for _, rule, _ in weighted[:4])
            reasons.append(Reason("deductions", f"规则扣分 (得分 {score.score:g}; 按严重度与规则准确率加权: {rules})",
                                  round(total, 1), next((ev for _, _, ev in weighted if ev is not None), None)))
    pending = [f for f in findings if f.needs_review and f.kind == "violation" and f.rule in item_of and f.rule not in fatal_rules]
    if pending:
        pts = min(PRIORITY_POINTS["needs_review_max"], PRIORITY_POINTS["needs_review_each"] * len(pending))
        reasons.append(Reason("needs_review", f"{len(pending)} 处命中因识别置信度低待复核 ({', '.join(sorted({f.rule for f in pending}))})", pts, _first(pending[0].evidence)))
    if repeat_complaint:
        reasons.append(Reason("repeat_complaint", "重复投诉 (同一客户近期再次来电投诉)", PRIORITY_POINTS["repeat_complaint"], None))
    return round(sum(r.points for r in reasons), 1), reasons


def _is_clean(result: CallResult) -> bool:
    return (
        result.score.passed
        and not result.inspection.findings  # risk flags included: they are findings
    )


def build_queue(
    results: Iterable[CallResult],
    *,
    limit: int | None = None,
    calibration: int | float = 0.05,
    seed: int | str = 0,
    repeat_complaints: set[str] | None = None,
    team_of: Callable[[CallResult], str] | None = None,
    rule_precision: Mapping[str, float] | None = None,
) -> list[QueueEntry]:
    """Rank calls for re-review and append a seeded random sample of clean calls.

    Args:
        results: ``CallResult`` records.
        limit: keep at most this many ranked calls (the calibration sample comes on top).
        calibration: how many clean calls to sample: a count (int >= 1) or a fraction of the
            clean calls (float < 1); at least one when any clean call exists and the value is > 0.
        seed: makes the sample reproducible (the night date is a good seed).
        repeat_complaints: call ids that are repeat complaints (from history).
        team_of: function ``result -> team name``.
        rule_precision: rule code -> measured precision (see :func:`rule_precision_estimate`).
    """
    repeat_complaints = repeat_complaints or set()
    team_of = team_of or (lambda r: str(r.transcript.meta.get("team") or "未分组"))
    ranked: list[QueueEntry] = []
    clean: list[CallResult] = []
    for r in results:
        priority, reasons = call_priority(r, r.call_id in repeat_complaints, rule_precision)
        if priority > 0:
            ranked.append(QueueEntry(r.call_id, r.transcript.agent_id, team_of(r), r.score.score, priority, reasons))
        elif _is_clean(r):
            clean.append(r)
    ranked.sort(key=lambda q: (-q.priority, q.score, q.call_id))
    if limit is not None:
        ranked = ranked[:limit]
    n = 0
    if calibration and clean:
        n = int(calibration) if calibration >= 1 else max(1, round(calibration * len(clean)))
    rng = random.Random(str(seed))
    sample = rng.sample(sorted(clean, key=lambda r: r.call_id), min(n, len(clean)))
    for r in sorted(sample, key=lambda r: r.call_id):
        ranked.append(
            QueueEntry(r.call_id, r.transcript.agent_id, team_of(r), r.score.score, 0.0,
                       [Reason("calibration", "随机抽检 (无命中，用于估计漏检率)", 0.0, None)], calibration=True)
        )
    return ranked
