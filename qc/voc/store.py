"""VOC tables in the history database: each night's tagged calls, emerging topics, and the closed loop.

The tables live in the same SQLite file as :mod:`qc.report.history` (``--db``) but are created and written
only here, all named ``voc_*``. :meth:`VocStore.record_night` replaces what was stored for that
night (a re-run never double counts). Loop items (``voc_item``) are never replaced by a re-run:
each is a spike or tag issue assigned to its department with a status (待办 / 已采纳 / 完结 /
不采纳) and a note, shown on every later night's report until it is closed (完结 or 不采纳).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

from qc.voc.model import CallVoc

__all__ = ["STATUSES", "OPEN_STATUSES", "VocStore", "VocStoreError", "LoopItem", "CallFlags"]

STATUSES = ("待办", "已采纳", "完结", "不采纳")
#: Statuses that keep an item on the report (not yet closed).
OPEN_STATUSES = ("待办", "已采纳")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS voc_night (night TEXT PRIMARY KEY, calls INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS voc_call (
    night TEXT NOT NULL, call_id TEXT NOT NULL, team TEXT, channel TEXT, reason TEXT, reason_start REAL,
    unresolved REAL, dissatisfied INTEGER, repeat INTEGER, risk INTEGER, PRIMARY KEY (night, call_id));
CREATE TABLE IF NOT EXISTS voc_tag (
    night TEXT NOT NULL, call_id TEXT NOT NULL, tag TEXT NOT NULL, department TEXT, quote TEXT, start REAL,
    PRIMARY KEY (night, call_id, tag));
CREATE INDEX IF NOT EXISTS voc_tag_by_tag ON voc_tag (tag, night);
CREATE TABLE IF NOT EXISTS voc_topic (
    night TEXT NOT NULL, rank INTEGER NOT NULL, name TEXT, size INTEGER, coherence REAL, phrases TEXT, examples TEXT,
    PRIMARY KEY (night, rank));
CREATE TABLE IF NOT EXISTS voc_item (
    id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, tag TEXT, department TEXT NOT NULL, title TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT '待办', note TEXT NOT NULL DEFAULT '', opened TEXT NOT NULL, last_seen TEXT NOT NULL,
    updated TEXT NOT NULL, log TEXT NOT NULL DEFAULT '[]');
"""


class VocStoreError(ValueError):
    """A bad loop-item update (unknown id or status); the message says what to do."""


@dataclass(frozen=True)
class CallFlags:
    """What the rest of the pipeline says about a call, for lift: team, dissatisfaction, repeat, risk."""

    team: str = ""
    dissatisfied: bool = False
    repeat: bool = False
    risk: bool = False


