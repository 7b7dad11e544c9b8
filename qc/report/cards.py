"""Agent scorecards: one :class:`~qc.types.AgentScorecard` per agent over a night's calls."""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from typing import Callable

from qc.run.store import CallResult
from qc.types import AgentScorecard, CallScore, ViolationExample, ViolationSummary

__all__ = ["build_agent_cards", "team_of_call"]


def team_of_call(r: CallResult) -> str:
    """The call's team from its metadata (``team``), or 未分组."""
    return str(r.transcript.meta.get("team") or "未分组")


def build_agent_cards(
    results: list[CallResult],
    night: str,
    team_of: Callable[[CallResult], str] = team_of_call,
    trends: dict[str, list[tuple[str, float, int]]] | None = None,
    fcr: dict[str, tuple[float, int, int]] | None = None,
    repeat_calls: dict[str, int] | None = None,
    examples: int = 3,
    reviewed: dict[str, CallScore] | None = None,
) -> list[AgentScorecard]:
    """One :class:`AgentScorecard` per agent (calls without an agent id are left out), sorted by agent id.

    ``reviewed`` maps a call id to its reviewed score (the latest workbench review): the card's mean,
    pass rate, fatal calls, dimensions and top violations then count that score instead of the
    machine's, and ``machine_mean_score`` keeps the machine's mean beside it.
    """
    trends, fcr, repeat_calls, reviewed = trends or {}, fcr or {}, repeat_calls or {}, reviewed or {}
    machine_mean: dict[str, float] = {}
    if reviewed:
        by_agent_machine: dict[str, list[float]] = defaultdict(list)
        for r in results:
            if r.transcript.agent_id:
                by_agent_machine[r.transcript.agent_id].append(r.score.score)
        machine_mean = {a: round(sum(v) / len(v), 1) for a, v in by_agent_machine.items()}
        results = [dataclasses.replace(r, score=reviewed[r.call_id]) if r.call_id in reviewed else r for r in results]
    by_agent: dict[str, list[CallResult]] = defaultdict(list)
    for r in results:
        if r.transcript.agent_id:
            by_agent[r.transcript.agent_id].append(r)
    cards = []
    for agent, calls in sorted(by_agent.items()):
        n = len(calls)
        mean = round(sum(r.score.score for r in calls) / n, 1)
        dims: dict[str, list[float]] = defaultdict(list)
        viol: dict[str, ViolationSummary] = {}
        for r in calls:
            for d in r.score.dimensions:
                if d.points > 0:
                    dims[d.name].append(100.0 * d.earned / d.points)
            for item in r.score.items:
                for ded in item.deductions:
                    if ded.status not in ("deducted", "capped", "fatal"):
                        continue
                    v = viol.setdefault(ded.rule, ViolationSummary(ded.rule, item.name))
                    v.hits += 1
                    v.points += ded.points
                    if len(v.examples) < examples and ded.evidence is not None:
                        v.examples.append(ViolationExample(r.call_id, ded.evidence.start, ded.evidence.text))
        top = sorted(viol.values(), key=lambda v: (-v.points, -v.hits, v.rule))[:5]
        for v in top:
            v.points = round(v.points, 1)
        teams = Counter(team_of(r) for r in calls)
        f = fcr.get(agent)
        history = [t for t in trends.get(agent, []) if t[0] < night]
        cards.append(AgentScorecard(
            agent_id=agent, night=night, team=teams.most_common(1)[0][0], calls=n, mean_score=mean,
            pass_rate=round(sum(r.score.passed for r in calls) / n, 3),
            fatal_calls=sum(r.score.fatal for r in calls),
            dimensions={k: round(sum(v) / len(v), 1) for k, v in dims.items()},
            top_violations=top, fcr=None if f is None else round(f[0], 3),
            repeat_calls=repeat_calls.get(agent, 0),
            trend=history + [(night, mean, n)],
            machine_mean_score=machine_mean.get(agent, mean), reviewed_calls=sum(1 for r in calls if r.call_id in reviewed),
        ))
    by_team: dict[str, list[AgentScorecard]] = defaultdict(list)
    for c in cards:
        by_team[c.team].append(c)
    for members in by_team.values():
        members.sort(key=lambda c: (-c.mean_score, c.agent_id))
        for rank, c in enumerate(members, start=1):
            c.rank_in_team, c.team_size = rank, len(members)
    return cards
