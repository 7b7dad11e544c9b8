"""``qc serve``: the reviewer workbench over night results and the history database.

Reviewers work the ranked queue, listen to the call (served with HTTP Range), confirm or reject
each machine finding, add missed ones and submit: the reviewed score (``qc.scoring.score_call``
with verdicts) is kept beside the machine score. Agents see their reviewed calls and dispute
deductions; leads decide disputes and read reviewer agreement and per-rule precision.

The web app (:func:`create_app`) needs the ``serve`` extra (Starlette, uvicorn); the store of
users, reviews and disputes (:class:`ReviewStore`) needs only the standard library.
"""

from __future__ import annotations

from typing import Any

from qc.serve.store import ROLES, ReviewStore, StoreError, User

__all__ = ["ROLES", "ReviewStore", "StoreError", "User", "ServeConfig", "create_app"]


def __getattr__(name: str) -> Any:
    if name in ("ServeConfig", "create_app"):
        from qc.serve import app

        return getattr(app, name)
    raise AttributeError(name)
