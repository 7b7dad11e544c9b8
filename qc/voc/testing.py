"""Run the ``tests:`` cases that taxonomy tags carry (used by ``qc voc test`` and by pytest)."""

from __future__ import annotations

from dataclasses import dataclass

from qc.rules.model import RuleTest
from qc.rules.testing import case_emotion
from qc.voc.tagging import tag_call
from qc.voc.taxonomy import Tag, Taxonomy

__all__ = ["TagCaseResult", "run_tag_case", "run_tag_tests"]


@dataclass
class TagCaseResult:
    """Outcome of one tag test case."""

    tag: Tag
    case: RuleTest
    ok: bool
    got: str

    def __str__(self) -> str:
        status = "ok" if self.ok else "FAIL"
        return f"{self.case.file}:{self.case.line}: {self.tag.code} {status} {self.case.name}: expected {self.case.expect}, got {self.got}"


def run_tag_case(tag: Tag, case: RuleTest) -> TagCaseResult:
    """Tag the case's mini transcript with this one tag and compare with the expectation."""
    voc = tag_call(case.transcript, Taxonomy([tag]), case_emotion(case))
    hit = tag.code in voc.codes
    got = "hit" if hit else "no_hit"
    ok = (case.expect == "hit") == hit and case.expect != "not_applicable"
    if case.count is not None:
        ok = (1 if hit else 0) == min(case.count, 1)
    return TagCaseResult(tag, case, ok, got)


def run_tag_tests(taxonomy: Taxonomy) -> list[TagCaseResult]:
    """Every test case of every tag, in file order."""
    return [run_tag_case(tag, case) for tag in taxonomy for case in tag.tests]
