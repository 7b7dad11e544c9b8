import json
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qc.report import write_reports
from qc.run.store import save_call_result
from scoring_cases import GOLDEN, load_cases

NIGHT = "2024-05-20"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rep")
    cases = load_cases()
    audio = tmp / "audio" / "G02.wav"
    audio.parent.mkdir()
    audio.write_bytes(b"RIFF")
    from qc.types import AudioInfo

    cases[1].transcript.audio = AudioInfo(str(audio), "0" * 64, 11.0, 8000, 2, "wav")
    rep = write_reports(cases, tmp / "out", night=NIGHT, db=tmp / "h.sqlite", calibration=2)
    return rep, tmp / "out"


def test_exports_have_chinese_headers_and_are_redacted(report):
    _, out = report
    assert (out / "calls.csv").read_text(encoding="utf-8-sig").startswith("通话ID,坐席工号,班组,得分")
    from openpyxl import load_workbook

    wb = load_workbook(out / "night.xlsx", read_only=True)
    assert wb.sheetnames == ["通话明细", "违规明细", "复核队列", "坐席"]
    assert load_workbook(out / "agents.xlsx", read_only=True).sheetnames[0] == "坐席评分卡"
    for path in list(out.rglob("*.html")) + list(out.glob("*.csv")) + [out / "night.json"]:
        text = path.read_text(encoding="utf-8-sig")
        assert "13812345678" not in text and "110101199003071234" not in text and "五六七八" not in text.replace("**** 五六七八", ""), path
    g03 = (out / "calls" / "G03.html").read_text(encoding="utf-8")
    assert "138****5678" in g03 and "&lt;b&gt;好的&lt;/b&gt;" in g03 and "<b>好的</b>" not in g03


def test_no_redact_keeps_numbers(tmp_path):
    write_reports(load_cases(), tmp_path, night=NIGHT, redact=False, call_pages=True)
    assert "13812345678" in (tmp_path / "calls" / "G03.html").read_text(encoding="utf-8")
    assert "13812345678" in (tmp_path / "findings.csv").read_text(encoding="utf-8-sig")


def test_call_page_has_audio_and_jumps(report):
    _, out = report
    page = (out / "calls" / "G02.html").read_text(encoding="utf-8")
    assert '<audio id="player"' in page and 'src="../../audio/G02.wav"' in page
    assert 'class="jump" data-t="5.5"' in page  # the fatal finding jumps to 00:05
    assert "一票否决" in page


def test_repeat_contacts_and_fcr(report):
    rep, out = report
    assert {k: v.call_id for k, v in rep.repeats.items()} == {"G06": "G04"}
    a102 = next(c for c in rep.agents if c.agent_id == "A102")
    assert a102.fcr == 0.5 and a102.repeat_calls == 1  # G04 was not resolved: the customer called again
    night = json.loads((out / "night.json").read_text(encoding="utf-8"))
    assert {t["team"]: t["fcr"] for t in night["teams"]} == {"一组": 0.8, "二组": 1.0}
    assert "重复投诉" in (out / "index.html").read_text(encoding="utf-8")


def test_trend_across_two_nights_and_rerun(tmp_path):
    cases = load_cases()
    db = tmp_path / "h.sqlite"
    earlier = load_cases()[:5]
    for r in earlier:  # history is keyed by call: the night before holds other calls
        r.transcript.call_id = "N1-" + r.transcript.call_id
    write_reports(earlier, tmp_path / "n1", night="2024-05-19", db=db)
    write_reports(cases, tmp_path / "n2", night="2024-05-20", db=db)
    rep = write_reports(cases, tmp_path / "n2", night="2024-05-20", db=db)  # re-run replaces
    a101 = next(c for c in rep.agents if c.agent_id == "A101")
    assert a101.trend == [("2024-05-19", 95.0, 2), ("2024-05-20", 96.7, 3)]
    from qc.report.history import History

    with History(db) as h:
        card = h.agent_card("A101")
        assert card.night == "2024-05-20" and card.trend == a101.trend


