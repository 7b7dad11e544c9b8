"""Reviewed scores and reviewer agreement: the arithmetic behind the workbench pages.

The reviewed score is :func:`qc.scoring.score_call` with the reviewer's verdicts (``confirmed``
makes a ``needs_review`` hit deduct, ``false_positive`` stops a hit deducting, ``unsure`` leaves
the machine's decision) and with the findings the reviewer added (a missed finding deducts like a
confirmed machine hit). Agreement is Cohen's kappa over (call, rule) decisions.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any, Iterable

from qc.run.store import CallResult
from qc.scoring import Scorecard, score_call
from qc.types import CallScore, Evidence, Finding

__all__ = ["reviewed_score", "added_finding", "cohen_kappa", "RuleAgreement", "rule_agreement", "reviewer_kappa"]


def added_finding(result: CallResult, card: Scorecard, rule: str, utterance: int, note: str = "") -> Finding:
    """A finding the machine missed, on one utterance, as the reviewer added it."""
    item = card.item_for_rule().get(rule)
    if item is None:
        raise ValueError(f"rule {rule} is not on the scorecard {card.name!r}")
    utts = result.transcript.utterances
    if not 0 <= utterance < len(utts):
        raise ValueError(f"call {result.call_id} has no utterance #{utterance}")
    u = utts[utterance]
    return Finding(
        call_id=result.call_id, rule=rule, name=item.name, category=item.dimension, severity=item.severity,
        message=f"复核补充 (machine missed): {note}".strip(), evidence=[Evidence(utterance, u.role, u.start, u.end, u.text)],
    )


def reviewed_score(
    result: CallResult, card: Scorecard, verdicts: dict[str, str], added: Iterable[tuple[str, int, str]] = ()
) -> CallScore:
    """The call's score with the reviewer's verdicts (rule -> verdict) and added findings applied."""
    extra = [added_finding(result, card, rule, u, note) for rule, u, note in added]
    used = {r: v for r, v in verdicts.items() if v in ("confirmed", "false_positive")}
    for f in extra:  # adding a missed hit confirms its rule
        used[f.rule] = "confirmed"
    inspection = dataclasses.replace(result.inspection, findings=list(result.inspection.findings) + extra)
    score = score_call(result.transcript, inspection, result.emotion, card, verdicts=used)
    score.basis = "reviewed"
    return score


def cohen_kappa(pairs: Iterable[tuple[Any, Any]]) -> float | None:
    """Cohen's kappa of two raters' labels; None without pairs, 1.0 when both always agree on one label."""
    pairs = list(pairs)
    n = len(pairs)
    if n == 0:
        return None
    observed = sum(a == b for a, b in pairs) / n
    ca, cb = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    if expected >= 1.0:
        return 1.0 if observed == 1.0 else 0.0
    return (observed - expected) / (1.0 - expected)


@dataclass
class RuleAgreement:
    """Machine vs reviewers on one rule, over the reviewed calls."""

    rule: str
    machine_hits: int = 0  # reviewed calls where the machine flagged the rule
    confirmed: int = 0
    false_positive: int = 0
    unsure: int = 0
    missed: int = 0  # calls where a reviewer added the rule
    calls: int = 0  # reviewed calls the rule was judged on
    kappa: float | None = None
    min_verdicts: int = 5
    threshold: float = 0.6

    @property
    def precision(self) -> float | None:
        n = self.confirmed + self.false_positive
        return self.confirmed / n if n else None

    @property
    def agreement(self) -> float | None:
        """Share of reviewed calls where machine and reviewer agree on whether the rule was broken."""
        if not self.calls:
            return None
        return (self.calls - self.false_positive - self.missed) / self.calls

    @property
    def cries_wolf(self) -> bool:
        n = self.confirmed + self.false_positive
        return n >= self.min_verdicts and (self.precision or 0.0) < self.threshold


def _reviewer_says(machine: bool, verdict: str | None, added: bool) -> bool:
    """Does the reviewer hold that the rule was broken on the call?"""
    if added:
        return True
    return machine and verdict != "false_positive"


def rule_agreement(
    reviews: Iterable[tuple[set[str], dict[str, str], set[str]]], rules: Iterable[str],
    min_verdicts: int = 5, threshold: float = 0.6,
) -> list[RuleAgreement]:
    """Per-rule precision and machine-vs-reviewer agreement (kappa) from reviewed calls.

    Args:
        reviews: per reviewed call ``(rules the machine flagged, verdicts rule -> verdict, rules added)``.
        rules: the rules to report (e.g. the scorecard's).
    """
    out = {r: RuleAgreement(r, min_verdicts=min_verdicts, threshold=threshold) for r in rules}
    pairs: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    for flagged, verdicts, added in reviews:
        for rule, a in out.items():
            machine = rule in flagged
            v = verdicts.get(rule)
            a.calls += 1
            if machine:
                a.machine_hits += 1
                if v == "confirmed":
                    a.confirmed += 1
                elif v == "false_positive":
                    a.false_positive += 1
                elif v == "unsure":
                    a.unsure += 1
            if rule in added and not machine:
                a.missed += 1
            if v != "unsure":
                pairs[rule].append((machine, _reviewer_says(machine, v, rule in added)))
    for rule, a in out.items():
        a.kappa = cohen_kappa(pairs[rule])
    return sorted(out.values(), key=lambda a: (a.precision if a.precision is not None else 2.0, a.rule))


def reviewer_kappa(
    labels: dict[tuple[str, str], dict[str, tuple[dict[str, str], set[str]]]],
    flagged: dict[tuple[str, str], set[str]],
    rules: Iterable[str],
    calls: set[tuple[str, str]] | None = None,
) -> tuple[float | None, int, int]:
    """Cohen's kappa between the first two reviewers of each call on "rule broken?" per (call, rule).

    Args:
        labels: from :meth:`qc.serve.store.ReviewStore.reviewer_labels`.
        flagged: the machine's flagged rules per (night, call).
        rules: the rules judged (the scorecard's).
        calls: only these (night, call) keys (e.g. the calibration sample); default all.

    Returns:
        ``(kappa, decisions compared, calls reviewed twice)``.
    """
    rules = list(rules)
    pairs: list[tuple[bool, bool]] = []
    n_calls = 0
    for key, by_reviewer in sorted(labels.items()):
        if (calls is not None and key not in calls) or len(by_reviewer) < 2:
            continue
        n_calls += 1
        (v1, a1), (v2, a2) = [by_reviewer[r] for r in sorted(by_reviewer)[:2]]
        machine = flagged.get(key, set())
        for rule in rules:
            pairs.append((_reviewer_says(rule in machine, v1.get(rule), rule in a1),
                          _reviewer_says(rule in machine, v2.get(rule), rule in a2)))
    return cohen_kappa(pairs), len(pairs), n_calls
