"""The compiled form of rule files: Rule, RuleTest, RuleSet."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from qc.rules.registry import Cond
from qc.types import SEVERITIES, Transcript

__all__ = ["CATEGORIES", "SEVERITIES", "POLARITIES", "Rule", "RuleTest", "RuleSet"]

#: Scorecard dimensions the shipped rules use (qc.scoring maps them to scorecard items).
CATEGORIES = ("服务规范", "业务知识", "沟通技巧", "流程执行", "情绪管理", "风险")
#: required: a violation when the condition is absent; forbidden: a violation per hit;
#: risk: a risk flag per hit (escalation, not a deduction).
POLARITIES = ("required", "forbidden", "risk")


@dataclass
class RuleTest:
    """One case from a rule's ``tests:``: a mini transcript and the expected outcome.

    ``expect`` is "hit", "no_hit" or "not_applicable"; ``count`` (when given) is the exact number
    of findings. ``emotion`` optionally gives per-utterance negativity (a stand-in CallEmotion).
    ``at`` (with "hit") is the transcript lines, numbered from 1, that the findings quote as
    evidence: exactly these, no others.
    """

    name: str
    expect: str
    count: int | None
    transcript: Transcript
    emotion: list[float] | None
    file: str
    line: int
    at: tuple[int, ...] | None = None

    @property
    def positive(self) -> bool:
        return self.expect == "hit" and (self.count is None or self.count > 0)

    @property
    def negative(self) -> bool:
        return self.expect == "no_hit" or (self.expect == "hit" and self.count == 0)


@dataclass
class Rule:
    """One compiled rule; ``file``/``line`` point at its ``code:`` in the rule file."""

    code: str
    name: str
    what: str
    why: str
    category: str
    severity: str
    polarity: str
    message: str
    match: Cond
    example: str = ""
    when: dict[str, Any] = field(default_factory=dict)
    #: channels the rule applies to (voice, chat, ticket); empty: all of them
    channels: tuple[str, ...] = ()
    evidence_scope: Cond | None = None
    review_below: float | None = None
    max_findings: int | None = None
    enabled: bool = True
    tags: list[str] = field(default_factory=list)
    tests: list[RuleTest] = field(default_factory=list)
    file: str = ""
    line: int = 0

    @property
    def kind(self) -> str:
        return "risk" if self.polarity == "risk" else "violation"

    @property
    def needs_timing(self) -> bool:
        """True when the rule cannot be judged on a transcript without utterance times."""
        return self.match.needs_timing


@dataclass
class RuleSet:
    """Rules loaded from one file or a folder, in file order."""

    rules: list[Rule]
    files: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def get(self, code: str) -> Rule:
        for r in self.rules:
            if r.code == code:
                return r
        raise KeyError(code)

    def only(self, *codes: str) -> RuleSet:
        """A rule set with just these codes (for tests and re-inspection of one rule)."""
        return RuleSet([r for r in self.rules if r.code in codes], self.files)
