"""Reviewer verdicts in the history database: CSV files (``qc review import``) and workbench reviews.

Imported verdicts live in the ``verdicts`` table, keyed by (call, rule). Workbench reviews
(``serve_*`` tables, written by :mod:`qc.serve.store`) are only read here: a call's latest review
gives its reviewed score, which the report, the agent scorecards and ``qc agent`` count instead of
the machine's (the machine's is kept beside it).
"""

from __future__ import annotations

import csv
import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from qc.report.redact import redact_text

if TYPE_CHECKING:
    from qc.report.history import History

__all__ = ["ReviewedScore", "REVIEWED_SQL", "has_reviews", "reviewed_scores", "import_verdicts"]

#: a stored call's score as the report counts it: the latest workbench review's, else the machine's
REVIEWED_SQL = ("(SELECT reviewed_score FROM serve_reviews r WHERE r.night = calls.night AND r.call_id = calls.call_id "
             "ORDER BY r.id DESC LIMIT 1)")


@dataclass
class ReviewedScore:
    """A call's latest workbench review (:mod:`qc.serve.store`): the reviewed score, who, when, verdicts."""

    score: dict[str, Any]
    reviewer: str
    submitted_at: str
    verdicts: dict[str, str] = field(default_factory=dict)  # rule -> confirmed / false_positive / unsure


def has_reviews(db: sqlite3.Connection) -> bool:
    """Whether the workbench (``qc serve``) has made its tables in this database."""
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'serve_reviews'").fetchone() is not None


def reviewed_scores(db: sqlite3.Connection, night: str, call_ids: Iterable[str] | None = None) -> dict[str, ReviewedScore]:
    """The latest workbench review of each reviewed call of ``night`` (of ``call_ids`` only, when given).

    Empty when ``qc serve`` never used this database. Scores and notes were stored masked.
    """
    if not has_reviews(db):
        return {}
    wanted = None if call_ids is None else set(call_ids)
    rows = db.execute(
        "SELECT id, call_id, score_json, reviewer, submitted_at FROM serve_reviews r WHERE night = ? AND id = "
        "(SELECT MAX(id) FROM serve_reviews WHERE night = r.night AND call_id = r.call_id)", (night,)).fetchall()
    out, latest = {}, {}
    for rid, call_id, score_json, reviewer, at in rows:
        if wanted is None or call_id in wanted:
            out[call_id] = ReviewedScore(json.loads(score_json), reviewer, at)
            latest[rid] = call_id
    if out:
        try:
            for rid, rule, verdict in db.execute(
                    "SELECT v.review_id, v.rule, v.verdict FROM serve_verdicts v JOIN serve_reviews r ON r.id = v.review_id "
                    "WHERE r.night = ?", (night,)):
                if rid in latest:
                    out[latest[rid]].verdicts[rule] = verdict
        except sqlite3.OperationalError:  # a store from before verdicts were kept
            pass
    return out


