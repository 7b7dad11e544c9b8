"""Scorecards and per-call scores: the scoring stage.

A scorecard (``scorecards/*.yaml``) has dimensions (服务规范, 业务知识, 沟通技巧, 流程执行, 情绪管理)
whose items reference rule codes. Each violation of an item's rules deducts the item's
``deduct`` points (default: by severity), capped at the item's ``points``. A ``fatal`` item
(一票否决) that is hit zeroes the call. Items whose rules were not checked on a call (not
applicable) leave the total, and the score is what is left of the applicable points, scaled to 100.

Findings with ``needs_review`` (evidence on low-confidence ASR words) do not deduct until a
reviewer confirms them; they are kept in the trace as ``pending_review`` and raise the call's
re-review priority. Risk findings (``kind == "risk"``) never deduct.

Example::

    card = load_scorecard("scorecards/default.yaml", rules=load_rules("rules/"))
    score = score_call(transcript, inspection, emotion, card)
    for item in score.items:
        for d in item.deductions:
            print(item.name, d.rule, d.evidence.start, d.points)
"""

from qc.scoring.score import VERDICTS, score_call, unscored_findings
from qc.scoring.scorecard import (
    DIMENSIONS,
    SEVERITIES,
    Scorecard,
    ScorecardDimension,
    ScorecardError,
    ScorecardItem,
    check_rule_codes,
    default_scorecard_path,
    iter_rule_codes,
    load_scorecard,
    parse_scorecard,
)

__all__ = [
    "DIMENSIONS",
    "SEVERITIES",
    "VERDICTS",
    "Scorecard",
    "ScorecardDimension",
    "ScorecardError",
    "ScorecardItem",
    "check_rule_codes",
    "default_scorecard_path",
    "iter_rule_codes",
    "load_scorecard",
    "parse_scorecard",
    "score_call",
    "unscored_findings",
]
