"""`qc emotion train` / `qc emotion score`: recalibration round trip through the CLI."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from cli import app
from qc.emotion import score_utterances
from qc.emotion.train import LabelFileError, read_labels
from qc.types import Transcript, Utterance

runner = CliRunner()

# A team's jargon: "走绿通" (take the green channel) is routine for them; "又双叒" marks a customer
# calling again about the same fault. The shipped model knows neither.
NEUTRAL = ["我要走绿通", "帮我走绿通吧", "走绿通的话要多久", "这个可以走绿通吗", "那就走绿通"]
NEGATIVE = ["又双叒来电了", "又双叒是这个问题", "又双叒打过来了", "我这是又双叒", "又双叒坏了"]
POSITIVE = ["好的谢谢你", "非常满意", "太好了，解决了", "服务很好", "谢谢，辛苦了"]


def _labels(path):
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        for k in range(4):
            for t in NEUTRAL:
                w.writerow([t + "。" * k, "neutral"])
            for t in NEGATIVE:
                w.writerow([t + "！" * k, "negative"])
            for t in POSITIVE:
                w.writerow([t + "。" * k, "1"])


def _neg(text, model=None):
    return score_utterances(Transcript("x", [Utterance(role="customer", text=text)]), model=model)[0].negativity


def test_train_round_trip_changes_scores_and_is_picked_up(tmp_path, monkeypatch):
    labels = tmp_path / "labels.csv"
    _labels(labels)
    out = tmp_path / "model"
    before_neg = _neg("他又双叒来了")
    result = runner.invoke(app, ["emotion", "train", str(labels), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "trained on 60 labelled utterances" in result.output
    assert (out / "text_model.npz").is_file()
    after_neg = _neg("他又双叒来了", model=out)
    assert after_neg > before_neg + 0.2 and after_neg >= 0.5
    assert _neg("可以走绿通吗", model=out) < 0.5
    # unrelated polite lines stay calm after recalibration
    assert _neg("非常抱歉给您带来不便", model=out) < 0.5
    monkeypatch.setenv("QC_EMOTION_MODEL", str(out))
    assert _neg("他又双叒来了") == pytest.approx(after_neg)


def test_bad_label_file_reports_every_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\n好的,positive\n差,angry\n还行,2\n", encoding="utf-8")
    with pytest.raises(LabelFileError) as e:
        read_labels(bad)
    assert f"{bad}:3: unknown label 'angry'" in str(e.value) and f"{bad}:4:" in str(e.value)
    result = runner.invoke(app, ["emotion", "train", str(bad), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2 and "unknown label" in result.output
    nohead = tmp_path / "nohead.csv"
    nohead.write_text("sentence,score\n好,1\n", encoding="utf-8")
    with pytest.raises(LabelFileError, match="text,label"):
        read_labels(nohead)


def test_score_command_prints_summary_and_json(tmp_path):
    from qc.transcript import save_transcript

    t = Transcript(call_id="C42", utterances=[
        Utterance(role="agent", text="您好，很高兴为您服务。", start=0.0, end=2.0),
        Utterance(role="customer", text="你们乱扣费，再不退钱我就打12315！", start=2.5, end=6.0),
        Utterance(role="agent", text="非常抱歉，马上为您核实退费。", start=6.5, end=9.0),
    ])
    path = tmp_path / "C42.json"
    save_transcript(t, path)
    result = runner.invoke(app, ["emotion", "score", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("C42: customer negativity peak")
    assert "complaint: price, priority 高度紧急" in result.output  # graded high by the regulator threat
    assert "risk " not in result.output  # risk flags are the rules' (RISK01-05), not the emotion stage's
    result = runner.invoke(app, ["emotion", "score", "--json", str(path)])
    data = json.loads(result.output)
    assert data["call_id"] == "C42" and data["risks"] == [] and data["complaint"]["priority"] == "高度紧急"
    missing = runner.invoke(app, ["emotion", "score", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2 and "no such file" in missing.output


def test_first_format_model_still_loads(tmp_path):
    """A model saved by the first release (one binary group: bits/words keys) keeps working."""
    import numpy as np

    from qc.emotion.features import hash_features
    from qc.emotion.text import load_text_model

    rng = np.random.default_rng(0)
    weights = rng.normal(0, 0.1, 1 << 12).astype(np.float16)
    path = tmp_path / "old.npz"
    np.savez_compressed(path, weights=weights, bias=np.float64(-0.5), bits=np.int64(12), words=np.bool_(True),
                        meta=np.array("{}"))
    model = load_text_model(path)
    text = "这个问题怎么还没解决"
    expected = -0.5 + weights.astype(np.float64)[hash_features(text, bits=12)].sum()
    assert model.logit(text) == pytest.approx(expected, abs=1e-6)


def test_shipped_model_is_small_and_short_lines_stay_near_the_prior():
    from qc.emotion.text import load_text_model

    model = load_text_model()
    assert len(model.groups) == 2 and all(g.l2 and g.l2_floor > 0 for g in model.groups)
    # four characters carry far less evidence than a review: no more than the prior +- 1.5 logits
    for text in ("怎么称呼", "好的", "稍等一下"):
        assert abs(model.logit(text) - model.bias) < 1.5