def import_verdicts(history: History, path: str | Path, replace: bool = False) -> int:
    """Store verdicts from a CSV with columns call_id, rule, verdict (confirmed|false_positive), note.

    Chinese headers (通话ID, 规则, 结论, 备注) and verdicts (确认/误报) are accepted too. Every
    row must name a stored call and a rule that found something in it. A verdict that differs
    from the stored one for the same (call, rule), or from another row of the file, is an
    error unless ``replace`` (then the file's last row wins). Notes are stored masked.

    Raises:
        HistoryError: with every bad row as ``file:line`` (nothing is stored then).
    """
    from qc.report.history import HistoryError, _db_error
    from qc.yamlfile import did_you_mean

    path = Path(path)
    aliases = {"通话ID": "call_id", "通话编号": "call_id", "规则": "rule", "规则编号": "rule", "结论": "verdict", "复核结论": "verdict", "备注": "note"}
    verdict_aliases = {"confirmed": "confirmed", "false_positive": "false_positive", "确认": "confirmed", "误报": "false_positive", "fp": "false_positive", "tp": "confirmed"}
    text = _read_csv_text(path)
    reader = csv.DictReader(text.splitlines())
    fields = [aliases.get((h or "").strip(), (h or "").strip()) for h in reader.fieldnames or []]
    missing = {"call_id", "rule", "verdict"} - set(fields)
    if missing:
        raise HistoryError(f"{path}:1: missing column(s) {', '.join(sorted(missing))}; expected call_id,rule,verdict,note")
    reader.fieldnames = fields
    findings: dict[str, set[str]] = {}
    for call_id, rule in history.db.execute("SELECT call_id, rule FROM findings"):
        findings.setdefault(call_id, set()).add(rule)
    for (call_id,) in history.db.execute("SELECT call_id FROM calls"):
        findings.setdefault(call_id, set())
    stored = {(c, r): (v, src) for c, r, v, src in history.db.execute("SELECT call_id, rule, verdict, source FROM verdicts")}
    if not findings:
        raise HistoryError(f"{path}: {history.path} holds no scored calls; run qc report --db {history.path} on the night first")
    rows: dict[tuple[str, str], tuple] = {}
    first_line: dict[tuple[str, str], int] = {}
    errors = []
    now = datetime.now().isoformat(timespec="seconds")
    for line, row in enumerate(reader, start=2):
        call_id, rule = (row.get("call_id") or "").strip(), (row.get("rule") or "").strip()
        verdict = verdict_aliases.get((row.get("verdict") or "").strip().lower())
        key = (call_id, rule)
        if not call_id or not rule:
            errors.append(f"{path}:{line}: empty call_id or rule")
        elif verdict is None:
            errors.append(f"{path}:{line}: verdict {row.get('verdict')!r} is not confirmed or false_positive")
        elif call_id not in findings:
            errors.append(f"{path}:{line}: unknown call_id {call_id!r}, not in {history.path}{did_you_mean(call_id, findings)}")
        elif rule not in findings[call_id]:
            found = ", ".join(sorted(findings[call_id])) or "none"
            errors.append(f"{path}:{line}: call {call_id} has no finding of rule {rule!r} (its findings: {found}){did_you_mean(rule, findings[call_id])}")
        elif key in rows and rows[key][2] != verdict and not replace:
            errors.append(f"{path}:{line}: {call_id}/{rule} is {verdict} here but {rows[key][2]} on line {first_line[key]}; "
                          "keep one, or pass --replace to let the last row win")
        elif key in stored and stored[key][0] != verdict and not replace:
            errors.append(f"{path}:{line}: {call_id}/{rule} already has the verdict {stored[key][0]} (from {stored[key][1]}); "
                          "pass --replace to overwrite it")
        else:
            rows[key] = (call_id, rule, verdict, redact_text((row.get("note") or "").strip()), now, str(path.name))
            first_line.setdefault(key, line)
    if errors:
        raise HistoryError("\n".join(errors))
    try:
        with history.db:
            history.db.executemany("INSERT OR REPLACE INTO verdicts VALUES (?,?,?,?,?,?)", list(rows.values()))
    except sqlite3.OperationalError as e:
        raise HistoryError(_db_error(history.path, e)) from None
    return len(rows)


def _read_csv_text(path: Path) -> str:
    """A verdicts file's text; one-line errors for folders, binary files and non-UTF-8 text."""
    from qc.report.history import HistoryError
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise HistoryError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise HistoryError(f"{path}: is a folder; pass the verdicts CSV file") from None
    except OSError as e:
        raise HistoryError(f"{path}: cannot read ({e.strerror or e})") from None
    if b"\x00" in data[:65536]:
        raise HistoryError(f"{path}: binary file, not a CSV; export the verdicts as CSV UTF-8")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise HistoryError(f"{path}: not UTF-8 text (byte {e.start}); save it as CSV UTF-8 (Excel: 另存为 CSV UTF-8)") from None
