"""Reviewed scores (qc serve) in the static report, the exports, the agent scorecards and ``qc agent``."""

import csv
import json

import pytest
from serve_night import NIGHT, make_sample_night
from typer.testing import CliRunner

from qc.report import write_reports
from qc.report.history import History
from qc.run.store import load_call_results
from qc.scoring import default_scorecard_path, load_scorecard
from qc.serve.review import reviewed_score
from qc.serve.store import ReviewStore
from qc.types import to_dict


@pytest.fixture(scope="module")
def reviewed_night(tmp_path_factory):
    """The sample night, then a reviewer marks C003's FORB01 a false positive (as the workbench does)."""
    tmp = tmp_path_factory.mktemp("reviewed")
    night, db = make_sample_night(tmp)
    results = {r.call_id: r for r in load_call_results(night)}
    c003 = results["C003"]
    assert any(d.rule == "FORB01" and d.points > 0 for i in c003.score.items for d in i.deductions)
    score = reviewed_score(c003, load_scorecard(default_scorecard_path()), {"FORB01": "false_positive"})
    assert score.score > c003.score.score
    with ReviewStore(db) as store:
        store.add_review(NIGHT, "C003", "rita", agent_id=c003.transcript.agent_id, team=c003.transcript.meta.get("team"),
                         machine_score=c003.score.score, score=to_dict(score), verdicts={"FORB01": ("false_positive", "客户转述")})
    return night, db, results, score


def _rows(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_qc_agent_counts_a_review_submitted_after_the_report(reviewed_night):
    _, db, results, score = reviewed_night
    agent = results["C003"].transcript.agent_id
    mine = [r for r in results.values() if r.transcript.agent_id == agent]
    machine = round(sum(r.score.score for r in mine) / len(mine), 1)
    with History(db) as h:
        card = h.agent_card(agent, NIGHT)
    assert card.machine_mean_score == machine and card.reviewed_calls == 1
    expected = round((sum(r.score.score for r in mine if r.call_id != "C003") + score.score) / len(mine), 1)
    assert card.mean_score == expected > machine

    from cli import app

    out = CliRunner().invoke(app, ["agent", agent, "--db", str(db)])
    assert out.exit_code == 0, out.output
    assert f"平均分 {expected}" in out.output and f"机器平均分 {machine}" in out.output and "已复核 1/" in out.output


def test_report_exports_and_pages_show_both_scores(reviewed_night, tmp_path):
    night, db, results, score = reviewed_night
    rep = write_reports(list(results.values()), tmp_path, night=NIGHT, db=db, calibration=1)
    calls = {r["通话ID"]: r for r in _rows(tmp_path / "calls.csv")}
    assert float(calls["C003"]["得分"]) == results["C003"].score.score  # the machine score is kept
    assert float(calls["C003"]["复核得分"]) == score.score and calls["C003"]["复核人"] == "rita"
    assert calls["C001"]["复核得分"] == ""  # not reviewed
    findings = [r for r in _rows(tmp_path / "findings.csv") if r["通话ID"] == "C003" and r["规则编号"] == "FORB01"]
    assert findings and findings[0]["复核结论"] == "误报"

    agent = results["C003"].transcript.agent_id
    row = next(r for r in _rows(tmp_path / "agents.csv") if r["坐席工号"] == agent)
    card = next(c for c in rep.agents if c.agent_id == agent)
    assert float(row["平均分"]) == card.mean_score > float(row["机器平均分"]) == card.machine_mean_score
    assert row["已复核通话"] == "1" and row["平均分口径"].startswith("复核分优先")
    other = next(r for r in _rows(tmp_path / "agents.csv") if r["坐席工号"] != agent)
    assert other["平均分口径"] == "机器得分" and other["平均分"] == other["机器平均分"]

    summary = json.loads((tmp_path / "night.json").read_text(encoding="utf-8"))["summary"]
    n = len(results)
    assert summary["reviewed"] == 1 and summary["machine_mean"] == round(sum(r.score.score for r in results.values()) / n, 1)
    assert summary["mean"] > summary["machine_mean"]
    page = (tmp_path / "agents" / f"{agent}.html").read_text(encoding="utf-8")
    assert f"机器 {card.machine_mean_score}" in page and "复核分优先" in page
    call_page = (tmp_path / "calls" / "C003.html").read_text(encoding="utf-8")
    assert 'id="reviewed-score"' in call_page and f">{score.score}<" in call_page
    assert 'id="reviewed-score"' not in (tmp_path / "calls" / "C001.html").read_text(encoding="utf-8")
    # the queue still ranks the machine's output
    assert all(q.score == results[q.call_id].score.score for q in rep.queue)
