"""The night's tables: the rows of the CSV/Excel exports, the rule Pareto and the team summary.

The same rows feed ``calls.csv`` / ``findings.csv`` / ``queue.csv`` / ``agents.csv``, the sheets
of ``night.xlsx`` and ``agents.xlsx``; the pages render from the records themselves.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from qc.emotion.summary import mood_label, risk_names
from qc.report.contacts import Contact
from qc.report.exports import (
    AGENT_COLUMNS,
    CALL_COLUMNS,
    FAILED_COLUMNS,
    FINDING_COLUMNS,
    QUEUE_COLUMNS,
    write_csv,
    write_xlsx,
)
from qc.report.history import ReviewedScore
from qc.report.names import ROLE_NAMES, SEVERITY_NAMES, STATUS_NAMES, VERDICT_NAMES
from qc.report.queue import QueueEntry
from qc.run.store import CallResult
from qc.types import AgentScorecard, ViolationExample

__all__ = ["NightTables", "night_tables", "write_exports", "pareto_rows", "team_rows", "score_basis"]


@dataclass
class NightTables:
    """Rows (lists of cells, in the column order of :mod:`qc.report.exports`) of the night's exports."""

    calls: list[list[Any]] = field(default_factory=list)
    findings: list[list[Any]] = field(default_factory=list)
    queue: list[list[Any]] = field(default_factory=list)
    agents: list[list[Any]] = field(default_factory=list)
    failed: list[list[Any]] = field(default_factory=list)


def _call_row(r: CallResult, team: str, q: QueueEntry | None, rep: Contact | None, rv: ReviewedScore | None) -> list[Any]:
    e, s = r.emotion, r.score
    return [
        r.call_id, r.transcript.agent_id or "", team, s.score, "是" if s.passed else "否",
        "是" if s.fatal else "否", s.pending_review, sum(1 for f in r.inspection.findings if f.kind == "violation"),
        round(e.customer_peak, 2) if e else "", mood_label(e, r.inspection.findings) if e else "",
        e.complaint.priority if e and e.complaint else "", "、".join(risk_names(r.inspection.findings, e)),
        rep.call_id if rep else "", q.priority if q and not q.calibration else 0,
        "" if e is None or e.dissatisfied is None else round(e.dissatisfied, 2),
        "" if e is None or e.unresolved is None else round(e.unresolved, 2),
        rv.score["score"] if rv else "", ("是" if rv.score["passed"] else "否") if rv else "", rv.reviewer if rv else "",
    ]


def _finding_rows(r: CallResult, notes: dict[tuple[str, str], tuple[str, str]]) -> list[list[Any]]:
    ded_by_finding: dict[tuple[str, float | None], Any] = {}
    for item in r.score.items:
        for d in item.deductions:
            ded_by_finding.setdefault((d.rule, d.evidence.start if d.evidence else None), d)
    rows = []
    for f in r.inspection.findings:
        ev = f.evidence[0] if f.evidence else None
        d = ded_by_finding.get((f.rule, ev.start if ev else None))
        status = STATUS_NAMES.get(d.status, d.status) if d else ("风险提示" if f.kind == "risk" else "未计分")
        verdict = notes.get((r.call_id, f.rule), ("", ""))[0]
        rows.append([
            r.call_id, r.transcript.agent_id or "", f.rule, f.name, f.category, SEVERITY_NAMES.get(f.severity, f.severity),
            "违规" if f.kind == "violation" else "风险", d.points if d else 0, status,
            ev.start if ev and ev.start is not None else "", ROLE_NAMES.get(ev.role, ev.role or "") if ev else "",
            ev.text if ev else "", f.message, VERDICT_NAMES.get(verdict, ""),
        ])
    return rows


def _queue_row(rank: int, q: QueueEntry) -> list[Any]:
    ev = q.evidence[0] if q.evidence else None
    return [
        rank, q.call_id, q.agent_id or "", q.team, q.score, q.priority, "；".join(f"{x.text} (+{x.points:g})" if x.points else x.text for x in q.reasons),
        ev.start if ev and ev.start is not None else "", ev.text if ev else "", "是" if q.calibration else "",
    ]


def _agent_row(c: AgentScorecard) -> list[Any]:
    return [
        c.agent_id, c.team, c.calls, c.mean_score, c.pass_rate, c.fatal_calls, c.rank_in_team, c.team_size,
        "" if c.fcr is None else c.fcr, c.repeat_calls, "、".join(f"{v.rule}×{v.hits}" for v in c.top_violations),
        c.machine_mean_score if c.machine_mean_score is not None else c.mean_score, c.reviewed_calls, score_basis(c.reviewed_calls, c.calls),
    ]


def score_basis(reviewed: int, calls: int) -> str:
    """Which score an average uses, in words: 机器得分, or 复核分优先 with how many calls were reviewed."""
    return f"复核分优先 (已复核 {reviewed}/{calls} 通，其余按机器得分)" if reviewed else "机器得分"


