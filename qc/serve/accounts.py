"""Workbench accounts: users and roles, logouts, and the log of who unmasked personal data.

Part of :class:`qc.serve.store.ReviewStore` (the ``serve_users``, ``serve_logouts`` and
``serve_unmasks`` tables). Text and audio are masked for everyone by default; an *admin*, or a
user given the permission (``qc users add NAME --role lead --unmask``), may unmask one call at a
time, with a reason, and every unmask is a row in ``serve_unmasks`` (who, when, which call, why).
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from qc.report.redact import redact_text
from qc.serve.auth import hash_password, verify_password

__all__ = ["ROLES", "UNMASK_TTL", "User", "Unmask", "AccountTables", "StoreError"]

ROLES: tuple[str, ...] = ("reviewer", "lead", "agent", "admin")
UNMASK_TTL = timedelta(minutes=15)  # an unmask shows the call's raw text and audio for this long


class StoreError(ValueError):
    """A request the store refuses (unknown user, call claimed by someone else...); the message says why."""


@dataclass
class User:
    name: str
    role: str
    team: str | None = None
    agent_id: str | None = None
    unmask: bool = False  # given the permission to unmask (admins always have it)

    def can(self, *roles: str) -> bool:
        return self.role == "admin" or self.role in roles

    @property
    def may_unmask(self) -> bool:
        """Whether this user may see a call's personal data unmasked (never an agent)."""
        return self.role == "admin" or (self.unmask and self.role != "agent")


@dataclass
class Unmask:
    id: int
    user: str
    night: str
    call_id: str
    at: str
    reason: str


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")


class AccountTables:
    """Users, logouts and unmasks; mixed into :class:`qc.serve.store.ReviewStore` (needs ``self.db``)."""

    db: sqlite3.Connection

    def _migrate_users(self) -> None:
        cols = {c[1] for c in self.db.execute("PRAGMA table_info(serve_users)")}
        if "unmask" not in cols:  # a store from before the unmask permission
            with self.db:
                self.db.execute("ALTER TABLE serve_users ADD COLUMN unmask INTEGER NOT NULL DEFAULT 0")

    def take_legacy_secret(self) -> bytes | None:
        """The session key an older version kept in the database, removed from it (None when there is none)."""
        row = self.db.execute("SELECT value FROM serve_meta WHERE key = 'secret'").fetchone()
        if row is None:
            return None
        with self.db:
            self.db.execute("DELETE FROM serve_meta WHERE key = 'secret'")
        return bytes.fromhex(row[0])

    def add_user(self, name: str, role: str, password: str, team: str | None = None, agent_id: str | None = None,
                 replace: bool = False, unmask: bool = False) -> User:
        """Create (or with ``replace`` update) an account. Agents need ``agent_id`` (their 工号).
        ``unmask`` gives a reviewer or lead the permission to unmask personal data (admins have it)."""
        name = name.strip()
        if not name or any(c.isspace() for c in name):
            raise StoreError(f"user name {name!r}: use a name without spaces")
        if role not in ROLES:
            raise StoreError(f"role {role!r}: one of {', '.join(ROLES)}")
        if role == "agent" and not agent_id:
            agent_id = name
        if role == "agent" and unmask:
            raise StoreError("agents may not unmask personal data; give --unmask to a reviewer or lead")
        if len(password) < 8:
            raise StoreError("the password needs at least 8 characters")
        exists = self.user(name) is not None
        if exists and not replace:
            raise StoreError(f"user {name!r} exists; pass --replace to change their role or password")
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO serve_users (name, role, team, agent_id, pw_hash, created_at, unmask) VALUES (?,?,?,?,?,?,?)",
                (name, role, team, agent_id if role == "agent" else None, hash_password(password), _now(), int(unmask)),
            )
        return User(name, role, team, agent_id if role == "agent" else None, unmask)

    def user(self, name: str) -> User | None:
        row = self.db.execute("SELECT name, role, team, agent_id, unmask FROM serve_users WHERE name = ?", (name,)).fetchone()
        return User(*row[:4], bool(row[4])) if row else None

    def users(self) -> list[User]:
        rows = self.db.execute("SELECT name, role, team, agent_id, unmask FROM serve_users ORDER BY name")
        return [User(*r[:4], bool(r[4])) for r in rows]

    def login(self, name: str, password: str) -> User | None:
        """The user when the password matches, else None (as slow for an unknown name)."""
        row = self.db.execute("SELECT pw_hash FROM serve_users WHERE name = ?", (name,)).fetchone()
        ok = verify_password(password, row[0] if row else None)
        return self.user(name) if ok and row else None

    def end_session(self, sid: str, expires: int) -> None:
        """Refuse this session id from now on (logout); forgotten once the cookie would have expired anyway."""
        with self.db:
            self.db.execute("DELETE FROM serve_logouts WHERE expires < ?", (int(time.time()),))
            self.db.execute("INSERT OR REPLACE INTO serve_logouts VALUES (?, ?)", (sid, int(expires)))

    def session_ended(self, sid: str) -> bool:
        return self.db.execute("SELECT 1 FROM serve_logouts WHERE sid = ?", (sid,)).fetchone() is not None

    # --- unmasking ---

    def log_unmask(self, user: User, night: str, call_id: str, reason: str) -> int:
        """Record that ``user`` unmasks a call (who, when, which call, why); returns the grant's id.

        Raises:
            StoreError: the user may not unmask, or gave no reason.
        """
        if not user.may_unmask:
            raise StoreError(f"{user.name} may not unmask personal data (an admin may, or a user added with --unmask)")
        reason = reason.strip()
        if not reason:
            raise StoreError("say why you need the unmasked call")
        with self.db:
            cur = self.db.execute("INSERT INTO serve_unmasks (user, night, call_id, at, reason) VALUES (?,?,?,?,?)",
                                  (user.name, night, call_id, _now(), redact_text(reason[:500])))
        return int(cur.lastrowid)

    def unmask_granted(self, grant: int | str | None, user: User, night: str, call_id: str) -> bool:
        """Whether grant ``grant`` lets ``user`` see this call unmasked now (their own, this call, under 15 minutes old)."""
        if not user.may_unmask or grant is None or not str(grant).isdigit():
            return False
        row = self.db.execute("SELECT user, night, call_id, at FROM serve_unmasks WHERE id = ?", (int(grant),)).fetchone()
        if row is None or tuple(row[:3]) != (user.name, night, call_id):
            return False
        return datetime.fromisoformat(row[3]) >= datetime.now() - UNMASK_TTL

    def unmasks(self, night: str | None = None, call_id: str | None = None) -> list[Unmask]:
        """The unmask log, newest first."""
        rows = self.db.execute(
            "SELECT id, user, night, call_id, at, reason FROM serve_unmasks WHERE (? IS NULL OR night = ?) AND (? IS NULL OR call_id = ?) "
            "ORDER BY id DESC", (night, night, call_id, call_id))
        return [Unmask(*r) for r in rows.fetchall()]
