"""Trends over nights: spikes against a tag's own history, period over period, Pareto, lift, quadrants.

Spike test. A tag's calls on a night are Poisson with a rate per call that the tag's own past
nights estimate (a Gamma posterior, Jeffreys prior), so tonight's count given tonight's volume
is negative binomial: the predictive distribution that also counts how uncertain the rate still
is after few nights. A night is a spike when that upper tail is below ``alpha / number of tags``
(Bonferroni), i.e. at most ``alpha`` (default 1%) of quiet nights raise any false spike across
the whole taxonomy, provided the tag has ``min_history`` past nights and at least ``min_count``
calls and ``min_ratio`` times its expected count tonight.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Iterable

__all__ = [
    "ALPHA", "MIN_HISTORY", "Spike", "spike_pvalue", "detect_spikes", "week_of", "weekly", "period_change",
    "pareto", "lift", "quadrants",
]

ALPHA = 0.01  # family-wise false-alarm rate per night, across all tags
MIN_HISTORY = 7  # nights of a tag's own history before it can spike
MIN_COUNT = 3
MIN_RATIO = 1.5


@dataclass
class Spike:
    """A night on which a tag (or department) rose well above its own history."""

    key: str
    night: str
    count: int
    calls: int
    expected: float
    pvalue: float
    history_nights: int

    @property
    def ratio(self) -> float:
        return self.count / self.expected if self.expected else math.inf


def spike_pvalue(history: list[tuple[int, int]], count: int, calls: int) -> tuple[float, float]:
    """P(at least ``count`` tagged calls out of ``calls`` | the tag's history), and the expected count.

    ``history`` is ``[(tagged, calls), ...]`` for past nights."""
    from scipy.stats import nbinom

    k = sum(c for c, _ in history)
    n = sum(t for _, t in history)
    a, b = k + 0.5, float(n) or 1.0  # Gamma(a, b) posterior of the per-call rate (Jeffreys prior)
    expected = calls * a / b
    if count <= 0:
        return 1.0, expected
    p = b / (b + calls)
    return float(nbinom.sf(count - 1, a, p)), expected


def detect_spikes(
    series: dict[str, dict[str, int]],
    calls: dict[str, int],
    night: str,
    alpha: float = ALPHA,
    min_history: int = MIN_HISTORY,
    min_count: int = MIN_COUNT,
    min_ratio: float = MIN_RATIO,
    window: int = 28,
    n_tests: int | None = None,
) -> list[Spike]:
    """Spikes on ``night``: ``series`` is ``{key: {night: count}}``, ``calls`` ``{night: calls}``.

    Each key is tested against its last ``window`` nights before ``night`` (nights without a count
    count zero). ``n_tests`` (default: the number of keys) is the Bonferroni divisor."""
    past = sorted(n for n in calls if n < night)[-window:]
    tonight = calls.get(night, 0)
    if not tonight:
        return []
    per_test = alpha / max(1, n_tests if n_tests is not None else len(series))
    out = []
    for key, counts in series.items():
        hist = [(counts.get(n, 0), calls[n]) for n in past if calls[n]]
        if len(hist) < min_history:
            continue
        count = counts.get(night, 0)
        p, expected = spike_pvalue(hist, count, tonight)
        if p < per_test and count >= min_count and count >= min_ratio * expected:
            out.append(Spike(key, night, count, tonight, round(expected, 2), p, len(hist)))
    return sorted(out, key=lambda s: s.pvalue)


def week_of(night: str) -> str:
    """ISO week of a night: ``2026-W48``."""
    y, w, _ = date.fromisoformat(night).isocalendar()
    return f"{y}-W{w:02d}"


def weekly(series: dict[str, dict[str, int]], calls: dict[str, int]) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """Night counts summed into ISO weeks: ``({key: {week: count}}, {week: calls})``."""
    wcalls: dict[str, int] = defaultdict(int)
    for n, c in calls.items():
        wcalls[week_of(n)] += c
    wseries: dict[str, dict[str, int]] = {}
    for key, counts in series.items():
        d: dict[str, int] = defaultdict(int)
        for n, c in counts.items():
            d[week_of(n)] += c
        wseries[key] = dict(d)
    return wseries, dict(wcalls)


def period_change(counts: dict[str, int], calls: dict[str, int], period: str) -> dict[str, float | int | None]:
    """This period against the one before it: counts, shares of calls and the change in share (points)."""
    periods = sorted(p for p in calls if p <= period)
    prev = periods[-2] if len(periods) >= 2 and periods[-1] == period else None
    now_n, now_c = counts.get(period, 0), calls.get(period, 0)
    share = now_n / now_c if now_c else 0.0
    out: dict[str, float | int | None] = {"count": now_n, "share": share, "prev_count": None, "prev_share": None, "change": None}
    if prev is not None and calls.get(prev):
        ps = counts.get(prev, 0) / calls[prev]
        out.update(prev_count=counts.get(prev, 0), prev_share=ps, change=share - ps)
    return out


def pareto(counts: dict[str, int]) -> list[tuple[str, int, float]]:
    """``(key, count, cumulative share)`` largest first: the vital few that make 80%."""
    total = sum(counts.values()) or 1
    out, cum = [], 0
    for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        cum += v
        out.append((k, v, cum / total))
    return out


def lift(tagged: Iterable[bool], flagged: Iterable[bool]) -> tuple[float | None, int, int]:
    """Lift of a flag (dissatisfied, repeat, risk) among calls with a tag: P(flag | tag) / P(flag).

    Takes two parallel boolean sequences over all calls; returns ``(lift, tagged calls, tagged and flagged)``."""
    t = list(tagged)
    f = list(flagged)
    n, nf = len(t), sum(f)
    nt = sum(t)
    ntf = sum(1 for a, b in zip(t, f) if a and b)
    if not n or not nf or not nt:
        return None, nt, ntf
    return (ntf / nt) / (nf / n), nt, ntf


QUADRANTS = {
    (True, True): "优先改进",  # many calls, many unhappy
    (False, True): "重点关注",  # few calls, but unhappy
    (True, False): "效率优化",  # many calls, mostly fine: self-service, FAQ
    (False, False): "保持观察",
}


def quadrants(points: dict[str, tuple[int, float]], overall_rate: float) -> dict[str, str]:
    """Four-quadrant label per tag from ``{tag: (volume, dissatisfaction rate)}``: volume split at the
    median tag volume, dissatisfaction at the night's overall rate."""
    if not points:
        return {}
    vols = sorted(v for v, _ in points.values())
    mid = vols[len(vols) // 2]
    return {k: QUADRANTS[(v >= mid and v > 0, r > overall_rate)] for k, (v, r) in points.items()}