def test_cli_report_agent_review(tmp_path, monkeypatch):
    from cli import app

    monkeypatch.chdir(tmp_path)
    for r in load_cases():
        save_call_result(r, tmp_path / "night")
    runner = CliRunner()
    res = runner.invoke(app, ["report", "night", "--out", "rep", "--night", NIGHT, "--db", "h.sqlite"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "rep" / "index.html").exists() and "5 to re-review" in res.output
    res = runner.invoke(app, ["agent", "A101", "--db", "h.sqlite"])
    assert res.exit_code == 0 and "96.7" in res.output and "ID01" in res.output, res.output
    assert runner.invoke(app, ["agent", "A1O1", "--db", "h.sqlite"]).exit_code != 0
    import dataclasses

    g04 = next(r for r in load_cases() if r.call_id == "G04")
    for i in range(5):  # five calls with a KNOW01 finding, all judged false positives
        save_call_result(dataclasses.replace(g04, transcript=dataclasses.replace(g04.transcript, call_id=f"K0{i}")), tmp_path / "night")
    assert runner.invoke(app, ["report", "night", "--out", "rep", "--night", NIGHT, "--db", "h.sqlite"]).exit_code == 0
    (tmp_path / "v.csv").write_text("call_id,rule,verdict,note\n" + "".join(f"K0{i},KNOW01,false_positive,\n" for i in range(5)), encoding="utf-8")
    res = runner.invoke(app, ["review", "import", "v.csv", "--db", "h.sqlite"])
    assert res.exit_code == 0 and "5 verdicts" in res.output
    res = runner.invoke(app, ["report", "night", "--out", "rep", "--night", NIGHT, "--db", "h.sqlite"])
    assert "误报过多" in (tmp_path / "rep" / "index.html").read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text((GOLDEN / "scorecard.yaml").read_text(encoding="utf-8").replace("[KNOW01]", "[KNOW1]"), encoding="utf-8")
    res = runner.invoke(app, ["report", "night", "--out", "rep2", "--scorecard", str(bad), "--rules", str(Path(__file__).parent.parent / "rules")])
    assert res.exit_code == 1 and "SC020" in res.output and "bad.yaml:" in res.output


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_night_report_renders_in_chromium(report, tmp_path):
    _, out = report
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    shots = Path(__file__).parent.parent / "out" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    for page, name in ((out / "index.html", "night.png"), (out / "agents" / "A201.html", "agent.png"), (out / "calls" / "G02.html", "call.png")):
        dom = subprocess.run(flags + ["--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
        assert dom.returncode == 0, dom.stderr[-2000:]
        console = [l for l in dom.stderr.splitlines() if "CONSOLE" in l or "Uncaught" in l]
        assert not console, console
        if name == "night.png":
            assert 'id="queue"' in dom.stdout and "agents/A201.html" in dom.stdout and "G02" in dom.stdout
        if name == "agent.png":
            assert "坐席评分卡" in dom.stdout and "FORBID01" in dom.stdout
        shot = tmp_path / name
        res = subprocess.run(flags + ["--window-size=1280,2000", f"--screenshot={shot}", page.as_uri()], capture_output=True, text=True, timeout=120)
        assert res.returncode == 0 and shot.stat().st_size > 20000, res.stderr[-2000:]
        shutil.copy(shot, shots / name)


def test_a_risk_found_by_the_rules_and_the_emotion_stage_is_shown_once(tmp_path):
    """The call page and calls.csv show a risk kind once: the rules' finding, else the emotion stage's flag."""
    import copy
    import csv

    from scoring_cases import load_cases

    from qc.types import Evidence, Finding, RiskFlag

    base = next(r for r in load_cases() if r.emotion is not None)
    both, old = copy.deepcopy(base), copy.deepcopy(base)
    both.transcript.call_id = both.inspection.call_id = both.emotion.call_id = "RISK-BOTH"
    old.transcript.call_id = old.inspection.call_id = old.emotion.call_id = "RISK-OLD"
    ev = Evidence(0, "customer", 1.0, 2.0, "我要找媒体曝光你们")
    for r in (both, old):
        r.emotion.risks = [RiskFlag("media", ev), RiskFlag("lawyer", ev)]
    both.inspection.findings.append(Finding("RISK-BOTH", "RISK02", "risk.media", "risk", "major", "媒体曝光风险", [ev], kind="risk"))
    write_reports([both, old], tmp_path, night="2024-05-20", calibration=0)
    page = (tmp_path / "calls" / "RISK-BOTH.html").read_text(encoding="utf-8")
    assert page.count('class="risk-flag"') == 2 and "RISK02" in page and page.count('<span class="tag risk">媒体曝光</span>') == 1 and "法律诉讼" in page
    page = (tmp_path / "calls" / "RISK-OLD.html").read_text(encoding="utf-8")
    assert page.count('class="risk-flag"') == 2 and "媒体曝光" in page  # no risk finding: the emotion flags
    with open(tmp_path / "calls.csv", encoding="utf-8-sig", newline="") as f:
        rows = {r["通话ID"]: r for r in csv.DictReader(f)}
    assert set(rows["RISK-BOTH"]["风险"].split("、")) == {"法律诉讼", "媒体曝光"} == set(rows["RISK-OLD"]["风险"].split("、"))


def test_call_page_shows_what_the_asr_guard_trimmed_dropped_and_heard_again(tmp_path):
    """Speech the guard changed is never silent: a trimmed loop with the speech after it
    recognised again, a dropped segment, a re-listened window not used."""
    import copy

    base = copy.deepcopy(load_cases()[0])
    base.transcript.meta.update({
        "asr_trimmed": [{"channel": 0, "start": 43.05, "end": 55.29, "text": "野生小鸽鸽鸽鸽鸽鸽", "kept": "野生小鸽",
                         "reason": "repetitive (repeated unit)", "decoded_again": "那您先忙,再见啊"}],
        "asr_dropped": [{"channel": 1, "start": 5.0, "end": 9.0, "text": "一年了一年了", "reason": "low confidence"}],
        "asr_relistened": [{"rule": "CLOSE01", "channel": 0, "start": 34.1, "end": 49.1, "heard": "祝您生活愉快",
                            "agreement": 21.1, "used": False, "passed": False, "seconds": 1.2}],
    })
    write_reports([base], tmp_path, night=NIGHT, calibration=0)
    page = (tmp_path / "calls" / f"{base.call_id}.html").read_text(encoding="utf-8")
    assert "语音识别处理" in page and "保留 “野生小鸽”" in page and "其后的语音已重新识别：“那您先忙,再见啊”" in page
    assert "一年了一年了" in page and "与首遍识别不符" in page and "未采用" in page
