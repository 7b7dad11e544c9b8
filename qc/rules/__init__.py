"""The rule engine: YAML compliance rules over transcripts, with evidence for every finding.

    rules = load_rules("rules/")                  # RuleFileError lists every problem as file:line:col
    inspection = inspect(transcript, rules)       # CallInspection with findings and evidence
    failures = [r for r in run_rule_tests(rules) if not r.ok]

Condition types are small functions registered by name in :mod:`qc.rules.registry`; the built-in
ones live in :mod:`qc.rules.conditions`. This package never imports the ASR stage, torch or Whisper.
"""

from qc.rules.context import CallContext, Hit, NotApplicable
from qc.rules.engine import REVIEW_BELOW, inspect
from qc.rules.loader import RuleFileError, check_rules, load_rules, rule_files
from qc.rules.model import CATEGORIES, POLARITIES, SEVERITIES, Rule, RuleSet, RuleTest
from qc.rules.registry import Cond, all_conditions, condition
from qc.rules import conditions  # noqa: E402,F401,I001  (registers the built-in condition types)
from qc.rules.testing import CaseResult, run_case, run_rule_tests

__all__ = [
    "load_rules", "check_rules", "rule_files", "RuleFileError", "inspect", "REVIEW_BELOW",
    "run_rule_tests", "run_case", "CaseResult", "Rule", "RuleSet", "RuleTest", "CATEGORIES",
    "SEVERITIES", "POLARITIES", "condition", "all_conditions", "Cond", "CallContext", "Hit", "NotApplicable",
]
