"""The night batch without Whisper: transcripts in, results and a report out; resume after an
interruption, bad files in a batch, exit codes, worker processes. Audio end to end is in
test_samples_e2e.py."""

from __future__ import annotations

import json
import shutil
import wave
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from qc.run.night import score_night
from qc.run.plan import UsageError, plan_jobs
from qc.run.store import load_call_results, result_path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
REFERENCE = SAMPLES / "reference"
CALLS_CSV = SAMPLES / "calls.csv"


def night(inputs, out, **kw):
    # One worker (in this process) unless a test is about workers: spawning a pool costs seconds per
    # night and every engine runs the same driver (1 vs 2 workers: test_worker_processes_give_the_same_results).
    kw.setdefault("workers", 1)
    kw.setdefault("meta", CALLS_CSV)
    kw.setdefault("rules", ROOT / "rules")
    kw.setdefault("report", False)
    kw.setdefault("cache_dir", Path(out) / "cache")
    return score_night(inputs, out, **kw)


def results_json(out: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted((out / "calls").glob("*.json"))}


def mtimes(out: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in (out / "calls").glob("*.json")}


def write_wav(path: Path, samples: np.ndarray, rate: int = 8000) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(samples.shape[0])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((samples.T * 32767).astype("<i2").tobytes())
    return path


def test_transcript_folder_is_scored_with_metadata_and_report(tmp_path):
    out = tmp_path / "night"
    summary = night([REFERENCE], out, report=True, report_options={"db": None})
    assert summary.exit_code == 0
    assert summary.count("scored") == 7 and not summary.failed
    results = {r.call_id: r for r in load_call_results(out)}
    assert sorted(results) == [f"C00{i}" for i in range(1, 8)]
    c003 = results["C003"]
    assert c003.transcript.agent_id == "A201" and c003.transcript.meta["team"] == "二组"
    assert {f.rule for f in c003.inspection.findings} >= {"FORB01"}
    assert c003.score.score < results["C001"].score.score
    assert Path(summary.report).is_file() and (out / "index.html").is_file()
    saved = json.loads((out / "night_summary.json").read_text(encoding="utf-8"))
    assert saved["scored"] == 7 and saved["failed"] == 0 and saved["report"] == summary.report


