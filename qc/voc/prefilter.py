"""Skip tags that cannot match a call, from what their own compiled conditions need.

Tagging runs every tag's condition through the rule engine, which searches each keyword list in its
own pass. Most tags do not apply to most calls, and a tag whose condition needs one of its phrases
(by text, or by sound with ``homophone: 0``) cannot match text that holds none of them. This module
reads those needs out of the compiled conditions once per taxonomy and finds, in one pass per call
over all tags' phrases, which of them occur; a tag is run only when its condition could hold. The
engine still decides every tag that is run, so the tags a call gets are exactly those without the
prefilter.

A condition's *need* is computed from its tree: ``keyword`` (any / all, not ``none``) needs one of
its phrases; ``regex`` (on normalised text, no case folding) one of the literal strings every match
must contain (``订单号\\d+`` needs 订单号, ``(怎么|如何)…`` one of 怎么 / 如何); ``similar`` a line
sharing enough characters with an example to reach the threshold (a bound on rapidfuzz's score);
``any`` one of its children's needs; ``all`` and ``scope`` the first child's need that has one.
Anything else (sentiment, sequence, edit-distance homophones, fuzzy sounds) needs nothing that can
be checked cheaply, so its tag always runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qc.normalize import pinyin
from qc.rules.registry import Cond

__all__ = ["Need", "need_of", "regex_literals", "similar_possible", "sound_key", "Found", "Prefilter"]


@dataclass(frozen=True)
class Need:
    """What must occur for a condition to possibly hit: one of the phrases as written (``text``), one
    of the phrases by sound (``sound``: same toneless syllables), or a line close enough to a
    ``similar`` example. Phrases are normalised text."""

    text: frozenset[str]
    sound: frozenset[str]
    similar: tuple[tuple[tuple[str, ...], float, str], ...] = ()


def need_of(cond: Cond) -> Need | None:
    """What ``cond`` needs in the text to possibly hit, or None when that cannot be said cheaply."""
    name = cond.type.name
    p = cond.params
    if name == "keyword":
        if p.get("none") is not None or p.get("fuzzy_sounds"):
            return None
        words = tuple(p.get("any") or p.get("all") or ())
        if not words:
            return None
        h = p.get("homophone")
        if h is not None and h != 0:
            return None
        # by sound the engine matches the syllables of the phrases long enough for it (the others
        # only exactly): the phrase's syllables must then occur in a row in the line's
        sound = frozenset((p.get("_pinyin") or {})) if h == 0 else frozenset()
        return Need(frozenset(words), sound)
    if name == "regex":
        rx = p.get("pattern")
        if rx is None or p.get("on", "normalized") != "normalized":
            return None
        lits = regex_literals(rx.pattern, rx.flags)
        return Need(lits, frozenset()) if lits else None
    if name == "similar":
        return Need(frozenset(), frozenset(), ((tuple(p["examples"]), float(p.get("threshold", 80)), p.get("scorer", "partial")),))
    if name == "any":
        needs = [need_of(c) for c in p["conditions"]]
        if any(n is None for n in needs):
            return None
        return Need(frozenset().union(*(n.text for n in needs)), frozenset().union(*(n.sound for n in needs)),
                    tuple(s for n in needs for s in n.similar))
    if name == "all":
        for c in p["conditions"]:
            n = need_of(c)
            if n is not None:
                return n
        return None
    if name == "scope" and p.get("match") is not None:
        return need_of(p["match"])
    return None


def regex_literals(pattern: str, flags: int = 0) -> frozenset[str] | None:
    """Literal strings one of which every match of ``pattern`` contains, or None when no such set is
    found (case folding, verbose mode, or syntax only the ``regex`` package reads)."""
    import re

    try:
        from re import _parser as sre_parse  # Python 3.11+
    except ImportError:  # pragma: no cover
        import sre_parse  # type: ignore[no-redef]
    try:
        tree = sre_parse.parse(pattern)
    except Exception:
        return None
    if (tree.state.flags | flags) & (re.IGNORECASE | re.VERBOSE):
        return None
    return _sequence_literals(list(tree.data))


def _sequence_literals(items: list) -> frozenset[str] | None:
    # the first element of the sequence that is sure to match something fixed: a run of literal
    # characters, or a group / alternation / repeat (at least once) whose every branch has one
    run: list[str] = []
    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            run.append(chr(av))
            continue
        if run:
            return frozenset(["".join(run)])
        got = None
        if name == "SUBPATTERN":
            if av[1] or av[2]:
                return None  # inline flags
            got = _sequence_literals(list(av[3]))
        elif name == "ATOMIC_GROUP":
            got = _sequence_literals(list(av))
        elif name == "BRANCH":
            branches = [_sequence_literals(list(b)) for b in av[1]]
            if branches and all(branches):
                got = frozenset().union(*branches)  # type: ignore[arg-type]
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and av[0] >= 1:
            got = _sequence_literals(list(av[2]))
        if got:
            return got
    return frozenset(["".join(run)]) if run else None


def similar_possible(text: str, examples: tuple[str, ...], threshold: float, scorer: str = "partial") -> bool:
    """False only when no example can reach ``threshold`` against ``text`` (rapidfuzz ``partial_ratio``
    or ``ratio``, 0..100). Both are 2·M / (a + b) for M characters in common order (an Indel
    alignment) between strings of lengths a and b (for ``partial``, the shorter string against a
    window of the longer one, no longer than it). M is at most the number c of the shorter string's
    characters that occur in the longer one, so 2c / (shorter + c) bounds ``partial`` (the window
    is as short as c at best) and 2c / (a + b) bounds ``ratio``."""
    chars = set(text)
    n = len(text)
    for ex in examples:
        if scorer == "partial":
            if n < 0.6 * len(ex):
                continue  # `similar` skips a short reply against a long example
            short, other = (text, set(ex)) if n <= len(ex) else (ex, chars)
            c = sum(1 for ch in short if ch in other)
            if c and 200 * c >= (threshold - 0.5) * (len(short) + c):
                return True
        else:
            c = sum(1 for ch in ex if ch in chars)
            if c and 200 * c >= (threshold - 0.5) * (len(ex) + n):
                return True
    return False


class _SoundTable(dict):
    """ord(character) -> one character standing for its toneless syllable, for :meth:`str.translate`."""

    def __init__(self) -> None:
        super().__init__()
        self.by_syllable: dict[str, str] = {}

    def __missing__(self, key: int) -> str:
        syllable = pinyin(chr(key))[0]
        v = self[key] = self.by_syllable.setdefault(syllable, chr(key))
        return v


_SOUND = _SoundTable()


def sound_key(norm_text: str) -> str:
    """Normalised text with every character replaced by one character of the same toneless syllable
    (the first seen): a phrase matches text by sound (``homophone: 0``: syllable for syllable, as
    the rule engine's pinyin lines compare) exactly when its key occurs in the text's key. Non-Han
    characters stand for themselves, as in the pinyin lines."""
    return norm_text.translate(_SOUND)


def _index(phrases: set[str], first: Any) -> dict[str, tuple[str, ...]]:
    """Phrases by their first character."""
    out: dict[str, list[str]] = {}
    for w in phrases:
        out.setdefault(first(w), []).append(w)
    return {k: tuple(v) for k, v in out.items()}


def _scan(index: dict[str, tuple[str, ...]], units: set[str], text: str, found: set[str]) -> None:
    # only phrases whose first character occurs at all are looked for, each with one C-level `in`
    for u in units.intersection(index):
        for w in index[u]:
            if w in text:
                found.add(w)


class Found:
    """The phrases found in a scope's text, and per tag the parts of its condition they make possible."""

    __slots__ = ("text", "sound", "units")

    def __init__(self, text: set[str], sound: set[str], units: dict[str, set[int]]):
        self.text, self.sound, self.units = text, sound, units


class Prefilter:
    """Which tags of a taxonomy could match some text; built once per taxonomy.

    A tag's *units* are the children of its top-level ``any`` (else its whole condition, unit 0);
    each phrase points at the units that need it, so a call's few found phrases switch on the few
    units worth running."""

    def __init__(self, tags: list[Any]):
        self.needs = {t.code: need_of(t.match) for t in tags}
        self._kids: dict[str, list[Cond] | None] = {}
        self._always: dict[str, frozenset[int]] = {}  # units with no checkable need: always run
        self._similar: dict[str, list[tuple[int, tuple]]] = {}  # units a similar-example bound may switch on
        by_text: dict[str, list[tuple[str, int]]] = {}
        by_sound: dict[str, list[tuple[str, int]]] = {}
        for t in tags:
            if t.match.type.name == "any":
                kids = list(t.match.params["conditions"])
                units = [need_of(c) for c in kids]
                self._kids[t.code] = kids
            else:
                units = [self.needs[t.code]]
                self._kids[t.code] = None
            self._always[t.code] = frozenset(i for i, n in enumerate(units) if n is None)
            self._similar[t.code] = [(i, n.similar) for i, n in enumerate(units) if n is not None and n.similar]
            for i, n in enumerate(units):
                if n is not None:
                    for w in n.text:
                        by_text.setdefault(w, []).append((t.code, i))
                    for w in n.sound:
                        by_sound.setdefault(w, []).append((t.code, i))
        self._n = {t.code: len(self._kids[t.code] or [None]) for t in tags}
        self._by_text, self._by_sound = by_text, by_sound
        self._pruned: dict[tuple[str, tuple[int, ...]], Cond] = {}
        self._text = _index(set(by_text), lambda w: w[0])
        self._keys: dict[str, set[str]] = {}  # sound key -> the phrases with that sound
        for w in by_sound:
            self._keys.setdefault(sound_key(w), set()).add(w)
        self._sound = _index(set(self._keys), lambda w: w[0])

    def present(self, texts: list[str]) -> Found:
        """The phrases that occur in these normalised texts as written and by sound, and the tag units they switch on."""
        found_text: set[str] = set()
        found_sound: set[str] = set()
        joined = "\n".join(texts)
        if self._text:
            _scan(self._text, set(joined), joined, found_text)
        if self._sound:
            keys: set[str] = set()
            key = sound_key(joined)
            _scan(self._sound, set(key), key, keys)
            for k in keys:
                found_sound |= self._keys[k]
        units: dict[str, set[int]] = {}
        for by, found in ((self._by_text, found_text), (self._by_sound, found_sound)):
            for w in found:
                for code, i in by[w]:
                    units.setdefault(code, set()).add(i)
        return Found(found_text, found_sound, units)

    def condition(self, tag: Any, found: Found, texts: list[str] = ()) -> Cond | None:  # type: ignore[assignment]
        """The condition to run for ``tag`` on ``texts``: None when it cannot hit, else its own
        condition, or for a top-level ``any`` one holding only the children that could hit.
        ``found`` may come from more text than ``texts`` (the whole call for a trigger-only tag):
        a phrase seen elsewhere only makes the engine look."""
        code = tag.code
        keep = found.units.get(code)
        always, similar = self._always[code], self._similar[code]
        if not keep and not always and not similar:
            return None
        keep = set(keep or ()) | always
        for i, needs in similar:
            if i not in keep and any(similar_possible(t, ex, th, sc) for ex, th, sc in needs for t in texts):
                keep.add(i)
        if not keep:
            return None
        if len(keep) == self._n[code]:
            return tag.match
        units = tuple(sorted(keep))
        cond = self._pruned.get((code, units))
        if cond is None:
            kids = self._kids[code] or []
            cond = self._pruned[(code, units)] = Cond(tag.match.type, {**tag.match.params, "conditions": [kids[i] for i in units]}, tag.match.where)
        return cond
