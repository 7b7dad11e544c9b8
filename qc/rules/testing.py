"""Run the ``tests:`` cases that rule files carry (used by ``qc rules test`` and by pytest)."""

from __future__ import annotations

from dataclasses import dataclass

from qc.rules.engine import inspect
from qc.rules.model import Rule, RuleSet, RuleTest
from qc.types import CallEmotion, UtteranceEmotion

__all__ = ["CaseResult", "run_case", "run_rule_tests", "case_emotion"]


@dataclass
class CaseResult:
    """Outcome of one test case; ``got`` describes what the engine did."""

    rule: Rule
    case: RuleTest
    ok: bool
    got: str
    findings: int

    def __str__(self) -> str:
        want = self.case.expect + (f" (count {self.case.count})" if self.case.count is not None else "")
        if self.case.at is not None:
            want += f" at line {_lines(self.case.at)}"
        status = "ok" if self.ok else "FAIL"
        return f"{self.case.file}:{self.case.line}: {self.rule.code} {status} {self.case.name}: expected {want}, got {self.got}"


def case_emotion(case: RuleTest) -> CallEmotion | None:
    """The per-line emotion a test case gives (``emotion: [0.9, …]``), as a CallEmotion; None when it gives none."""
    if case.emotion is None:
        return None
    us = case.transcript.utterances
    return CallEmotion(
        call_id=case.transcript.call_id,
        utterances=[UtteranceEmotion(index=i, role=u.role, negativity=v, text_score=v) for i, (u, v) in enumerate(zip(us, case.emotion))],
    )


def _lines(lines: tuple[int, ...]) -> str:
    return ", ".join(map(str, lines)) if lines else "none"


def run_case(rule: Rule, case: RuleTest) -> CaseResult:
    """Inspect the case's mini transcript with this one rule and compare with the expectation.

    With ``at``, the lines the findings quote as evidence (numbered from 1) must be exactly those.
    """
    result = inspect(case.transcript, RuleSet([rule]), emotion=case_emotion(case))
    findings = [f for f in result.findings if f.rule == rule.code]
    n = len(findings)
    if rule.code in result.not_applicable:
        got = f"not_applicable ({result.not_applicable[rule.code]})"
        ok = case.expect == "not_applicable"
    else:
        got = f"{n} finding(s)" if n else "no_hit"
        if case.expect == "not_applicable":
            ok = False
        elif case.count is not None:
            ok = n == case.count
        else:
            ok = (n > 0) == (case.expect == "hit")
        if case.at is not None:
            quoted = tuple(sorted({e.utterance + 1 for f in findings for e in f.evidence if e.utterance is not None}))
            got += f" at line {_lines(quoted)}"
            ok = ok and quoted == case.at
    return CaseResult(rule, case, ok, got, n)


def run_rule_tests(rules: RuleSet) -> list[CaseResult]:
    """Every test case of every rule, in file order."""
    return [run_case(rule, case) for rule in rules for case in rule.tests]
