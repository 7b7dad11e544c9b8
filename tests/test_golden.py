"""Golden files: the real stages run on the golden transcripts, so a change in any stage is a diff.

tests/golden/transcripts/*.json (text transcripts, no ASR) -> CallPipeline.score with the shipped
rules and scorecard (emotion -> rules -> scoring) -> write_reports (queue, exports). The outputs are
compared with tests/golden/expected; after an intended change run
``QC_REGEN_GOLDEN=1 pytest tests/test_golden.py`` and read the diff before committing it.
"""

import json
import os
from pathlib import Path

import pytest

from qc.report import write_reports
from qc.run.pipeline import CallPipeline, PipelineConfig
from qc.transcript import load_transcript

GOLDEN = Path(__file__).parent / "golden"
REGEN = os.environ.get("QC_REGEN_GOLDEN") == "1"
NIGHT = "2024-05-20"


def _check_golden(name, text):
    path = GOLDEN / "expected" / name
    if REGEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden {path}; run QC_REGEN_GOLDEN=1 pytest {__file__}"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from the golden file (regenerate if intended)"


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("golden")
    pipeline = CallPipeline(PipelineConfig())
    results = [pipeline.score(load_transcript(p)) for p in sorted((GOLDEN / "transcripts").glob("*.json"))]
    rep = write_reports(results, tmp / "out", night=NIGHT, db=tmp / "h.sqlite", calibration=2)
    return results, rep, tmp / "out"


def _call_summary(r):
    s, e = r.score, r.emotion
    return {
        **{k: getattr(s, k) for k in ("score", "passed", "fatal", "fatal_items", "pending_review", "applicable", "earned")},
        "findings": [f"{f.rule}@{','.join(str(ev.utterance) for ev in f.evidence)}{'?' if f.needs_review else ''}"
                     for f in r.inspection.findings],
        "not_applicable": sorted(r.inspection.not_applicable),
        "emotion": {"trajectory": e.trajectory, "customer_angry": e.customer_angry, "agent_lost_temper": e.agent_lost_temper,
                    "complaint": e.complaint.priority if e.complaint else None, "risks": [x.kind for x in e.risks]},
    }


def test_golden_findings_scores_queue_and_exports(night):
    results, rep, out = night
    scores = {r.call_id: _call_summary(r) for r in results}
    _check_golden("scores.json", json.dumps(scores, ensure_ascii=False, indent=1) + "\n")
    _check_golden("queue.txt", "".join(f"{q.call_id} {q.priority:g} {'calibration' if q.calibration else ','.join(x.code for x in q.reasons)}\n" for q in rep.queue))
    for name in ("calls.csv", "findings.csv", "queue.csv", "agents.csv"):
        _check_golden(name, (out / name).read_text(encoding="utf-8-sig"))


def test_golden_night_is_the_stages_own_output(night):
    """Not a hand-made inspection: the rules found something on the rude call, and the emotion stage
    read the complaint call, the risk rules the threat (bounds with margin, not exact probabilities)."""
    results, rep, _ = night
    by_id = {r.call_id: r for r in results}
    assert by_id["G02"].inspection.findings and not by_id["G02"].score.passed
    assert by_id["G02"].emotion.dissatisfied > 0.7 and by_id["G01"].emotion.dissatisfied < 0.5
    assert {f.name for f in by_id["G05"].inspection.findings if f.kind == "risk"} >= {"risk.media"}
    assert not by_id["G05"].emotion.risks  # one risk detector: the rules
    assert rep.queue and rep.queue[0].call_id in {"G02", "G05"}
