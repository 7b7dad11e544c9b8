"""Disk full and unwritable paths (issue 12): one-line errors naming the path, atomic reports,
finished transcriptions kept when the cache cannot be written. The full disk is simulated by
making writes raise ENOSPC (a tmpfs needs root)."""
import errno
import json
import logging
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from qc.report.history import History, HistoryError
from qc.report import write_reports
from qc.report.exports import ExportError
from scoring_cases import load_cases

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "samples" / "reference"
NIGHT = "2024-05-20"


def _enospc(*a, **k):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_results_folder_full_is_one_line_naming_the_file(tmp_path, monkeypatch):
    import qc.run.store
    from cli import app

    real = qc.run.store.write_json_atomic
    written = []

    def full_after_three(data, path):
        if len(written) >= 3:
            _enospc()
        written.append(path)
        real(data, path)

    monkeypatch.setattr(qc.run.store, "write_json_atomic", full_after_three)
    res = CliRunner().invoke(app, ["score", str(REFERENCE), "--out", str(tmp_path / "out"), "--rules", str(ROOT / "rules"),
                                   "--workers", "1", "--no-history"])
    assert res.exit_code == 2, res.output
    errors = [x for x in res.output.splitlines() if x.startswith("error:")]
    assert len(errors) == 1 and "calls/C004.json: cannot write (No space left on device)" in errors[0]
    assert "Traceback" not in res.output
    assert len(list((tmp_path / "out" / "calls").glob("*.json"))) == 3  # the finished calls are kept
    saved = json.loads((tmp_path / "out" / "night_summary.json").read_text(encoding="utf-8"))
    assert saved["scored"] == 3


def test_failed_report_leaves_the_previous_one_intact(tmp_path, monkeypatch):
    import qc.report.exports as exports

    out = tmp_path / "rep"
    write_reports(load_cases(), out, night=NIGHT)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    monkeypatch.setattr(exports.json, "dump", _enospc)
    with pytest.raises(ExportError) as e:
        write_reports(load_cases()[:3], out, night=NIGHT)
    assert str(e.value).startswith(f"{out / 'night.json'}: cannot write (No space left on device)")
    assert (out / "night.json").read_bytes() == before["night.json"]
    json.loads((out / "night.json").read_text(encoding="utf-8"))
    assert not list(out.glob(".*.tmp"))


def test_report_cli_on_an_unwritable_folder(tmp_path):
    from cli import app
    from qc.run.store import save_call_result

    for r in load_cases():
        save_call_result(r, tmp_path / "night")
    (tmp_path / "file").write_text("x")
    res = CliRunner().invoke(app, ["report", str(tmp_path / "night"), "--out", str(tmp_path / "file" / "rep"), "--no-history"])
    assert res.exit_code == 1 and res.output.count("\n") == 1 and "file/rep" in res.output and "cannot write" in res.output, res.output


class _FullDisk:
    def __init__(self, con):
        self.con = con

    def __getattr__(self, name):
        return getattr(self.con, name)

    def __enter__(self):
        return self.con.__enter__()

    def __exit__(self, *exc):
        return self.con.__exit__(*exc)

    def executemany(self, *a):
        raise sqlite3.OperationalError("database or disk is full")


def test_history_on_a_full_disk_names_the_database(tmp_path):
    db = tmp_path / "h.sqlite"
    with History(db) as h:
        h.db = _FullDisk(h.db)
        with pytest.raises(HistoryError) as e:
            h.record_night(NIGHT, load_cases())
    assert str(e.value).startswith(f"{db}: cannot write the history database (database or disk is full)")
    assert "\n" not in str(e.value)


def test_finished_transcription_is_kept_when_the_cache_cannot_be_written(tmp_path, caplog):
    import wave

    from qc.asr import transcribe_call
    from qc.run.cache import TranscriptCache
    from qc.types import Transcript, Utterance

    wav = tmp_path / "c.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(np.zeros((2, 8000), dtype="<i2").tobytes())

    class Recogniser:
        calls = 0

        def cache_key(self, sha256, channel_map):
            return "ab" + sha256[:30]

        def transcribe(self, audio, call_id, agent_id=None, meta=None, channel_map=None):
            self.calls += 1
            return Transcript(call_id=call_id, agent_id=agent_id, utterances=[Utterance(role="agent", text="您好", start=0.0, end=1.0)])

    (tmp_path / "not-a-folder").write_text("x")
    cache = TranscriptCache(tmp_path / "not-a-folder" / "transcripts")
    with caplog.at_level(logging.WARNING):
        transcript, cached = transcribe_call(wav, Recogniser(), cache=cache)
    assert not cached and transcript.utterances[0].text == "您好"
    assert any("cannot write the transcript cache" in r.getMessage() for r in caplog.records)
