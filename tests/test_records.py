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


def test_an_agent_card_stored_with_dict_violations_reads_back_typed_and_saves_the_same_json():
    from qc.types import AgentScorecard, ViolationExample, ViolationSummary

    stored = {"agent_id": "A1", "night": "2024-05-20", "team": "一组", "calls": 2, "mean_score": 90.0, "pass_rate": 1.0,
              "fatal_calls": 0, "dimensions": {"服务规范": 95.0},
              "top_violations": [{"rule": "OPEN01", "item": "开场白规范", "hits": 2, "points": 10.0,
                                  "examples": [{"call_id": "C1", "start": 0.5, "text": "喂"}, {"call_id": "C2", "start": None, "text": "说"}]}],
              "rank_in_team": 1, "team_size": 1, "fcr": None, "repeat_calls": 0, "trend": [["2024-05-20", 90.0, 2]],
              "machine_mean_score": 90.0, "reviewed_calls": 0}
    card = AgentScorecard.from_dict(stored)
    v = card.top_violations[0]
    assert isinstance(v, ViolationSummary) and v.hits == 2 and v.examples[1] == ViolationExample("C2", None, "说")
    text = json.dumps(stored, ensure_ascii=False, sort_keys=False)
    assert json.dumps(to_dict(card), ensure_ascii=False, sort_keys=False) == text
