"""The words a rule set's decisions hang on, per speaker role: what ASR should listen for.

    vocab = {role: vocabulary(rules, role) for role in ("agent", "customer")}

Only ``required`` rules (a deduction when the phrase is *not* heard: 工号, 机主本人, 感谢来电) and
``risk`` rules (a regulator or media threat) give words: biasing recognition towards a
``forbidden`` phrase could only make a violation out of something nobody said. Rules that look at
the end of the call (scope ``last``/``last_seconds``: 感谢来电, 祝您生活愉快, 再见) give none either:
Whisper invents such outros on the silence at the end of a stream, and with them in the prompt it
wrote 「祝您生活愉快」 over and over on 7 of 24 unseen calls (docs/transcription.md). Re-listening
asks for them (``endings=True``): its window of the closing ends half a second after the agent's
last line, and words written after the speech are cut by the guard (qc.asr.guard.trim_unplaced).

A phrase counts for a role when its keyword condition (or a regex condition's ``listen`` words),
the ``scope`` around it or the ``sequence`` it follows names that role (or none); a ``risk_cue``
condition gives its kind's phrases from the one cue table (qc.emotion.lexicon) to the customer, or
to the role it names. The ASR stage receives the result as plain data (role -> phrases) and never
sees the rules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from qc.rules.model import RuleSet
from qc.rules.registry import Cond

__all__ = ["VOCABULARY_POLARITIES", "VocabularyError", "vocabulary", "load_vocabulary_file"]

VOCABULARY_POLARITIES: tuple[str, ...] = ("required", "risk")
ROLES = ("agent", "customer")
# A long prompt makes Whisper skip speech (docs/transcription.md): each risk kind lends only its
# first, most typical cues (the table lists them first), not its ~40 variants.
RISK_CUES_PER_KIND = 6


class VocabularyError(ValueError):
    """A user vocabulary file cannot be read; the message names the file and line."""


def vocabulary(rules: RuleSet, role: str, polarities: Iterable[str] = VOCABULARY_POLARITIES, *,
               endings: bool = False) -> list[str]:
    """The keyword phrases of the enabled ``required``/``risk`` rules that apply to ``role``.

    Phrases come in rule order, without repeats, and without a phrase that a longer listed one
    contains (机主 when 机主本人 is there): the longer one carries the same sound and more context.
    A regex pattern gives no words by itself, only the phrases its ``listen`` key lists.
    ``endings``: also the phrases of rules that look at the end of the call (for re-listening a
    closing window, never for a whole channel).
    """
    wanted = set(polarities)
    found: list[str] = []
    for rule in rules:
        scope = rule.evidence_scope.params if rule.evidence_scope is not None else {}
        if not endings and (scope.get("last") or scope.get("last_seconds")):
            continue
        if rule.enabled and rule.polarity in wanted:
            _walk(rule.match, None, role, found)
    return _compact(found)


def _walk(cond: Cond | None, inherited: str | None, role: str, out: list[str]) -> None:
    if not isinstance(cond, Cond):
        return
    p = cond.params
    name = cond.type.name
    own = p.get("role") or inherited
    if name in ("keyword", "regex"):
        if own in (None, role):
            for key in ("any", "all", "listen"):
                out.extend(w for w in (p.get(key) or ()) if isinstance(w, str))
        return
    if name == "risk_cue":  # the cue table of qc.emotion.lexicon; by default the customer's lines
        if (own or "customer") == role:
            from qc.emotion.lexicon import RISK_CUES

            out.extend(RISK_CUES.get(p.get("kind"), ())[:RISK_CUES_PER_KIND])
        return
    if name == "sequence":
        _walk(p.get("when"), own, role, out)
        _walk(p.get("then"), p.get("by") or own, role, out)
        return
    for child in cond.type.children:
        value = p.get(child)
        for c in value if isinstance(value, (list, tuple)) else [value]:
            _walk(c, own, role, out)


def _compact(words: list[str]) -> list[str]:
    seen: list[str] = []
    for w in (w.strip() for w in words):
        if w and w not in seen:
            seen.append(w)
    return [w for w in seen if not any(w != o and w in o for o in seen)]


def load_vocabulary_file(path: str | Path) -> dict[str, list[str]]:
    """Extra phrases from a user file: one phrase a line, ``agent:`` or ``customer:`` before it to
    give it to one role only (else both); ``#`` starts a comment.

    Raises:
        VocabularyError: the file cannot be read, or a line names an unknown role.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise VocabularyError(f"{p}: cannot read the vocabulary file ({e}); give a UTF-8 text file") from e
    out: dict[str, list[str]] = {r: [] for r in ROLES}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        roles: tuple[str, ...] = ROLES
        head, sep, rest = line.partition(":")
        if not sep:
            head, sep, rest = line.partition("：")
        if sep:
            if head.strip() not in ROLES:
                raise VocabularyError(
                    f"{p}:{n}: unknown role {head.strip()!r}; write 'agent: PHRASE', 'customer: PHRASE' or just PHRASE"
                )
            roles, line = (head.strip(),), rest.strip()
        for r in roles:
            if line and line not in out[r]:
                out[r].append(line)
    return out
