"""The workbench's own tables in the history database: users, claims, reviews, verdicts, disputes.

Everything a reviewer, lead or agent does is appended here, apart from the machine output: a
review is one submission on one call (who, when, the machine score and the reviewed score), its
verdicts and added (missed) findings point at it, and a later review of the same call is a new
row (the latest one counts). Disputes keep the agent's reason and the lead's decision side by
side. The night's files are never written. The tables are prefixed ``serve_`` and live in the
same SQLite file as :class:`qc.report.history.History`, which this module only reads.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterable

from qc.serve.accounts import ROLES, UNMASK_TTL, AccountTables, StoreError, User

__all__ = [
    "ROLES",
    "REVIEW_VERDICTS",
    "User",
    "UNMASK_TTL",
    "Review",
    "Dispute",
    "ReviewStore",
    "StoreError",
    "CLAIM_TTL",
]

#: A reviewer's verdict on a machine finding; only the first two change the reviewed score.
REVIEW_VERDICTS: tuple[str, ...] = ("confirmed", "false_positive", "unsure")
CLAIM_TTL = timedelta(hours=2)  # a claim nobody submitted on for this long is free again

_SCHEMA = """
CREATE TABLE IF NOT EXISTS serve_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS serve_users (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, team TEXT, agent_id TEXT, pw_hash TEXT NOT NULL,
    created_at TEXT NOT NULL, unmask INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS serve_unmasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL, night TEXT NOT NULL, call_id TEXT NOT NULL,
    at TEXT NOT NULL, reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS serve_logouts (sid TEXT PRIMARY KEY, expires INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS serve_claims (
    night TEXT NOT NULL, call_id TEXT NOT NULL, reviewer TEXT NOT NULL, claimed_at TEXT NOT NULL,
    PRIMARY KEY (night, call_id, reviewer)
);
CREATE TABLE IF NOT EXISTS serve_reviews (
    id INTEGER PRIMARY KEY AUTOINCREMENT, night TEXT NOT NULL, call_id TEXT NOT NULL, agent_id TEXT,
    team TEXT, reviewer TEXT NOT NULL, submitted_at TEXT NOT NULL, machine_score REAL NOT NULL,
    reviewed_score REAL NOT NULL, passed INTEGER NOT NULL, calibration INTEGER NOT NULL DEFAULT 0,
    source TEXT NOT NULL DEFAULT 'workbench', score_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS serve_reviews_call ON serve_reviews (night, call_id, id);
CREATE INDEX IF NOT EXISTS serve_reviews_call_id ON serve_reviews (call_id);
CREATE INDEX IF NOT EXISTS serve_reviews_agent ON serve_reviews (agent_id, night);
CREATE TABLE IF NOT EXISTS serve_verdicts (
    review_id INTEGER NOT NULL, night TEXT NOT NULL, call_id TEXT NOT NULL, rule TEXT NOT NULL,
    verdict TEXT NOT NULL, note TEXT NOT NULL DEFAULT '', reviewer TEXT NOT NULL, at TEXT NOT NULL,
    PRIMARY KEY (review_id, rule)
);
CREATE TABLE IF NOT EXISTS serve_added (
    review_id INTEGER NOT NULL, night TEXT NOT NULL, call_id TEXT NOT NULL, rule TEXT NOT NULL,
    utterance INTEGER NOT NULL, note TEXT NOT NULL DEFAULT '', reviewer TEXT NOT NULL, at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS serve_disputes (
    id INTEGER PRIMARY KEY AUTOINCREMENT, night TEXT NOT NULL, call_id TEXT NOT NULL, rule TEXT NOT NULL,
    agent_id TEXT, team TEXT, opened_by TEXT NOT NULL, reason TEXT NOT NULL, opened_at TEXT NOT NULL,
    review_id INTEGER NOT NULL, status TEXT NOT NULL DEFAULT 'open', decided_by TEXT, decided_at TEXT,
    decision_note TEXT, decision_review_id INTEGER
);
CREATE INDEX IF NOT EXISTS serve_disputes_status ON serve_disputes (status, team);
"""


@dataclass
class Review:
    id: int
    night: str
    call_id: str
    agent_id: str | None
    team: str | None
    reviewer: str
    submitted_at: str
    machine_score: float
    reviewed_score: float
    passed: bool
    calibration: bool
    source: str
    score: dict[str, Any]
    verdicts: dict[str, tuple[str, str]] = field(default_factory=dict)  # rule -> (verdict, note)
    added: list[tuple[str, int, str]] = field(default_factory=list)  # (rule, utterance, note)


@dataclass
class Dispute:
    id: int
    night: str
    call_id: str
    rule: str
    agent_id: str | None
    team: str | None
    opened_by: str
    reason: str
    opened_at: str
    review_id: int
    status: str
    decided_by: str | None
    decided_at: str | None
    decision_note: str | None


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")


class ReviewStore(AccountTables):
    """The ``serve_*`` tables of a history database (created on first use)."""

    def __init__(self, path: str | Path, check_same_thread: bool = True):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._reviewed_cache: dict[str, tuple[int | None, dict[str, tuple[float, float, str]]]] = {}
        try:
            self.db = sqlite3.connect(str(self.path), timeout=30, check_same_thread=check_same_thread)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(_SCHEMA)
            self._migrate_users()
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{self.path}: not a qc history database ({e}); pass another --db") from None

    def __enter__(self) -> ReviewStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    # --- claims ---

    def claims(self, night: str) -> dict[str, list[str]]:
        """Live claims of a night: ``{call_id: [reviewer, ...]}``."""
        since = (datetime.now() - CLAIM_TTL).isoformat(timespec="seconds")
        out: dict[str, list[str]] = {}
        for call_id, reviewer in self.db.execute(
            "SELECT call_id, reviewer FROM serve_claims WHERE night = ? AND claimed_at >= ? ORDER BY claimed_at", (night, since)
        ):
            out.setdefault(call_id, []).append(reviewer)
        return out

    def claim(self, night: str, call_id: str, reviewer: str, calibration: bool = False) -> None:
        """Claim a call for review. A queued call takes one reviewer, a calibration call two.

        Raises:
            StoreError: someone else holds it (or two people, for a calibration call).
        """
        holders = [r for r in self.claims(night).get(call_id, []) if r != reviewer]
        limit = 2 if calibration else 1
        if len(holders) >= limit:
            raise StoreError(f"call {call_id} is being reviewed by {', '.join(holders)}")
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO serve_claims VALUES (?,?,?,?)", (night, call_id, reviewer, _now()))

    def holds(self, night: str, call_id: str, reviewer: str) -> bool:
        return reviewer in self.claims(night).get(call_id, [])

    def release(self, night: str, call_id: str, reviewer: str) -> None:
        with self.db:
            self.db.execute("DELETE FROM serve_claims WHERE night = ? AND call_id = ? AND reviewer = ?", (night, call_id, reviewer))

    # --- reviews ---

    def add_review(
        self, night: str, call_id: str, reviewer: str, *, agent_id: str | None, team: str | None,
        machine_score: float, score: dict[str, Any], verdicts: dict[str, tuple[str, str]],
        added: Iterable[tuple[str, int, str]] = (), calibration: bool = False, source: str = "workbench",
    ) -> int:
        """Append a review (its verdicts and added findings) and release the reviewer's claim; returns its id."""
        for rule, (verdict, _) in verdicts.items():
            if verdict not in REVIEW_VERDICTS:
                raise StoreError(f"verdict {verdict!r} on {rule}: one of {', '.join(REVIEW_VERDICTS)}")
        now = _now()
        with self.db:
            cur = self.db.execute(
                "INSERT INTO serve_reviews (night, call_id, agent_id, team, reviewer, submitted_at, machine_score, "
                "reviewed_score, passed, calibration, source, score_json) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (night, call_id, agent_id, team, reviewer, now, machine_score, score["score"], int(bool(score["passed"])),
                 int(calibration), source, json.dumps(score, ensure_ascii=False)),
            )
            rid = int(cur.lastrowid)
            self.db.executemany(
                "INSERT INTO serve_verdicts VALUES (?,?,?,?,?,?,?,?)",
                [(rid, night, call_id, rule, v, note or "", reviewer, now) for rule, (v, note) in sorted(verdicts.items())],
            )
            self.db.executemany(
                "INSERT INTO serve_added VALUES (?,?,?,?,?,?,?,?)",
                [(rid, night, call_id, rule, int(u), note or "", reviewer, now) for rule, u, note in added],
            )
            self.db.execute("DELETE FROM serve_claims WHERE night = ? AND call_id = ? AND reviewer = ?", (night, call_id, reviewer))
        return rid

    def _review(self, row: tuple) -> Review:
        rid = row[0]
        r = Review(*row[:11], source=row[11], score=json.loads(row[12]))
        r.passed, r.calibration = bool(r.passed), bool(r.calibration)
        r.verdicts = {rule: (v, n) for rule, v, n in self.db.execute(
            "SELECT rule, verdict, note FROM serve_verdicts WHERE review_id = ? ORDER BY rule", (rid,))}
        r.added = [tuple(x) for x in self.db.execute(
            "SELECT rule, utterance, note FROM serve_added WHERE review_id = ? ORDER BY rowid", (rid,))]
        return r

    _COLS = ("id, night, call_id, agent_id, team, reviewer, submitted_at, machine_score, reviewed_score, passed, "
             "calibration, source, score_json")

    def review(self, review_id: int) -> Review | None:
        row = self.db.execute(f"SELECT {self._COLS} FROM serve_reviews WHERE id = ?", (review_id,)).fetchone()
        return self._review(row) if row else None

    def latest_review(self, night: str, call_id: str) -> Review | None:
        """The review that counts for a call: the latest one."""
        row = self.db.execute(
            f"SELECT {self._COLS} FROM serve_reviews WHERE night = ? AND call_id = ? ORDER BY id DESC LIMIT 1", (night, call_id)
        ).fetchone()
        return self._review(row) if row else None

    def reviews_of_call(self, night: str, call_id: str) -> list[Review]:
        rows = self.db.execute(f"SELECT {self._COLS} FROM serve_reviews WHERE night = ? AND call_id = ? ORDER BY id", (night, call_id))
        return [self._review(r) for r in rows.fetchall()]

    def reviewed_calls(self, night: str) -> dict[str, tuple[float, float, str]]:
        """``{call_id: (reviewed score, machine score, reviewer)}`` from each call's latest review.

        Reviews are only ever appended, so the answer is kept until a review with a higher id appears.
        """
        (last,) = self.db.execute("SELECT MAX(id) FROM serve_reviews").fetchone()
        cached = self._reviewed_cache.get(night)
        if cached is not None and cached[0] == last:
            return cached[1]
        rows = self.db.execute(
            "SELECT call_id, reviewed_score, machine_score, reviewer FROM serve_reviews WHERE night = ? ORDER BY id", (night,)
        )
        out = {c: (s, m, who) for c, s, m, who in rows}  # later ids overwrite earlier ones
        self._reviewed_cache[night] = (last, out)
        return out

    def agent_reviews(self, agent_id: str) -> list[Review]:
        """Latest review of every reviewed call of one agent, newest night first."""
        rows = self.db.execute(
            f"SELECT {self._COLS} FROM serve_reviews r WHERE agent_id = ? AND id = "
            "(SELECT MAX(id) FROM serve_reviews WHERE night = r.night AND call_id = r.call_id) ORDER BY night DESC, call_id",
            (agent_id,),
        )
        return [self._review(r) for r in rows.fetchall()]

    def current_verdicts(self) -> list[tuple[str, str, str, str, str, str, str]]:
        """``(night, call_id, rule, verdict, note, reviewer, at)`` from each call's latest review."""
        return self.db.execute(
            "SELECT v.night, v.call_id, v.rule, v.verdict, v.note, v.reviewer, v.at FROM serve_verdicts v WHERE review_id = "
            "(SELECT MAX(id) FROM serve_reviews WHERE night = v.night AND call_id = v.call_id) ORDER BY v.night, v.call_id, v.rule"
        ).fetchall()

    def current_added(self) -> list[tuple[str, str, str, int, str]]:
        """``(night, call_id, rule, utterance, note)`` missed findings of each call's latest review."""
        return self.db.execute(
            "SELECT a.night, a.call_id, a.rule, a.utterance, a.note FROM serve_added a WHERE review_id = "
            "(SELECT MAX(id) FROM serve_reviews WHERE night = a.night AND call_id = a.call_id)"
        ).fetchall()

    def reviewer_labels(self) -> dict[tuple[str, str], dict[str, tuple[dict[str, str], set[str]]]]:
        """Each reviewer's own latest review per call: ``{(night, call): {reviewer: (verdicts, added rules)}}``."""
        out: dict[tuple[str, str], dict[str, tuple[dict[str, str], set[str]]]] = {}
        rows = self.db.execute(
            "SELECT id, night, call_id, reviewer FROM serve_reviews r WHERE source = 'workbench' AND id = "
            "(SELECT MAX(id) FROM serve_reviews WHERE night = r.night AND call_id = r.call_id AND reviewer = r.reviewer "
            "AND source = 'workbench')"
        ).fetchall()
        for rid, night, call_id, reviewer in rows:
            verdicts = dict(self.db.execute("SELECT rule, verdict FROM serve_verdicts WHERE review_id = ?", (rid,)).fetchall())
            added = {r for (r,) in self.db.execute("SELECT rule FROM serve_added WHERE review_id = ?", (rid,))}
            out.setdefault((night, call_id), {})[reviewer] = (verdicts, added)
        return out

    def verdicts_csv(self) -> str:
        """Every current confirmed / false-positive verdict as CSV that ``qc review import`` reads.

        Columns: call_id, rule, verdict, note (what ``qc review import`` needs), then night,
        reviewer, at. ``unsure`` verdicts are left out: they do not change a score.
        """
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["call_id", "rule", "verdict", "note", "night", "reviewer", "at"])
        for night, call_id, rule, verdict, note, reviewer, at in self.current_verdicts():
            if verdict in ("confirmed", "false_positive"):
                w.writerow([call_id, rule, verdict, note, night, reviewer, at])
        return buf.getvalue()

    # --- disputes ---

    def open_dispute(self, night: str, call_id: str, rule: str, user: User, reason: str, review: Review) -> int:
        reason = reason.strip()
        if not reason:
            raise StoreError("say why you dispute the deduction")
        if self.db.execute("SELECT 1 FROM serve_disputes WHERE night = ? AND call_id = ? AND rule = ? AND status = 'open'",
                           (night, call_id, rule)).fetchone():
            raise StoreError(f"{rule} on call {call_id} is already disputed and waiting for a lead")
        with self.db:
            cur = self.db.execute(
                "INSERT INTO serve_disputes (night, call_id, rule, agent_id, team, opened_by, reason, opened_at, review_id) "
                "VALUES (?,?,?,?,?,?,?,?,?)",
                (night, call_id, rule, review.agent_id, review.team, user.name, reason[:2000], _now(), review.id),
            )
        return int(cur.lastrowid)

    def decide_dispute(self, dispute_id: int, lead: User, decision: str, note: str, decision_review_id: int | None = None) -> None:
        if decision not in ("upheld", "overturned"):
            raise StoreError(f"decision {decision!r}: upheld or overturned")
        with self.db:
            n = self.db.execute(
                "UPDATE serve_disputes SET status = ?, decided_by = ?, decided_at = ?, decision_note = ?, decision_review_id = ? "
                "WHERE id = ? AND status = 'open'",
                (decision, lead.name, _now(), note.strip()[:2000], decision_review_id, dispute_id),
            ).rowcount
        if n != 1:
            raise StoreError(f"dispute {dispute_id} is not open")

    def dispute(self, dispute_id: int) -> Dispute | None:
        row = self.db.execute(
            "SELECT id, night, call_id, rule, agent_id, team, opened_by, reason, opened_at, review_id, status, decided_by, "
            "decided_at, decision_note FROM serve_disputes WHERE id = ?", (dispute_id,)).fetchone()
        return Dispute(*row) if row else None

    def disputes(self, *, team: str | None = None, agent_id: str | None = None, night: str | None = None,
                 call_id: str | None = None) -> list[Dispute]:
        rows = self.db.execute(
            "SELECT id, night, call_id, rule, agent_id, team, opened_by, reason, opened_at, review_id, status, decided_by, "
            "decided_at, decision_note FROM serve_disputes WHERE (? IS NULL OR team = ?) AND (? IS NULL OR agent_id = ?) "
            "AND (? IS NULL OR night = ?) AND (? IS NULL OR call_id = ?) ORDER BY status != 'open', id DESC",
            (team, team, agent_id, agent_id, night, night, call_id, call_id),
        )
        return [Dispute(*r) for r in rows.fetchall()]

    def rule_precision_counts(self) -> dict[str, tuple[int, int]]:
        """Rule -> (confirmed, false positives) over each call's latest review, plus verdicts imported
        with ``qc review import`` on calls the workbench has not reviewed."""
        counts: dict[str, list[int]] = {}
        rows = self.db.execute(
            "SELECT rule, SUM(verdict = 'confirmed'), SUM(verdict = 'false_positive') FROM serve_verdicts v WHERE review_id = "
            "(SELECT MAX(id) FROM serve_reviews WHERE night = v.night AND call_id = v.call_id) GROUP BY rule"
        ).fetchall()
        try:
            rows += self.db.execute(
                "SELECT rule, SUM(verdict = 'confirmed'), SUM(verdict = 'false_positive') FROM verdicts h "
                "WHERE NOT EXISTS (SELECT 1 FROM serve_reviews r WHERE r.call_id = h.call_id) GROUP BY rule"
            ).fetchall()
        except sqlite3.OperationalError:  # no history tables yet
            pass
        for rule, tp, fp in rows:
            c = counts.setdefault(rule, [0, 0])
            c[0] += tp or 0
            c[1] += fp or 0
        return {k: (v[0], v[1]) for k, v in counts.items() if v[0] + v[1]}
