"""Shared loader for the hand-built cases: the golden transcripts (tests/golden/transcripts) with
hand-made inspections and emotions (tests/golden/input), scored with tests/golden/scorecard.yaml.

They fix what the scoring and report unit tests feed in. The golden files themselves are the real
stages' output on the same transcripts (tests/test_golden.py).
"""
from __future__ import annotations

import json
from pathlib import Path

from qc.run.store import CallResult
from qc.scoring import load_scorecard, score_call
from qc.types import CallEmotion, CallInspection, Transcript

GOLDEN = Path(__file__).parent / "golden"


def load_cases(verdicts=None):
    card = load_scorecard(GOLDEN / "scorecard.yaml")
    out = []
    for p in sorted((GOLDEN / "input").glob("*.json")):
        d = json.loads(p.read_text(encoding="utf-8"))
        t = Transcript.from_dict(json.loads((GOLDEN / "transcripts" / p.name).read_text(encoding="utf-8")))
        i = CallInspection.from_dict(d["inspection"])
        e = CallEmotion.from_dict(d["emotion"]) if d["emotion"] else None
        out.append(CallResult(t, i, e, score_call(t, i, e, card, (verdicts or {}).get(t.call_id))))
    return out
