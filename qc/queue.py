"""The re-review queue: which calls QA staff should listen to first, and why.

Every call gets a priority, the sum of these documented points (see docs/scoring.md; the night
report prints the same table):

=====================================  ==================================================
signal                                  points
=====================================  ==================================================
fatal item hit (一票否决)                 100
fatal rule hit waiting for review        60
score below the pass line                the gap to the pass line, at most 50
customer angry (negativity peak >= 0.75) 30 × peak (0..1)
customer emotion worsened                15, +10 more when the customer ended angry
agent lost temper                        20
risk flag (media, regulator, lawyer...)  30 per kind, at most 60
complaint grade                          紧急危机 40, 高度紧急 25, 重要非紧急 10, 一般 0
needs_review hits (low ASR confidence)   8 each, at most 24
repeat complaint                         20
=====================================  ==================================================

Calls with priority above zero are queued, highest first (ties: lower score first, then call
id). A *calibration sample* of clean calls (no findings, no risk, passed) is drawn at random with a
seed, so that reviewers also see calls the machine thought fine and the machine's recall can be
estimated, not only its precision.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Iterable

from qc.types import Evidence

__all__ = ["PRIORITY_POINTS", "COMPLAINT_POINTS", "QueueEntry", "Reason", "call_priority", "build_queue"]

PRIORITY_POINTS: dict[str, float] = {
    "fatal": 100.0,
    "fatal_pending": 60.0,
    "below_pass_max": 50.0,
    "negativity": 30.0,
    "negativity_floor": 0.75,  # qc.emotion.ANGRY: a binary text model puts neutral lines near 0.5
    "worsened": 15.0,
    "ended_angry": 10.0,
    "agent_temper": 20.0,
    "risk_each": 30.0,
    "risk_max": 60.0,
    "needs_review_each": 8.0,
    "needs_review_max": 24.0,
    "repeat_complaint": 20.0,
}
COMPLAINT_POINTS: dict[str, float] = {"紧急危机": 40.0, "高度紧急": 25.0, "重要非紧急": 10.0, "一般": 0.0}
COMPLAINT_TYPE_NAMES = {"service": "服务", "product": "产品", "environment": "环境", "price": "价格", "process": "流程"}
RISK_NAMES = {"media": "媒体曝光", "regulator": "监管投诉", "lawyer": "法律诉讼", "privacy": "隐私泄露", "safety": "人身安全"}


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


def call_priority(result: Any, repeat_complaint: bool = False) -> tuple[float, list[Reason]]:
    """Priority and reasons for one ``CallResult`` (see the module docstring for the points)."""
    score = result.score
    emotion = result.emotion
    reasons: list[Reason] = []
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
        reasons.append(Reason("fatal_pending", f"疑似一票否决待复核: {f.rule} {f.message}", PRIORITY_POINTS["fatal_pending"], _first(f.evidence)))
    if not score.passed and not score.fatal:
        gap = min(PRIORITY_POINTS["below_pass_max"], max(0.0, score.pass_line - score.score))
        worst = max((i for i in score.items if i.deducted > 0), key=lambda i: i.deducted, default=None)
        ev = next((d.evidence for d in worst.deductions if d.points > 0), None) if worst else None
        reasons.append(Reason("below_pass", f"低于合格线: {score.score:g} < {score.pass_line:g}", round(gap, 1), ev))
    if emotion is not None:
        customer_lines = [d for d in emotion.drivers if d.role != "agent"]
        if emotion.customer_peak >= PRIORITY_POINTS["negativity_floor"]:
            pts = round(PRIORITY_POINTS["negativity"] * min(1.0, emotion.customer_peak), 1)
            reasons.append(Reason("negativity", f"客户负面情绪峰值 {emotion.customer_peak:.2f}", pts, _first(customer_lines)))
        if emotion.trajectory == "worsened":
            pts = PRIORITY_POINTS["worsened"] + (PRIORITY_POINTS["ended_angry"] if emotion.customer_angry else 0.0)
            reasons.append(Reason("worsened", f"客户情绪恶化 (+{emotion.trajectory_delta:.2f})", pts, _first(customer_lines)))
        if emotion.agent_lost_temper:
            reasons.append(Reason("agent_temper", "坐席情绪失控", PRIORITY_POINTS["agent_temper"],
                                  _first([d for d in emotion.drivers if d.role == "agent"])))
        kinds: dict[str, Evidence] = {}
        for risk in emotion.risks:
            kinds.setdefault(risk.kind, risk.evidence)
        if kinds:
            pts = min(PRIORITY_POINTS["risk_max"], PRIORITY_POINTS["risk_each"] * len(kinds))
            names = "、".join(RISK_NAMES.get(k, k) for k in kinds)
            reasons.append(Reason("risk", f"风险: {names}", pts, next(iter(kinds.values()))))
        if emotion.complaint is not None:
            pts = COMPLAINT_POINTS.get(emotion.complaint.priority, 0.0)
            if pts > 0:
                reasons.append(Reason("complaint", f"投诉 {emotion.complaint.priority} ({COMPLAINT_TYPE_NAMES.get(emotion.complaint.type, emotion.complaint.type)})", pts, _first(emotion.complaint.evidence)))
    risk_findings = [f for f in findings if f.kind == "risk"]
    if risk_findings and not (emotion is not None and emotion.risks):
        rules = sorted({f.rule for f in risk_findings})
        pts = min(PRIORITY_POINTS["risk_max"], PRIORITY_POINTS["risk_each"] * len(rules))
        reasons.append(Reason("risk", f"风险规则: {', '.join(rules)}", pts, _first(risk_findings[0].evidence)))
    pending = [f for f in findings if f.needs_review and f.kind == "violation" and f.rule in item_of and f.rule not in fatal_rules]
    if pending:
        pts = min(PRIORITY_POINTS["needs_review_max"], PRIORITY_POINTS["needs_review_each"] * len(pending))
        reasons.append(Reason("needs_review", f"{len(pending)} 处命中因识别置信度低待复核 ({', '.join(sorted({f.rule for f in pending}))})", pts, _first(pending[0].evidence)))
    if repeat_complaint:
        reasons.append(Reason("repeat_complaint", "重复投诉 (同一客户近期再次来电投诉)", PRIORITY_POINTS["repeat_complaint"], None))
    return round(sum(r.points for r in reasons), 1), reasons


def _is_clean(result: Any) -> bool:
    e = result.emotion
    return (
        result.score.passed
        and not result.inspection.findings
        and (e is None or (not e.risks and e.complaint is None and e.trajectory != "worsened"))
    )


def build_queue(
    results: Iterable[Any],
    *,
    limit: int | None = None,
    calibration: int | float = 0.05,
    seed: int | str = 0,
    repeat_complaints: set[str] | None = None,
    team_of: Any = None,
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
    """
    repeat_complaints = repeat_complaints or set()
    team_of = team_of or (lambda r: str(r.transcript.meta.get("team") or "未分组"))
    ranked: list[QueueEntry] = []
    clean: list[Any] = []
    for r in results:
        priority, reasons = call_priority(r, r.call_id in repeat_complaints)
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