def test_rerun_resumes_and_recomputes_only_what_changed(tmp_path):
    src = tmp_path / "transcripts"
    shutil.copytree(REFERENCE, src)
    out = tmp_path / "night"
    first = night([src], out)
    assert first.count("scored") == 7
    before = mtimes(out)

    again = night([src], out)
    assert again.count("resumed") == 7 and again.count("scored") == 0
    assert mtimes(out) == before  # nothing rewritten

    # one transcript edited: only that call is scored again
    data = json.loads((src / "C001.json").read_text(encoding="utf-8"))
    data["utterances"][-1]["text"] = "嗯。"
    (src / "C001.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    third = night([src], out)
    assert {c.call_id for c in third.calls if c.status == "scored"} == {"C001"}
    assert "CLOSE01" in {f.rule for f in next(r for r in load_call_results(out) if r.call_id == "C001").inspection.findings}

    # a rule edited: the whole night is inspected again
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    (rules / "service.yaml").write_text((rules / "service.yaml").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    fourth = night([src], out, rules=rules)
    assert fourth.count("scored") == 7

    # --force recomputes everything even when nothing changed
    assert night([src], out, rules=rules, force=True).count("scored") == 7


def test_interrupted_night_keeps_finished_calls_and_resumes(tmp_path):
    out = tmp_path / "night"
    stop_after = 3

    def interrupt(outcome, summary, total):
        if len(summary.calls) == stop_after:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        night([REFERENCE], out, progress=interrupt)
    saved = json.loads((out / "night_summary.json").read_text(encoding="utf-8"))
    assert saved["interrupted"] is True and saved["scored"] == stop_after
    finished = sorted(p.stem for p in (out / "calls").glob("*.json"))
    assert len(finished) == stop_after
    kept = mtimes(out)

    resumed = night([REFERENCE], out)
    assert resumed.exit_code == 0
    assert sorted(c.call_id for c in resumed.calls if c.status == "resumed") == finished
    assert resumed.count("scored") == 7 - stop_after
    assert {k: v for k, v in mtimes(out).items() if k in kept} == kept
    # a half-written result (crash mid-write) is never taken as finished
    assert not list((out / "calls").glob(".*.tmp"))


def test_stamp_without_result_is_not_trusted(tmp_path):
    out = tmp_path / "night"
    night([REFERENCE / "C001.json"], out)
    result_path(out, "C001").unlink()
    assert night([REFERENCE / "C001.json"], out).count("scored") == 1


def test_bad_files_are_reported_and_the_rest_scored(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.wav").write_bytes(b"")
    (bad / "notes.wav").write_text("这不是录音", encoding="utf-8")
    good = write_wav(bad / "silent.wav", np.zeros((2, 8000 * 5), np.float32))
    truncated = bad / "cut.wav"
    truncated.write_bytes((SAMPLES / "C001.wav").read_bytes()[:2000])
    broken_json = bad / "broken.json"
    broken_json.write_text('{"call_id": "X", "utterances": [', encoding="utf-8")
    inputs = [REFERENCE / "C001.json", REFERENCE / "C003.json", bad / "empty.wav", bad / "notes.wav", good, truncated, broken_json]
    out = tmp_path / "night"
    summary = night(inputs, out, report=True, report_options={"db": None})
    assert summary.exit_code == 1
    assert sorted(c.call_id for c in summary.calls if c.status == "scored") == ["C001", "C003"]
    errors = {Path(c.source).name: c.error for c in summary.failed}
    assert set(errors) == {"empty.wav", "notes.wav", "silent.wav", "cut.wav", "broken.json"}
    assert "empty" in errors["empty.wav"]
    assert "silent" in errors["silent.wav"]
    assert "truncated" in errors["cut.wav"]
    assert "invalid JSON" in errors["broken.json"]
    assert all(e.startswith(str(bad)) for e in errors.values())  # every reason names its file
    assert (out / "index.html").is_file()  # the good calls are still reported
    lines = "\n".join(summary.lines())
    assert "5 failed" in lines and "FAILED empty" in lines


def test_text_only_calls_say_which_checks_were_skipped(tmp_path):
    data = json.loads((REFERENCE / "C005.json").read_text(encoding="utf-8"))
    for u in data["utterances"]:
        u.pop("start"), u.pop("end")
    src = tmp_path / "chat"
    src.mkdir()
    (src / "C005.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    summary = night([src], tmp_path / "night")
    [call] = summary.text_only
    assert {"SILN01", "INTR01"} <= set(call.skipped_checks)
    assert "TICK01" not in call.skipped_checks and "FORB01" not in call.skipped_checks  # not audio checks
    line = next(s for s in summary.lines() if "text-only" in s)
    assert "SILN01" in line and "audio-only checks skipped" in line
    # with times (the reference scripts) the timing checks run
    timed = night([REFERENCE / "C005.json"], tmp_path / "timed")
    assert timed.text_only[0].skipped_checks == {}
    assert "timing checks used the transcripts' times" in "\n".join(timed.lines())


def test_duplicate_call_ids_are_refused_not_merged(tmp_path):
    src = tmp_path / "a"
    src.mkdir()
    shutil.copy(REFERENCE / "C001.json", src / "C001.json")
    shutil.copy(REFERENCE / "C001.json", src / "C001-copy.json")
    jobs, rejected = plan_jobs([src])
    assert [j.call_id for j in jobs] == ["C001"]
    assert len(rejected) == 1 and "already used" in rejected[0].error


def test_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="no such file"):
        night([tmp_path / "missing"], tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="nothing to score"):
        night([tmp_path / "empty"], tmp_path / "out")
    bad_rules = tmp_path / "rules.yaml"
    bad_rules.write_text("rules:\n  - code: X1\n    nme: oops\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"rules.yaml:\d+:\d+"):
        night([REFERENCE], tmp_path / "out", rules=bad_rules)
    with pytest.raises(UsageError, match="engine"):
        night([REFERENCE], tmp_path / "out", engine="spark")


def test_worker_processes_give_the_same_results(tmp_path):
    # one worker runs the calls in this process; two run them in a process pool
    one = night([REFERENCE], tmp_path / "one", workers=1)
    two = night([REFERENCE], tmp_path / "two", workers=2)
    assert one.count("scored") == two.count("scored") == 7
    assert results_json(tmp_path / "one") == results_json(tmp_path / "two")


def test_cli_exit_codes(tmp_path):
    from cli import app

    runner = CliRunner()
    base = ["--rules", str(ROOT / "rules"), "--meta", str(CALLS_CSV), "--no-history", "--workers", "1"]
    ok = runner.invoke(app, ["score", str(REFERENCE), "--out", str(tmp_path / "ok"), *base])
    assert ok.exit_code == 0, ok.output
    assert "7 calls: 7 scored" in ok.output and (tmp_path / "ok" / "index.html").is_file()
    assert "[7/7]" in ok.output  # plain progress lines when not on a terminal

    (tmp_path / "junk.wav").write_bytes(b"RIFF....WAVEjunk")
    partial = runner.invoke(app, ["score", str(REFERENCE / "C001.json"), str(tmp_path / "junk.wav"),
                                  "--out", str(tmp_path / "partial"), *base])
    assert partial.exit_code == 1
    assert "FAILED junk" in partial.output

    usage = runner.invoke(app, ["score", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x"), *base])
    assert usage.exit_code == 2 and "no such file" in usage.output


def test_calls_csv_in_the_input_folder_is_used_by_default(tmp_path):
    src = tmp_path / "night-in"
    shutil.copytree(REFERENCE, src)
    shutil.copy(CALLS_CSV, src / "calls.csv")
    summary = score_night([src], tmp_path / "out", rules=ROOT / "rules", report=False, cache_dir=tmp_path / "c", workers=1)
    assert summary.count("scored") == 7
    c006 = next(r for r in load_call_results(tmp_path / "out") if r.call_id == "C006")
    assert c006.transcript.agent_id == "A201" and c006.transcript.meta["direction"] == "inbound"
