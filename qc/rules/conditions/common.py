"""Small helpers the condition modules share (role filtering, phrase preparation)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable

from qc.normalize import normalize_text
from qc.rules.context import CallContext
from qc.rules.registry import Report
from qc.types import ROLES

ROLE_CHOICES = ROLES + ("any",)


def in_role(ctx: CallContext, scope: tuple[int, ...], role: str | None) -> tuple[int, ...]:
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


def check_role(params: dict, report: Report, key: str = "role") -> None:
    role = params.get(key)
    if role is not None and role not in ROLE_CHOICES:
        from qc.yamlfile import did_you_mean

        report(key, "RUL013", f"{key} must be one of {', '.join(ROLE_CHOICES)}, not {role!r}{did_you_mean(role, ROLE_CHOICES)}")


def phrases(params: dict, key: str, report: Report, *, allow_empty: bool = True) -> tuple[str, ...]:
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


def compile_regex(pattern: str, key: str, report: Report):
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


_SAFE_OPS = frozenset({"LITERAL", "ANY", "IN", "BRANCH", "SUBPATTERN", "MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT", "ATOMIC_GROUP"})
_SAFE_CATEGORIES = frozenset({"CATEGORY_DIGIT", "CATEGORY_WORD"})


@lru_cache(maxsize=1024)
def _joinable(pattern: str, flags: int) -> bool:
    import re

    try:
        from re import _parser as sre_parse  # Python 3.11+
    except ImportError:  # pragma: no cover
        import sre_parse  # type: ignore[no-redef]
    try:
        tree = sre_parse.parse(pattern)
    except Exception:
        return False  # regex-only syntax: search one utterance at a time
    if (tree.state.flags | flags) & (re.DOTALL | re.MULTILINE | re.VERBOSE):  # same bits in `regex`
        return False

    def safe(items) -> bool:
        for op, av in items:
            name = str(op)
            if name not in _SAFE_OPS:
                return False
            if name == "LITERAL" and av == 10:
                return False
            if name == "IN":
                for iop, iav in av:
                    iname = str(iop)
                    if iname == "LITERAL" and iav != 10:
                        continue
                    if iname == "RANGE" and not iav[0] <= 10 <= iav[1]:
                        continue
                    if iname == "CATEGORY" and str(iav) in _SAFE_CATEGORIES:
                        continue
                    return False
            elif name == "BRANCH":
                if not all(safe(b) for b in av[1]):
                    return False
            elif name == "SUBPATTERN":
                if av[1] or av[2] or not safe(av[3]):
                    return False  # inline flags such as (?s:...)
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                if not safe(av[2]):
                    return False
            elif name == "ATOMIC_GROUP":
                if not safe(av):
                    return False
        return True

    return safe(tree.data)


def joinable(rx: Any) -> bool:
    """Whether ``rx`` can be searched over utterances joined by newlines with the same result as one
    search per utterance: no match can contain a newline (no ``.`` under DOTALL, negated classes,
    ``\\s``/``\\D``/``\\W``), no anchors or look-arounds see past an utterance's edge, and the
    pattern cannot match the empty string."""
    if rx.search("") is not None:
        return False
    return _joinable(rx.pattern, rx.flags)


def matches_each(ctx: CallContext, idx: tuple[int, ...], rx: Any, first_only: bool = False) -> list[tuple[int, int, Any]]:
    """``(utterance, offset, match)`` for every match of ``rx`` in the normalised text of each utterance
    of ``idx`` (only the first per utterance with ``first_only``), in order; spans of ``match`` minus
    ``offset`` are positions in that utterance's normalised text. One pass over the joined texts when
    :func:`joinable`, else one search per utterance. Raises TimeoutError like ``rx.search``."""
    import bisect

    if len(idx) > 1 and joinable(rx):
        joined, starts = ctx.joined(idx)
        try:
            found = list(rx.finditer(joined, timeout=REGEX_TIMEOUT_S))
        except TimeoutError:
            found = None  # the per-utterance searches decide, with their own time limit
        if found is not None:
            out: list[tuple[int, int, Any]] = []
            last = -1
            for m in found:
                k = bisect.bisect_right(starts, m.start()) - 1
                if first_only and k == last:
                    continue
                last = k
                out.append((idx[k], starts[k], m))
            return out
    texts = ctx.texts
    out = []
    for i in idx:
        if first_only:
            m = rx.search(texts[i], timeout=REGEX_TIMEOUT_S)
            if m is not None:
                out.append((i, 0, m))
        else:
            out.extend((i, 0, m) for m in rx.finditer(texts[i], timeout=REGEX_TIMEOUT_S))
    return out


def first_match_per_line(
    ctx: CallContext, idx: tuple[int, ...], rx: Any, skip: Callable[[int, int, int, Any], bool] | None = None,
) -> dict[int, tuple[int, int]]:
    """``{utterance: (start, end)}`` of ``rx``'s first match in each line of ``idx`` that has one,
    found by one search over the lines joined (``rx`` must not match a newline). ``skip(i, start,
    end, match)`` rejects a match, and the line's next one is taken instead."""
    import bisect

    joined, starts = ctx.joined(idx)
    first: dict[int, tuple[int, int]] = {}
    for m in rx.finditer(joined):
        k = bisect.bisect_right(starts, m.start()) - 1
        i = idx[k]
        if i in first:
            continue
        s, e = m.start() - starts[k], m.end() - starts[k]
        if skip is not None and skip(i, s, e, m):
            continue
        first[i] = (s, e)
    return first
