"""Small helpers the condition modules share (role filtering, phrase preparation)."""

from __future__ import annotations

from typing import Any, Callable

from qc.normalize import normalize_text
from qc.types import ROLES

ROLE_CHOICES = ROLES + ("any",)


def in_role(ctx: Any, scope: tuple[int, ...], role: str | None) -> tuple[int, ...]:
    """The utterances of ``scope`` spoken by ``role`` (all of them for None / "any")."""
    if role is None or role == "any":
        return scope
    if scope is ctx.all:  # the common case: cache per call
        cache = ctx.__dict__.setdefault("_by_role", {})
        got = cache.get(role)
        if got is None:
            roles = ctx.roles
            got = cache[role] = tuple(i for i in scope if roles[i] == role)
        return got
    roles = ctx.roles
    return tuple(i for i in scope if roles[i] == role)


def check_role(params: dict, report: Callable[[str, str, str], None], key: str = "role") -> None:
    role = params.get(key)
    if role is not None and role not in ROLE_CHOICES:
        from qc.yamlfile import did_you_mean

        report(key, "RUL013", f"{key} must be one of {', '.join(ROLE_CHOICES)}, not {role!r}{did_you_mean(role, ROLE_CHOICES)}")


def phrases(params: dict, key: str, report: Callable[[str, str, str], None], *, allow_empty: bool = True) -> tuple[str, ...]:
    """Normalise a list of phrases from the rule file; report empty lists and phrases that vanish."""
    values = params.get(key)
    if values is None:
        return ()
    if not values and not allow_empty:
        report(key, "RUL021", f"{key} is an empty list; give at least one phrase")
    out = []
    for v in values:
        n = normalize_text(str(v))
        if not n:
            report(key, "RUL021", f"{key}: phrase {v!r} is empty after normalisation (only punctuation/space)")
            continue
        out.append(n)
    return tuple(dict.fromkeys(out))


def compile_regex(pattern: str, key: str, report: Callable[[str, str, str], None]):
    import regex

    try:
        return regex.compile(pattern, regex.V0)
    except regex.error as e:
        report(key, "RUL020", f"invalid regex {pattern!r}: {e}")
        return None
    except Exception as e:  # pragma: no cover - regex raises odd errors on some inputs
        report(key, "RUL020", f"invalid regex {pattern!r}: {e}")
        return None


REGEX_TIMEOUT_S = 0.05
