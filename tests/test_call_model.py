"""Call outcome models (dissatisfied / unresolved) and the queue built on them."""

import csv
import dataclasses
from pathlib import Path

import numpy as np
import pytest

from qc.emotion import analyze_call
from qc.emotion.dialogue import call_features, load_call_model, turns_of
from qc.report.queue import build_queue, call_priority, rule_precision_estimate
from qc.run.store import CallResult
from qc.types import CallEmotion, Transcript, Utterance
from scoring_cases import load_cases

ROOT = Path(__file__).parent.parent
TRAIN = ROOT.parent / "shared" / "data" / "dialogues_zh" / "stc3_weibo_helpdesk_train.jsonl"

# Written for these tests (not from any corpus).
SATISFIED = [
    ("agent", "您好，很高兴为您服务，请问有什么可以帮您？"),
    ("customer", "我家宽带今天早上断了，麻烦帮我看看。"),
    ("agent", "好的，已为您查询，是线路故障，已经为您恢复了，请您重启一下路由器试试。"),
    ("customer", "好了好了，可以上网了，谢谢你！"),
    ("agent", "不客气，祝您生活愉快，再见。"),
]
DISSATISFIED = [
    ("agent", "您好，很高兴为您服务，请问有什么可以帮您？"),
    ("customer", "我家宽带断了一个星期了，报修三次都没人来，你们到底管不管？"),
    ("agent", "非常抱歉，我这边帮您再登记一下，请您耐心等待。"),
    ("customer", "又是登记！每次都说登记，还是没解决，我要投诉你们，太差劲了！"),
]


def transcript(lines, call_id="T"):
    us = [Utterance(role=r, text=t, start=4.0 * i, end=4.0 * i + 3.5) for i, (r, t) in enumerate(lines)]
    return Transcript(call_id, us)


def result_for(lines, call_id="T", case=None):
    """A CallResult whose score and findings are a clean golden case's and whose emotion is real."""
    case = case or next(c for c in load_cases() if c.score.passed and not c.inspection.findings)
    t = transcript(lines, call_id)
    emotion = analyze_call(t)
    emotion.call_id = call_id
    return CallResult(t, dataclasses.replace(case.inspection, call_id=call_id), emotion,
                      dataclasses.replace(case.score, call_id=call_id))


def test_models_separate_a_resolved_call_from_an_unresolved_complaint():
    good = analyze_call(transcript(SATISFIED))
    bad = analyze_call(transcript(DISSATISFIED))
    assert good.dissatisfied < 0.3 and good.unresolved < 0.3
    assert bad.dissatisfied > 0.7 and bad.unresolved > 0.7
    # the evidence is a customer line, quoted with its time
    assert bad.outcome_evidence and all(e.role == "customer" and e.start is not None for e in bad.outcome_evidence)


def test_queue_gives_zero_to_a_clean_call_and_ranks_the_dissatisfied_one_first():
    clean = result_for(SATISFIED, "CLEAN")
    angry = result_for(DISSATISFIED, "ANGRY")
    priority, reasons = call_priority(clean)
    assert priority == 0 and reasons == []
    q = build_queue([clean, angry], calibration=1, seed="x")
    ranked = [e for e in q if not e.calibration]
    assert [e.call_id for e in ranked] == ["ANGRY"]
    assert [e.call_id for e in q if e.calibration] == ["CLEAN"]  # the clean call is the calibration sample
    top = {r.code: r for r in ranked[0].reasons}
    assert {"dissatisfied", "unresolved"} <= set(top)
    assert all(r.evidence is not None and r.evidence.start is not None for r in top.values())
    assert "%" in top["dissatisfied"].text  # says how sure the model is


def test_rule_deductions_are_weighted_by_measured_precision():
    case = next(c for c in load_cases() if not c.score.fatal and any(
        d.status == "deducted" and d.points > 0 for i in c.score.items for d in i.deductions))
    r = dataclasses.replace(case, emotion=CallEmotion(call_id=case.call_id))
    rules = {d.rule for i in case.score.items for d in i.deductions if d.status == "deducted" and d.points > 0}
    assert rules
    trusted = {rule: rule_precision_estimate(50, 0) for rule in rules}
    crying_wolf = {rule: rule_precision_estimate(0, 50) for rule in rules}

    def deductions(precision):
        return sum(x.points for x in call_priority(r, rule_precision=precision)[1] if x.code == "deductions")

    assert deductions(trusted) > 5 * deductions(crying_wolf) > 0
    assert rule_precision_estimate(0, 0) == pytest.approx(0.7)


