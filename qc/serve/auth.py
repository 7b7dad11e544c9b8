"""Passwords, signed session cookies and CSRF tokens for ``qc serve`` (standard library only).

Passwords are hashed with scrypt (``hashlib.scrypt``, n=2**14, r=8, p=1, a random 16-byte salt)
and stored as ``scrypt$n$r$p$salt$hash``. A session is a signed cookie: the JSON payload
(session id, user, expiry) and an HMAC-SHA256 over it with the server's secret. The CSRF token of
a session is an HMAC of its session id, so it changes with every login and needs no storage.

The secret is ``$QC_SECRET`` when set (at least 32 characters), else a random 32-byte key kept in
a file beside the database (``<db>.key``, created with mode 0600; a key file others can read is
refused). The database never holds it: a copy of the database cannot forge sessions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

__all__ = [
    "hash_password", "verify_password", "sign", "unsign", "csrf_token", "check_csrf", "new_session_id", "load_secret",
    "secret_path", "SecretError",
]


class SecretError(ValueError):
    """The session key cannot be used (a key file others can read, a short ``$QC_SECRET``); the message says what to do."""


def secret_path(db: str | Path) -> Path:
    """Where the session key of database ``db`` lives: ``<db>.key`` beside it."""
    db = Path(db)
    return db.with_name(db.name + ".key")


def load_secret(db: str | Path, legacy: bytes | None = None) -> bytes:
    """The key that signs session cookies and CSRF tokens.

    ``$QC_SECRET`` when set; else the key file beside ``db`` (:func:`secret_path`), made on first
    use with mode 0600 from ``legacy`` (a key an older version kept in the database, so sessions
    survive the move) or from 32 random bytes.

    Raises:
        SecretError: ``$QC_SECRET`` is shorter than 32 characters, or the key file is readable by
            group or others, unreadable, or not a key.
    """
    env = os.environ.get("QC_SECRET")
    if env is not None:
        if len(env) < 32:
            raise SecretError("QC_SECRET is shorter than 32 characters; use e.g. `python3 -c 'import secrets; print(secrets.token_hex(32))'`")
        return env.encode()
    path = secret_path(db)
    if not path.exists():
        key = legacy or secrets.token_bytes(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            pass
        except OSError as e:
            raise SecretError(f"{path}: cannot create the session key file ({e.strerror or e}); set QC_SECRET or pass another --db") from None
        else:
            with os.fdopen(fd, "w") as f:
                f.write(key.hex() + "\n")
            return key
    if os.name != "nt" and path.stat().st_mode & 0o077:
        raise SecretError(f"{path}: the session key is readable by other users (mode {path.stat().st_mode & 0o777:o}); run chmod 600 {path}")
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError) as e:
        raise SecretError(f"{path}: not a session key ({e}); delete it to make a new one (everyone logs in again)") from None
    if len(key) < 16:
        raise SecretError(f"{path}: the session key is too short; delete it to make a new one (everyone logs in again)")
    return key

_N, _R, _P = 2**14, 8, 1


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str) -> str:
    """Return ``scrypt$n$r$p$salt$hash`` for ``password``."""
    if not password:
        raise ValueError("the password is empty")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


_DUMMY = None


def verify_password(password: str, stored: str | None) -> bool:
    """True when ``password`` matches ``stored``; takes as long for an unknown user (``stored=None``)."""
    global _DUMMY
    if stored is None:
        _DUMMY = _DUMMY or hash_password("x")
        stored, ok = _DUMMY, False
    else:
        ok = True
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=len(_unb64(digest)))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, _unb64(digest)) and ok


def _mac(secret: bytes, data: bytes) -> str:
    return _b64(hmac.new(secret, data, hashlib.sha256).digest())


def sign(payload: dict[str, Any], secret: bytes) -> str:
    """A cookie value carrying ``payload`` (JSON) and its HMAC."""
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{_mac(secret, body.encode())}"


def unsign(value: str | None, secret: bytes) -> dict[str, Any] | None:
    """The payload of a cookie made by :func:`sign`, or None when it is missing, forged or expired."""
    if not value or "." not in value:
        return None
    body, mac = value.rsplit(".", 1)
    if not hmac.compare_digest(mac, _mac(secret, body.encode())):
        return None
    try:
        payload = json.loads(_unb64(body))
    except ValueError:
        return None
    if not isinstance(payload, dict) or payload.get("exp", 0) < time.time():
        return None
    return payload


def new_session_id() -> str:
    return secrets.token_urlsafe(18)


def csrf_token(session_id: str, secret: bytes) -> str:
    """The CSRF token every form of this session must send back."""
    return _mac(secret, b"csrf:" + session_id.encode())


def check_csrf(session_id: str | None, token: str | None, secret: bytes) -> bool:
    return bool(session_id and token) and hmac.compare_digest(str(token), csrf_token(str(session_id), secret))
