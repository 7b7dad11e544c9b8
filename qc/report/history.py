"""Night-over-night history in SQLite: scores, agent scorecards, contacts and reviewer verdicts.

The database runs in WAL mode, so reports and ``qc agent`` can read while a night is being
written. Calls are keyed by call id: :meth:`History.record_night` replaces the stored rows of the
calls it is given, in one transaction, so re-scoring a call never double counts and two folders
scored for the same night are both kept. Reviewer verdicts live in their own table, keyed by
(call, rule), beside the machine results and never overwritten by a re-run; a verdict must name
a stored call and one of its findings.

Nothing unmasked is stored: agent scorecards arrive masked from :mod:`qc.report`, and team,
matter and reviewer notes are masked here (:func:`qc.report.redact.redact_text`); customers are kept as
their ``customer_id`` or a hash of their phone number.

Repeat contacts and first-contact resolution are computed in :mod:`qc.report.contacts`; the
contacts of earlier nights are read back from here. Reviewed scores (the workbench's
``serve_reviews`` table, written by :mod:`qc.serve.store`) are read here, never written.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterable

from qc.report.contacts import (
    FCR_TARGET,
    Contact,
    contact_of,
    find_repeats,
    first_contact_resolution,
    parse_time,
)
from qc.report.redact import redact_text
from qc.report.verdicts import REVIEWED_SQL, ReviewedScore, has_reviews, reviewed_scores
from qc.types import AgentScorecard, to_dict

__all__ = [
    "History",
    "HistoryError",
    "default_db_path",
    "Contact",
    "RulePrecision",
    "ReviewedScore",
    "contact_of",
    "find_repeats",
    "first_contact_resolution",
    "FCR_TARGET",
]


class HistoryError(ValueError):
    """A problem with the history database or a verdicts file; the message says what to fix."""


@dataclass
class RulePrecision:
    """Reviewer verdicts on one rule: ``precision`` = confirmed / (confirmed + false positives)."""

    rule: str
    confirmed: int
    false_positive: int
    cries_wolf: bool

    @property
    def reviewed(self) -> int:
        return self.confirmed + self.false_positive

    @property
    def precision(self) -> float | None:
        return self.confirmed / self.reviewed if self.reviewed else None


_SCHEMA = """
CREATE TABLE IF NOT EXISTS nights (
    night TEXT PRIMARY KEY, written_at TEXT NOT NULL, calls INTEGER NOT NULL, scorecard TEXT
);
CREATE TABLE IF NOT EXISTS calls (
    night TEXT NOT NULL, call_id TEXT NOT NULL, agent_id TEXT, team TEXT, score REAL NOT NULL,
    passed INTEGER NOT NULL, fatal INTEGER NOT NULL, pending_review INTEGER NOT NULL,
    customer TEXT, matter TEXT, started_at TEXT, complaint INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (call_id)
);
CREATE INDEX IF NOT EXISTS calls_night ON calls (night);
CREATE INDEX IF NOT EXISTS calls_agent ON calls (agent_id, night);
CREATE INDEX IF NOT EXISTS calls_customer ON calls (customer, started_at);
CREATE TABLE IF NOT EXISTS findings (
    night TEXT NOT NULL, call_id TEXT NOT NULL, rule TEXT NOT NULL, name TEXT, category TEXT,
    severity TEXT, kind TEXT, needs_review INTEGER NOT NULL, points REAL NOT NULL DEFAULT 0,
    start REAL, text TEXT
);
CREATE INDEX IF NOT EXISTS findings_night ON findings (night, call_id);
CREATE INDEX IF NOT EXISTS findings_call ON findings (call_id, rule);
CREATE TABLE IF NOT EXISTS agent_nights (
    night TEXT NOT NULL, agent_id TEXT NOT NULL, team TEXT, mean_score REAL, calls INTEGER,
    scorecard_json TEXT NOT NULL, PRIMARY KEY (night, agent_id)
);
CREATE TABLE IF NOT EXISTS verdicts (
    call_id TEXT NOT NULL, rule TEXT NOT NULL, verdict TEXT NOT NULL, note TEXT,
    imported_at TEXT NOT NULL, source TEXT, PRIMARY KEY (call_id, rule)
);
"""


def default_db_path() -> Path:
    """Where ``qc score``, ``qc report``, ``qc agent`` and ``qc review`` keep history by default.

    ``$QC_DB`` when set; else ``history.sqlite`` in the user's data folder:
    ``$XDG_DATA_HOME/qc`` (default ``~/.local/share/qc``), or ``%LOCALAPPDATA%\\qc`` on Windows.
    One database for every night, wherever the command runs, so trends span nights.
    """
    if os.environ.get("QC_DB"):
        return Path(os.environ["QC_DB"]).expanduser()
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        base = Path(os.environ["LOCALAPPDATA"])
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "qc" / "history.sqlite"


class History:
    """The history database (created on first use). Use as a context manager or call :meth:`close`."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise HistoryError(f"{self.path}: cannot create its folder ({e.strerror or e}); pass another --db or --no-history") from None
        try:
            self.db = sqlite3.connect(str(self.path), timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
            self.db.executescript(_SCHEMA)
        except sqlite3.OperationalError as e:
            raise HistoryError(_db_error(self.path, e)) from None
        except sqlite3.DatabaseError as e:
            raise HistoryError(f"{self.path}: not a qc history database ({e}); pass another --db") from None

    def _migrate(self) -> None:
        """Re-key a database from before calls were keyed by call id (the latest night of a call wins)."""
        cols = self.db.execute("PRAGMA table_info(calls)").fetchall()
        if not cols or not any(c[1] == "night" and c[5] for c in cols):
            return
        with self.db:
            self.db.execute("ALTER TABLE calls RENAME TO calls_by_night")
            self.db.execute("DROP INDEX IF EXISTS calls_agent")
            self.db.execute("DROP INDEX IF EXISTS calls_customer")
            self.db.executescript(_SCHEMA)
            self.db.execute("INSERT OR REPLACE INTO calls SELECT * FROM calls_by_night ORDER BY night")
            self.db.execute("DROP TABLE calls_by_night")
            self.db.execute("DELETE FROM findings WHERE rowid NOT IN (SELECT f.rowid FROM findings f JOIN calls c "
                            "ON f.call_id = c.call_id AND f.night = c.night)")

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    # --- nights ---

    def record_night(
        self,
        night: str,
        results: list[Any],
        cards: Iterable[AgentScorecard] = (),
        contacts: Iterable[Contact] = (),
        team_of: Any = None,
    ) -> None:
        """Store a night's calls, replacing the stored rows of the same calls (one transaction).

        Calls of the same night stored by an earlier run (another folder) are kept; an agent's
        stored card for the night then counts all of their stored calls of that night.

        Raises:
            HistoryError: the database cannot be written (disk full, read-only); nothing is stored.
        """
        team_of = team_of or (lambda r: str(r.transcript.meta.get("team") or "未分组"))
        contact_by_call = {c.call_id: c for c in contacts}
        now = datetime.now().isoformat(timespec="seconds")
        try:
            with self.db:
                ids = [(r.call_id,) for r in results]
                self.db.executemany("DELETE FROM calls WHERE call_id = ?", ids)
                self.db.executemany("DELETE FROM findings WHERE call_id = ?", ids)
                call_rows, finding_rows = [], []
                for r in results:
                    s = r.score
                    c = contact_by_call.get(r.call_id)
                    call_rows.append((
                        night, r.call_id, r.transcript.agent_id, redact_text(team_of(r)), s.score, int(s.passed), int(s.fatal),
                        s.pending_review, c.customer if c else None, redact_text(c.matter) if c and c.matter else None,
                        c.time.isoformat() if c else None, int(bool(c and c.complaint)),
                    ))
                    points = {}
                    for item in s.items:
                        for d in item.deductions:
                            points[d.rule] = points.get(d.rule, 0.0) + d.points
                    for f in r.inspection.findings:
                        e = f.evidence[0] if f.evidence else None
                        finding_rows.append((
                            night, r.call_id, f.rule, f.name, f.category, f.severity, f.kind, int(f.needs_review),
                            points.pop(f.rule, 0.0), e.start if e else None, None,
                        ))
                self.db.executemany("INSERT INTO calls VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", call_rows)
                self.db.executemany("INSERT INTO findings VALUES (?,?,?,?,?,?,?,?,?,?,?)", finding_rows)
                scorecard = results[0].score.scorecard if results else None
                self.db.execute("INSERT OR REPLACE INTO nights VALUES (?, ?, 0, ?)", (night, now, scorecard))
                self.db.execute("UPDATE nights SET calls = (SELECT COUNT(*) FROM calls WHERE calls.night = nights.night)")
                self.db.execute("DELETE FROM nights WHERE calls = 0")
                agent_rows = []
                for card in cards:
                    stats = self._agent_night(night, card.agent_id)
                    if stats and stats["calls"] != card.calls:  # calls of this night from another folder
                        card = dataclasses.replace(card, **stats)
                    agent_rows.append((night, card.agent_id, card.team, card.mean_score, card.calls, json.dumps(to_dict(card), ensure_ascii=False)))
                self.db.executemany("INSERT OR REPLACE INTO agent_nights VALUES (?,?,?,?,?,?)", agent_rows)
        except sqlite3.OperationalError as e:
            raise HistoryError(_db_error(self.path, e)) from None

    def nights(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT night FROM nights ORDER BY night")]

    def agent_trend(self, agent_id: str, before: str | None = None, limit: int = 30) -> list[tuple[str, float, int]]:
        """``(night, mean score, calls)`` for the agent's last ``limit`` nights before ``before``, oldest first."""
        rows = self.db.execute(
            f"SELECT night, AVG({self._score}), COUNT(*) FROM calls WHERE agent_id = ? AND (? IS NULL OR night < ?) "
            "GROUP BY night ORDER BY night DESC LIMIT ?",
            (agent_id, before, before, limit),
        ).fetchall()
        return [(n, round(s, 1), c) for n, s, c in reversed(rows)]

    def all_agent_trends(self, before: str, limit: int = 14) -> dict[str, list[tuple[str, float, int]]]:
        """:meth:`agent_trend` for every agent at once (one query)."""
        rows = self.db.execute(
            f"SELECT agent_id, night, AVG({self._score}), COUNT(*) FROM calls WHERE night < ? AND agent_id IS NOT NULL "
            "GROUP BY agent_id, night ORDER BY agent_id, night",
            (before,),
        ).fetchall()
        out: dict[str, list[tuple[str, float, int]]] = {}
        for agent, night, score, n in rows:
            out.setdefault(agent, []).append((night, round(score, 1), n))
        return {a: t[-limit:] for a, t in out.items()}

    def team_trend(self, before: str, limit: int = 14) -> dict[str, list[tuple[str, float, int]]]:
        rows = self.db.execute(
            f"SELECT team, night, AVG({self._score}), COUNT(*) FROM calls WHERE night < ? GROUP BY team, night ORDER BY team, night",
            (before,),
        ).fetchall()
        out: dict[str, list[tuple[str, float, int]]] = {}
        for team, night, score, n in rows:
            out.setdefault(team or "未分组", []).append((night, round(score, 1), n))
        return {t: v[-limit:] for t, v in out.items()}

    def agent_card(self, agent_id: str, night: str | None = None) -> AgentScorecard | None:
        """The stored scorecard of an agent for ``night`` (default: their latest), trend filled in."""
        row = self.db.execute(
            "SELECT scorecard_json FROM agent_nights WHERE agent_id = ? AND (? IS NULL OR night = ?) ORDER BY night DESC LIMIT 1",
            (agent_id, night, night),
        ).fetchone()
        if row is None:
            return None
        card = AgentScorecard.from_dict(json.loads(row[0]))
        stats = self._agent_night(card.night, agent_id)
        if stats:  # reviews submitted since the report ran count now
            card = dataclasses.replace(card, **stats)
        card.trend = self.agent_trend(agent_id, before=_next_day(card.night))
        return card

    @property
    def _score(self) -> str:
        """SQL for a ``calls`` row's score: reviewed where the workbench has a review, else the machine's."""
        if not has_reviews(self.db):
            return "score"
        return f"COALESCE({REVIEWED_SQL}, score)"

    def _agent_night(self, night: str, agent_id: str) -> dict[str, Any] | None:
        """An agent's stored calls of a night: calls, mean / pass rate / fatal calls over reviewed-else-machine
        scores, the machine mean and how many were reviewed (None: no stored calls)."""
        rows = self.db.execute("SELECT call_id, score, passed, fatal FROM calls WHERE night = ? AND agent_id = ?",
                               (night, agent_id)).fetchall()
        if not rows:
            return None
        reviewed = self.reviewed_scores(night, [r[0] for r in rows])
        eff = [(reviewed[c].score["score"], reviewed[c].score["passed"], reviewed[c].score.get("fatal", False)) if c in reviewed
               else (s, p, f) for c, s, p, f in rows]
        n = len(rows)
        return {"calls": n, "mean_score": round(sum(x[0] for x in eff) / n, 1), "pass_rate": round(sum(bool(x[1]) for x in eff) / n, 3),
                "fatal_calls": sum(bool(x[2]) for x in eff), "machine_mean_score": round(sum(r[1] for r in rows) / n, 1),
                "reviewed_calls": len(reviewed)}

    def reviewed_scores(self, night: str, call_ids: Iterable[str] | None = None) -> dict[str, ReviewedScore]:
        """The latest workbench review of each reviewed call of ``night`` (:func:`qc.report.verdicts.reviewed_scores`)."""
        return reviewed_scores(self.db, night, call_ids)

    def agents(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT DISTINCT agent_id FROM agent_nights ORDER BY agent_id")]

    def contacts(self, since: datetime, before_night: str) -> list[Contact]:
        """Contacts stored for nights before ``before_night`` that started at or after ``since``."""
        rows = self.db.execute(
            "SELECT call_id, agent_id, team, customer, matter, started_at, complaint FROM calls "
            "WHERE customer IS NOT NULL AND night < ? AND started_at >= ?",
            (before_night, since.isoformat()),
        ).fetchall()
        return [Contact(c, a, t or "未分组", cu, m, datetime.fromisoformat(s), bool(cp)) for c, a, t, cu, m, s, cp in rows]

    # --- reviewer verdicts ---

    def import_verdicts(self, path: str | Path, replace: bool = False) -> int:
        """Store verdicts from a CSV (:func:`qc.report.verdicts.import_verdicts`); returns how many."""
        from qc.report.verdicts import import_verdicts

        return import_verdicts(self, path, replace)

    def verdicts(self) -> dict[str, dict[str, str]]:
        """All verdicts: ``{call_id: {rule: verdict}}``."""
        out: dict[str, dict[str, str]] = {}
        for call_id, rule, verdict in self.db.execute("SELECT call_id, rule, verdict FROM verdicts"):
            out.setdefault(call_id, {})[rule] = verdict
        return out

    def verdict_notes(self) -> dict[tuple[str, str], tuple[str, str]]:
        return {(c, r): (v, n or "") for c, r, v, n in self.db.execute("SELECT call_id, rule, verdict, note FROM verdicts")}

    def rule_precision(self, min_reviewed: int = 5, threshold: float = 0.6) -> list[RulePrecision]:
        """Per-rule precision from verdicts; ``cries_wolf`` when at least ``min_reviewed`` verdicts
        put precision under ``threshold``. Worst first."""
        rows = self.db.execute(
            "SELECT rule, SUM(verdict = 'confirmed'), SUM(verdict = 'false_positive') FROM verdicts GROUP BY rule"
        ).fetchall()
        out = []
        for rule, tp, fp in rows:
            n = tp + fp
            out.append(RulePrecision(rule, tp, fp, n >= min_reviewed and tp / n < threshold))
        return sorted(out, key=lambda p: (p.precision if p.precision is not None else 1.0, p.rule))


def _next_day(night: str) -> str:
    d = parse_time(night)
    return (d + timedelta(days=1)).date().isoformat() if d else night + "~"


def _db_error(path: Path, e: sqlite3.OperationalError) -> str:
    text = str(e)
    if "full" in text or "I/O" in text:
        return f"{path}: cannot write the history database ({text}); free disk space, or pass another --db or --no-history"
    if "readonly" in text or "unable to open" in text:
        return f"{path}: cannot open the history database for writing ({text}); check the folder's permissions or pass another --db"
    return f"{path}: history database error ({text}); pass another --db or --no-history"