def test_turns_and_features_do_not_read_length():
    assert [(t.role, t.utterances) for t in turns_of(["agent", "customer", "customer", "agent"], list("abcd"))] == [
        ("agent", [0]), ("customer", [1, 2]), ("agent", [3])]
    roles = [r for r, _ in DISSATISFIED]
    texts = [t for _, t in DISSATISFIED]
    one = call_features(roles, texts, [0.5] * len(texts)).dense
    twice = call_features(roles * 2, texts * 2, [0.5] * (2 * len(texts))).dense
    model = load_call_model()
    # the dense cues are shares and flags, not counts: the same exchange twice moves them little
    assert np.abs(one - twice).max() <= 1.0
    assert not any(name.startswith(("n_", "len", "turns")) for name in model.meta["dense_features"])


def test_call_labels_recalibrate_the_call_model(tmp_path, monkeypatch):
    rows = []
    for k in range(12):
        for lines, label in ((SATISFIED, 1), (DISSATISFIED, 1)):  # a team where every call counts as dissatisfied
            cid = f"C{k}-{len(lines)}"
            for i, (role, text) in enumerate(lines):
                rows.append({"call_id": cid, "role": role, "text": text, "dissatisfied": label if i == 0 else "",
                             "unresolved": ""})
    rows[0]["dissatisfied"] = 0  # one satisfied call so both classes exist
    path = tmp_path / "calls.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    from typer.testing import CliRunner

    from cli import app

    out = tmp_path / "model"
    res = CliRunner().invoke(app, ["emotion", "train", str(path), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "dissatisfied: 24 labelled calls" in res.output and "unresolved" not in res.output.split("->")[0]
    before = analyze_call(transcript(SATISFIED)).dissatisfied
    monkeypatch.setenv("QC_CALL_MODEL", str(out))
    after = analyze_call(transcript(SATISFIED)).dissatisfied
    assert after > before + 0.2  # the team's base rate moved the satisfied call up


def test_bad_call_label_file_names_the_line(tmp_path):
    from qc.emotion.train import LabelFileError, read_call_labels

    path = tmp_path / "calls.csv"
    path.write_text("call_id,role,text,dissatisfied\nA,agent,您好,\nA,caller,我要投诉,2\n", encoding="utf-8")
    with pytest.raises(LabelFileError) as e:
        read_call_labels(path)
    assert f"{path}:3: role 'caller'" in str(e.value)


@pytest.mark.skipif(not TRAIN.exists(), reason="../shared/data not present")
def test_probabilities_are_calibrated_on_the_held_out_part_of_the_training_split():
    from qc.emotion.train.calls import _calibration_error, _in_holdout, call_feature_rows, read_dialogues

    model = load_call_model()
    calls = [c for c in read_dialogues(TRAIN) if _in_holdout(c.call_id, model.meta["holdout_share"])]
    assert 200 < len(calls) < 400
    probs = [model.predict(f) for f in call_feature_rows(calls)]
    for o in ("dissatisfied", "unresolved"):
        p = np.array([x[o] for x in probs])
        y = np.array([getattr(c, o) for c in calls])
        assert abs(p.mean() - y.mean()) < 0.05, o
        assert _calibration_error(p, y) < 0.08, o
        order = np.argsort(p)
        assert y[order[-len(y) // 4:]].mean() > 0.9 and y[order[: len(y) // 4]].mean() < 0.4, o


def test_a_media_threat_is_one_risk_reason_from_the_rules_and_never_calm():
    from qc.emotion.summary import mood_label
    from qc.rules import inspect, load_rules

    lines = [("customer", "你好，我想问一下套餐的事。"), ("agent", "您好，请讲。"),
             ("customer", "上个月多扣的钱还没退，再不处理我就找记者曝光。"), ("agent", "好的，马上为您核实。")]
    r = result_for(lines, "MEDIA")
    assert r.emotion.risks == []  # the emotion stage raises no flags: the rules are the one detector
    r.inspection.findings = inspect(r.transcript, load_rules(Path(__file__).resolve().parents[1] / "rules")).findings
    assert [f.rule for f in r.inspection.findings if f.kind == "risk"] == ["RISK02"]
    assert mood_label(r.emotion, r.inspection.findings) == "风险: 媒体曝光"  # never 平稳
    _, reasons = call_priority(r)
    risk = [x for x in reasons if x.code == "risk"]
    assert len(risk) == 1 and risk[0].text == "风险: 媒体曝光" and risk[0].evidence.utterance == 2
