"""Skip tags that cannot match a call, from the phrases of their own compiled conditions.

Tagging runs every tag's condition through the rule engine, which searches each keyword list in its
own pass. Most tags do not apply to most calls, and a tag whose condition needs one of its phrases
(by text, or by sound with ``homophone: 0``) cannot match text that holds none of them. This module
reads those phrases out of the compiled conditions and finds, in one pass per call over all tags'
phrases, which of them occur; a tag is run only when its condition could hold. The engine still
decides every tag that is run, so the tags a call gets are exactly those without the prefilter.

A condition's *need* is computed from its tree: ``keyword`` (any / all, not ``none``) needs one of
its phrases; ``any`` needs one of its children's needs; ``all`` and ``scope`` the first child's
need that has one; anything else (regex, similar, sentiment, sequence, edit-distance homophones,
fuzzy sounds) needs nothing that can be checked cheaply, so its tag always runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qc.rules.registry import Cond

__all__ = ["Need", "need_of", "Prefilter"]


@dataclass(frozen=True)
class Need:
    """Phrases of which at least one must occur: normalised text and pinyin lines (" ji zhu ")."""

    text: frozenset[str]
    sound: frozenset[str]


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
        # only exactly): the phrase's pinyin line must then occur in the line's pinyin
        sound = frozenset(_pinyin_lines(p)) if h == 0 else frozenset()
        return Need(frozenset(words), sound)
    if name == "any":
        needs = [need_of(c) for c in p["conditions"]]
        if any(n is None for n in needs):
            return None
        return Need(frozenset().union(*(n.text for n in needs)), frozenset().union(*(n.sound for n in needs)))
    if name == "all":
        for c in p["conditions"]:
            n = need_of(c)
            if n is not None:
                return n
        return None
    if name == "scope" and p.get("match") is not None:
        return need_of(p["match"])
    return None


def _pinyin_lines(params: dict[str, Any]) -> list[str]:
    return [" " + " ".join(syl) + " " for syl in (params.get("_pinyin") or {}).values()]


def _index(phrases: set[str], first: Any) -> dict[str, tuple[str, ...]]:
    """Phrases by their first unit (character, or syllable for pinyin lines)."""
    out: dict[str, list[str]] = {}
    for w in phrases:
        out.setdefault(first(w), []).append(w)
    return {k: tuple(v) for k, v in out.items()}


def _scan(index: dict[str, tuple[str, ...]], units: set[str], text: str, found: set[str]) -> None:
    # only phrases whose first unit occurs at all are looked for, each with one C-level `in`
    for u in units.intersection(index):
        for w in index[u]:
            if w in text:
                found.add(w)


class Prefilter:
    """Which tags of a taxonomy could match some text; built once per taxonomy."""

    def __init__(self, tags: list[Any]):
        self.needs = {t.code: need_of(t.match) for t in tags}
        # a top-level any: runs only the children that could hit (the union of the others' hits is empty)
        self.children = {t.code: [(c, need_of(c)) for c in t.match.params["conditions"]]
                         for t in tags if t.match.type.name == "any"}
        every = [n for n in self.needs.values() if n is not None]
        every += [n for kids in self.children.values() for _, n in kids if n is not None]
        text = set().union(*(n.text for n in every)) if every else set()
        sound = set().union(*(n.sound for n in every)) if every else set()
        self._text = _index(text, lambda w: w[0])
        self._sound = _index(sound, lambda w: w.split()[0])
        self.uses_sound = bool(sound)

    def present(self, texts: list[str], pinyin_lines: list[str] | None = None) -> tuple[set[str], set[str]]:
        """The phrases (text, sound) that occur in these normalised texts / pinyin lines."""
        found_text: set[str] = set()
        found_sound: set[str] = set()
        if self._text:
            joined = "\n".join(texts)
            _scan(self._text, set(joined), joined, found_text)
        if self._sound and pinyin_lines:
            joined = "\n".join(pinyin_lines)
            _scan(self._sound, set(joined.split()), joined, found_sound)
        return found_text, found_sound

    def could_match(self, code: str, present: tuple[set[str], set[str]]) -> bool:
        return self._possible(self.needs.get(code), present)

    @staticmethod
    def _possible(need: Need | None, present: tuple[set[str], set[str]]) -> bool:
        if need is None:
            return True
        text, sound = present
        return not need.text.isdisjoint(text) or not need.sound.isdisjoint(sound)

    def condition(self, tag: Any, present: tuple[set[str], set[str]]) -> Cond | None:
        """The condition to run for ``tag`` on text with these phrases: None when it cannot hit, else
        its own condition, or for a top-level ``any`` one holding only the children that could hit."""
        if not self.could_match(tag.code, present):
            return None
        children = self.children.get(tag.code)
        if children is None:
            return tag.match
        keep = [c for c, need in children if self._possible(need, present)]
        if not keep:
            return None
        if len(keep) == len(children):
            return tag.match
        return Cond(tag.match.type, {**tag.match.params, "conditions": keep}, tag.match.where)