@dataclass
class LoopItem:
    """One closed-loop item: a spike or tag issue assigned to a department."""

    id: int
    kind: str  # "spike" | "tag" | "topic"
    tag: str | None
    department: str
    title: str
    status: str
    note: str
    opened: str
    last_seen: str
    updated: str
    log: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class VocStore:
    """The VOC tables of a history database (created on first use)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(self.path), timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> VocStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # --- nights ---

    def record_night(self, night: str, vocs: Iterable[CallVoc], flags: dict[str, CallFlags] | None = None) -> None:
        """Store a night's tagged calls, replacing an earlier run of the same night."""
        flags = flags or {}
        vocs = list(vocs)
        with self.db:
            for table in ("voc_night", "voc_call", "voc_tag"):
                self.db.execute(f"DELETE FROM {table} WHERE night = ?", (night,))
            self.db.execute("INSERT INTO voc_night VALUES (?, ?)", (night, len(vocs)))
            self.db.executemany("INSERT OR REPLACE INTO voc_call VALUES (?,?,?,?,?,?,?,?,?,?)", [
                (night, v.call_id, flags.get(v.call_id, CallFlags()).team, v.channel, v.reason, v.reason_start, v.unresolved,
                 int(flags.get(v.call_id, CallFlags()).dissatisfied), int(flags.get(v.call_id, CallFlags()).repeat),
                 int(flags.get(v.call_id, CallFlags()).risk)) for v in vocs])
            self.db.executemany("INSERT OR REPLACE INTO voc_tag VALUES (?,?,?,?,?,?)", [
                (night, v.call_id, t.code, t.department, t.evidence.text if t.evidence else "", t.evidence.start if t.evidence else None)
                for v in vocs for t in v.tags])

    def nights(self, before: str | None = None) -> list[tuple[str, int]]:
        """``(night, calls)`` in order, those before ``before`` when given."""
        q = "SELECT night, calls FROM voc_night" + (" WHERE night < ?" if before else "") + " ORDER BY night"
        return [(n, c) for n, c in self.db.execute(q, (before,) if before else ())]

    def tag_counts(self, before: str | None = None) -> dict[str, dict[str, int]]:
        """``{tag: {night: calls with the tag}}`` over the stored nights (before ``before``)."""
        q = "SELECT tag, night, COUNT(*) FROM voc_tag" + (" WHERE night < ?" if before else "") + " GROUP BY tag, night"
        out: dict[str, dict[str, int]] = {}
        for tag, night, n in self.db.execute(q, (before,) if before else ()):
            out.setdefault(tag, {})[night] = n
        return out

    def department_counts(self, before: str | None = None) -> dict[str, dict[str, int]]:
        """``{department: {night: calls with any of its tags}}``."""
        q = ("SELECT department, night, COUNT(DISTINCT call_id) FROM voc_tag" + (" WHERE night < ?" if before else "")
             + " GROUP BY department, night")
        out: dict[str, dict[str, int]] = {}
        for dept, night, n in self.db.execute(q, (before,) if before else ()):
            out.setdefault(dept, {})[night] = n
        return out

    # --- topics ---

    def record_topics(self, night: str, topics: Iterable[Any]) -> None:
        """Store a night's emerging topics (replacing an earlier run of the night)."""
        with self.db:
            self.db.execute("DELETE FROM voc_topic WHERE night = ?", (night,))
            self.db.executemany("INSERT INTO voc_topic VALUES (?,?,?,?,?,?,?)", [
                (night, k, t.name, t.size, t.coherence, json.dumps(t.phrases, ensure_ascii=False),
                 json.dumps(t.examples, ensure_ascii=False)) for k, t in enumerate(topics, start=1)])

    def topics(self, night: str) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT rank, name, size, coherence, phrases, examples FROM voc_topic WHERE night = ? ORDER BY rank", (night,))
        return [{"rank": r, "name": n, "size": s, "coherence": c, "phrases": json.loads(p), "examples": json.loads(e)} for r, n, s, c, p, e in rows]

    # --- the closed loop ---

    def _item(self, row: tuple) -> LoopItem:
        return LoopItem(*row[:10], log=json.loads(row[10]))

    def items(self, include_closed: bool = False, department: str | None = None) -> list[LoopItem]:
        """Loop items, open ones only unless ``include_closed``, oldest first."""
        q = "SELECT id, kind, tag, department, title, status, note, opened, last_seen, updated, log FROM voc_item"
        where, args = [], []
        if not include_closed:
            where.append(f"status IN ({','.join('?' * len(OPEN_STATUSES))})")
            args += OPEN_STATUSES
        if department:
            where.append("department = ?")
            args.append(department)
        if where:
            q += " WHERE " + " AND ".join(where)
        return [self._item(r) for r in self.db.execute(q + " ORDER BY id", args)]

    def item(self, item_id: int) -> LoopItem:
        row = self.db.execute("SELECT id, kind, tag, department, title, status, note, opened, last_seen, updated, log FROM voc_item WHERE id = ?", (item_id,)).fetchone()
        if row is None:
            raise VocStoreError(f"no VOC item #{item_id} in {self.path}; `qc voc list --all` shows them")
        return self._item(row)

    def raise_item(self, kind: str, tag: str | None, department: str, title: str, night: str, note: str = "") -> LoopItem:
        """Open an item, or, when one for the same kind and tag is still open, note that it was seen again."""
        now = datetime.now().isoformat(timespec="seconds")
        with self.db:
            if tag is not None:
                row = self.db.execute(
                    f"SELECT id FROM voc_item WHERE kind = ? AND tag = ? AND status IN ({','.join('?' * len(OPEN_STATUSES))}) ORDER BY id DESC",
                    (kind, tag, *OPEN_STATUSES)).fetchone()
                if row is not None:
                    item = self.item(row[0])
                    if night > item.last_seen or not any(e.get("night") == night for e in item.log):
                        log = [e for e in item.log if not (e.get("event") == "seen" and e.get("night") == night)]
                        log.append({"event": "seen", "night": night, "title": title})
                        self.db.execute("UPDATE voc_item SET last_seen = ?, log = ? WHERE id = ?",
                                        (max(night, item.last_seen), json.dumps(log, ensure_ascii=False), item.id))
                    return self.item(item.id)
            log = [{"event": "opened", "night": night, "title": title, "at": now}]
            cur = self.db.execute(
                "INSERT INTO voc_item (kind, tag, department, title, status, note, opened, last_seen, updated, log) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (kind, tag, department, title, "待办", note, night, night, now, json.dumps(log, ensure_ascii=False)))
            return self.item(int(cur.lastrowid))

    def update_item(self, item_id: int, status: str | None = None, note: str | None = None, department: str | None = None) -> LoopItem:
        """Change an item's status (待办 / 已采纳 / 完结 / 不采纳), note or department; the change is logged."""
        if status is not None and status not in STATUSES:
            from qc.yamlfile import did_you_mean

            raise VocStoreError(f"status {status!r} is not one of {' / '.join(STATUSES)}{did_you_mean(status, STATUSES)}")
        item = self.item(item_id)
        now = datetime.now().isoformat(timespec="seconds")
        change = {k: v for k, v in (("status", status), ("note", note), ("department", department)) if v is not None}
        log = item.log + [{"event": "update", "at": now, **change}]
        with self.db:
            self.db.execute("UPDATE voc_item SET status = ?, note = ?, department = ?, updated = ?, log = ? WHERE id = ?", (
                status or item.status, note if note is not None else item.note, department or item.department, now,
                json.dumps(log, ensure_ascii=False), item_id))
        return self.item(item_id)
