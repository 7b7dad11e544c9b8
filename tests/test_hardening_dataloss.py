"""No silent data loss (issue 12): colliding call ids, history keyed by call, verdict import."""
import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qc.run.plan import plan_jobs
from qc.report.history import History
from qc.report import write_reports
from scoring_cases import load_cases

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "samples" / "reference"
NIGHT = "2024-05-20"


def _renamed(prefix):
    cases = load_cases()
    for r in cases:
        r.transcript.call_id = prefix + r.transcript.call_id
    return cases


def test_call_ids_mapping_to_one_file_are_refused_with_both_paths(tmp_path):
    for name, call_id in (("a.json", "2024-05-20 001"), ("b.json", "2024-05-20_001")):
        data = json.loads((REFERENCE / "C001.json").read_text(encoding="utf-8"))
        data["call_id"] = call_id
        (tmp_path / name).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    jobs, rejected = plan_jobs([tmp_path])
    assert [j.call_id for j in jobs] == ["2024-05-20 001"]
    assert len(rejected) == 1
    err = rejected[0].error
    assert str(tmp_path / "a.json") in err and str(tmp_path / "b.json") in err and "calls/2024-05-20_001.json" in err


def test_two_folders_on_one_night_are_both_kept_and_rescoring_replaces(tmp_path):
    db = tmp_path / "h.sqlite"
    write_reports(_renamed("A-"), tmp_path / "a", night=NIGHT, db=db)
    write_reports(_renamed("B-"), tmp_path / "b", night=NIGHT, db=db)
    with History(db) as h:
        assert h.db.execute("SELECT COUNT(*) FROM calls").fetchone()[0] == 20
        assert h.db.execute("SELECT calls FROM nights WHERE night = ?", (NIGHT,)).fetchone()[0] == 20
        card = h.agent_card("A101", NIGHT)
        assert card.calls == 6  # three calls in each folder
    again = _renamed("A-")
    again[0].score.score = 12.0
    write_reports(again, tmp_path / "a", night=NIGHT, db=db)
    with History(db) as h:
        assert h.db.execute("SELECT COUNT(*) FROM calls").fetchone()[0] == 20
        assert h.db.execute("SELECT score FROM calls WHERE call_id = 'A-G01'").fetchone()[0] == 12.0
        assert h.db.execute("SELECT COUNT(*) FROM findings WHERE call_id = 'A-G02'").fetchone()[0] == len(again[1].inspection.findings)


def test_old_database_keyed_by_night_is_migrated(tmp_path):
    db = tmp_path / "old.sqlite"
    con = sqlite3.connect(db)
    con.executescript("""
        CREATE TABLE calls (night TEXT NOT NULL, call_id TEXT NOT NULL, agent_id TEXT, team TEXT, score REAL NOT NULL,
            passed INTEGER NOT NULL, fatal INTEGER NOT NULL, pending_review INTEGER NOT NULL, customer TEXT, matter TEXT,
            started_at TEXT, complaint INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (night, call_id));
        INSERT INTO calls VALUES ('2024-05-19', 'X1', 'A1', 't', 50, 0, 0, 0, NULL, NULL, NULL, 0);
        INSERT INTO calls VALUES ('2024-05-20', 'X1', 'A1', 't', 90, 1, 0, 0, NULL, NULL, NULL, 0);
        INSERT INTO calls VALUES ('2024-05-20', 'X2', 'A1', 't', 70, 0, 0, 0, NULL, NULL, NULL, 0);
    """)
    con.commit()
    con.close()
    with History(db) as h:
        rows = h.db.execute("SELECT call_id, night, score FROM calls ORDER BY call_id").fetchall()
    assert rows == [("X1", "2024-05-20", 90.0), ("X2", "2024-05-20", 70.0)]


@pytest.fixture()
def stored(tmp_path):
    db = tmp_path / "h.sqlite"
    write_reports(load_cases(), tmp_path / "rep", night=NIGHT, db=db)
    return db


def _import(tmp_path, db, text, *extra, encoding="utf-8"):
    from cli import app

    f = tmp_path / "v.csv"
    f.write_bytes(text.encode(encoding)) if isinstance(text, str) else f.write_bytes(text)
    return CliRunner().invoke(app, ["review", "import", str(f), "--db", str(db), *extra])


def test_verdicts_for_unknown_calls_or_rules_are_refused_with_line(tmp_path, stored):
    res = _import(tmp_path, stored, "call_id,rule,verdict\nG04,KNOW01,confirmed\nG99,KNOW01,false_positive\nG03,KNOW01,false_positive\n")
    assert res.exit_code == 1
    assert "v.csv:3: unknown call_id 'G99'" in res.output
    assert "v.csv:4: call G03 has no finding of rule 'KNOW01'" in res.output and "FORBID01, ID01" in res.output
    with History(stored) as h:
        assert h.verdicts() == {}  # nothing stored from a file with errors


def test_conflicting_verdicts_are_an_error_unless_replace(tmp_path, stored):
    res = _import(tmp_path, stored, "call_id,rule,verdict\nG04,KNOW01,confirmed\nG04,KNOW01,false_positive\n")
    assert res.exit_code == 1 and "v.csv:3:" in res.output and "line 2" in res.output
    assert _import(tmp_path, stored, "call_id,rule,verdict\nG04,KNOW01,confirmed\n").exit_code == 0
    assert _import(tmp_path, stored, "call_id,rule,verdict\nG04,KNOW01,confirmed\n").exit_code == 0  # the same again is fine
    res = _import(tmp_path, stored, "call_id,rule,verdict\nG04,KNOW01,false_positive\n")
    assert res.exit_code == 1 and "already has the verdict confirmed" in res.output and "--replace" in res.output
    res = _import(tmp_path, stored, "call_id,rule,verdict\nG04,KNOW01,false_positive\n", "--replace")
    assert res.exit_code == 0, res.output
    with History(stored) as h:
        assert h.verdicts() == {"G04": {"KNOW01": "false_positive"}}


@pytest.mark.parametrize("kind", ["gbk", "binary", "folder"])
def test_unreadable_verdict_files_give_one_line(tmp_path, stored, kind):
    from cli import app

    if kind == "folder":
        (tmp_path / "dir.csv").mkdir()
        res = CliRunner().invoke(app, ["review", "import", str(tmp_path / "dir.csv"), "--db", str(stored)])
    elif kind == "gbk":
        res = _import(tmp_path, stored, "通话ID,规则,结论,备注\nG04,KNOW01,确认,好\n", encoding="gbk")
    else:
        res = _import(tmp_path, stored, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    assert res.exit_code == 1 and res.exception is None or isinstance(res.exception, SystemExit)
    lines = [x for x in res.output.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in res.output, res.output
    assert {"gbk": "UTF-8", "binary": "binary", "folder": "folder"}[kind] in lines[0]


def test_verdict_notes_are_stored_and_shown_masked(tmp_path, stored):
    assert _import(tmp_path, stored, "call_id,rule,verdict,note\nG04,KNOW01,confirmed,客户电话13912345678已回访\n").exit_code == 0
    with History(stored) as h:
        assert "13912345678" not in str(h.verdict_notes())
    write_reports(load_cases(), tmp_path / "rep2", night=NIGHT, db=stored)
    assert "139****5678" in (tmp_path / "rep2" / "calls" / "G04.html").read_text(encoding="utf-8")
