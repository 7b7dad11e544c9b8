"""Passwords, signed session cookies and CSRF tokens for ``qc serve`` (standard library only).

Passwords are hashed with scrypt (``hashlib.scrypt``, n=2**14, r=8, p=1, a random 16-byte salt)
and stored as ``scrypt$n$r$p$salt$hash``. A session is a signed cookie: the JSON payload
(session id, user, expiry) and an HMAC-SHA256 over it with the server's secret. The CSRF token of
a session is an HMAC of its session id, so it changes with every login and needs no storage.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

__all__ = ["hash_password", "verify_password", "sign", "unsign", "csrf_token", "check_csrf", "new_session_id"]

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
