"""Records are read back by one mechanism (qc.types.from_dict), and files from earlier versions load."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from qc.run.store import load_call_results, result_dict, save_call_result
from qc.types import CallEmotion, CallInspection, CallScore, Evidence, Transcript, Utterance, Word, from_dict, to_dict

GOLDEN = Path(__file__).parent / "golden"


def test_a_result_saved_by_an_earlier_version_loads_and_saves_unchanged(tmp_path):
    # results_v1/C003.json was written by the night batch before records lost their hand-written from_dict
    (tmp_path / "calls").mkdir()
    shutil.copy(GOLDEN / "results_v1" / "C003.json", tmp_path / "calls")
    before = json.loads((GOLDEN / "results_v1" / "C003.json").read_text(encoding="utf-8"))
    [result] = load_call_results(tmp_path)
    assert result.call_id == "C003" and result.score.items and result.inspection.findings
    assert json.loads(json.dumps(result_dict(result))) == before
    save_call_result(result, tmp_path / "again")
    assert json.loads((tmp_path / "again" / "calls" / "C003.json").read_text(encoding="utf-8")) == before


@pytest.mark.parametrize("path", sorted((GOLDEN / "input").glob("*.json")), ids=lambda p: p.stem)
def test_golden_inputs_keep_every_field_they_hold(path):
    data = json.loads(path.read_text(encoding="utf-8"))
    data["transcript"] = json.loads((GOLDEN / "transcripts" / path.name).read_text(encoding="utf-8"))
    for cls, key in ((Transcript, "transcript"), (CallInspection, "inspection"), (CallEmotion, "emotion")):
        if data.get(key) is None:
            continue
        back = to_dict(cls.from_dict(data[key]))
        assert {k: back[k] for k in data[key]} == data[key], key


def test_values_are_coerced_to_the_field_types_and_defaults_fill_gaps():
    u = Utterance.from_dict({"role": "agent", "text": "您好", "start": 1, "end": "2.5", "words": None,
                             "channel": 0, "unknown_key": "ignored"})
    assert u == Utterance(role="agent", text="您好", start=1.0, end=2.5, channel=0, words=[])
    assert type(u.start) is float
    assert Evidence.from_dict({"span": [1, 3]}).span == (1, 3)
    assert Evidence.from_dict({"span": []}).span is None  # older files wrote an empty list
    assert Word.from_dict({"start": 0, "end": 1, "text": "好"}).probability == 1.0
    t = Transcript.from_dict({"call_id": 7, "utterances": [], "audio": {}})
    assert t.call_id == "7" and t.audio is None and t.meta == {}


def test_a_missing_required_field_is_a_key_error_naming_it():
    with pytest.raises(KeyError, match="text"):
        Word.from_dict({"start": 0, "end": 1})
    with pytest.raises(KeyError, match="scorecard"):
        from_dict(CallScore, {"call_id": "c", "score": 1, "passed": True, "pass_line": 60, "earned": 1, "applicable": 1})