def night_tables(
    shown: list[CallResult], cards: list[AgentScorecard], queue: list[QueueEntry], repeats: dict[str, Contact],
    notes: dict[tuple[str, str], tuple[str, str]], team_of: Callable[[CallResult], str],
    failures: list[tuple[str, str, str]] = (), reviewed: dict[str, ReviewedScore] | None = None,
) -> NightTables:
    """The export rows of a night (``shown``: the results as the report shows them, masked or not;
    ``reviewed``: the latest workbench review of a call, shown beside its machine score)."""
    reviewed = reviewed or {}
    priority = {q.call_id: q for q in queue}
    t = NightTables()
    for r in shown:
        t.calls.append(_call_row(r, team_of(r), priority.get(r.call_id), repeats.get(r.call_id), reviewed.get(r.call_id)))
        t.findings += _finding_rows(r, notes)
    t.queue = [_queue_row(rank, q) for rank, q in enumerate(queue, start=1)]
    t.agents = [_agent_row(c) for c in cards]
    t.failed = [list(f) for f in failures]
    return t


def write_exports(out: Path, t: NightTables, cards: list[AgentScorecard], dim_names: list[str]) -> list[Path]:
    """Write the four CSVs, ``night.xlsx`` and ``agents.xlsx``; returns their paths."""
    written = []
    for name, cols, rows in (("calls.csv", CALL_COLUMNS, t.calls), ("findings.csv", FINDING_COLUMNS, t.findings),
                             ("queue.csv", QUEUE_COLUMNS, t.queue), ("agents.csv", AGENT_COLUMNS, t.agents)):
        write_csv(out / name, cols, rows)
        written.append(out / name)
    write_xlsx(out / "night.xlsx", [("通话明细", CALL_COLUMNS, t.calls), ("违规明细", FINDING_COLUMNS, t.findings),
                                   ("复核队列", QUEUE_COLUMNS, t.queue), ("坐席", AGENT_COLUMNS, t.agents)]
               + ([("无法处理的文件", FAILED_COLUMNS, t.failed)] if t.failed else []))
    write_xlsx(out / "agents.xlsx", [
        ("坐席评分卡", AGENT_COLUMNS, t.agents),
        ("维度得分率", ["坐席工号", "班组"] + dim_names, [[c.agent_id, c.team] + [c.dimensions.get(d, "") for d in dim_names] for c in cards]),
        ("主要问题", ["坐席工号", "规则编号", "评分项", "次数", "扣分", "示例通话", "示例时间(秒)", "示例原文"],
         [[c.agent_id, v.rule, v.item, v.hits, v.points, ex.call_id, ex.start if ex.start is not None else "", ex.text]
          for c in cards for v in c.top_violations for ex in (v.examples or [ViolationExample()])]),
        ("趋势", ["坐席工号", "日期", "平均分", "通话数"], [[c.agent_id, n, s, k] for c in cards for n, s, k in c.trend]),
    ])
    return written + [out / "night.xlsx", out / "agents.xlsx"]


def pareto_rows(results: list[CallResult]) -> list[dict[str, Any]]:
    """Rules by points deducted (then hits): ``rule, name, hits, points, cum`` (cumulative share of points)."""
    pareto_points: Counter[str] = Counter()
    pareto_hits: Counter[str] = Counter()
    rule_names: dict[str, str] = {}
    for r in results:
        for f in r.inspection.findings:
            if f.kind == "violation":
                pareto_hits[f.rule] += 1
                rule_names.setdefault(f.rule, f.name)
        for item in r.score.items:
            for d in item.deductions:
                pareto_points[d.rule] += d.points
    rows = sorted(
        ({"rule": k, "name": rule_names.get(k, ""), "hits": v, "points": round(pareto_points.get(k, 0.0), 1)} for k, v in pareto_hits.items()),
        key=lambda x: (-x["points"], -x["hits"], x["rule"]),
    )
    total_pts = sum(x["points"] for x in rows) or 1.0
    cum = 0.0
    for x in rows:
        cum += x["points"]
        x["cum"] = cum / total_pts
    return rows


def team_rows(
    results: list[CallResult], team_of: Callable[[CallResult], str], fcr_team: dict[str, tuple[float, int, int]] | None,
    team_trends: dict[str, list[tuple[str, float, int]]], machine: dict[str, float] | None = None,
) -> list[dict[str, Any]]:
    """One summary row per team (``fcr_team`` None: no call identified its customer). ``results`` carry
    the scores the averages use; ``machine`` maps a reviewed call to its machine score."""
    machine = machine or {}
    teams: dict[str, list[CallResult]] = defaultdict(list)
    for r in results:
        teams[team_of(r)].append(r)
    rows = []
    for t, rs in sorted(teams.items()):
        f = (fcr_team or {}).get(t)
        rows.append({
            "team": t, "calls": len(rs), "mean": round(sum(x.score.score for x in rs) / len(rs), 1),
            "pass_rate": sum(x.score.passed for x in rs) / len(rs), "fatal": sum(x.score.fatal for x in rs),
            "fcr": None if f is None or fcr_team is None else f[0], "agents": len({x.transcript.agent_id for x in rs if x.transcript.agent_id}),
            "trend": team_trends.get(t, []),
            "machine_mean": round(sum(machine.get(x.call_id, x.score.score) for x in rs) / len(rs), 1),
            "reviewed": sum(1 for x in rs if x.call_id in machine),
        })
    return rows
