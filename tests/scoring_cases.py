"""Shared loader for the hand-built golden cases (tests/golden/input)."""
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
        t = Transcript.from_dict(d["transcript"])
        i = CallInspection.from_dict(d["inspection"])
        e = CallEmotion.from_dict(d["emotion"]) if d["emotion"] else None
        out.append(CallResult(t, i, e, score_call(t, i, e, card, (verdicts or {}).get(t.call_id))))
    return out
