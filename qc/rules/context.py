"""What a condition sees: the call with each utterance normalised once, and what it returns: hits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qc.normalize import NormText, normalize, pinyin

if TYPE_CHECKING:
    from qc.types import CallEmotion, Transcript, UtteranceEmotion

__all__ = ["Hit", "CallContext", "NotApplicable"]


class NotApplicable(Exception):
    """Raised by a condition that cannot be judged on this call (no timing, no ticket note...).

    The engine records the rule under ``CallInspection.not_applicable`` with this message instead
    of reporting a hit or a miss.
    """


@dataclass(frozen=True)
class Hit:
    """One place a condition matched.

    ``utterance`` is None for whole-call hits (call duration, talk ratio, metadata).
    ``span`` is in the original utterance text. ``start``/``end`` override the utterance's times
    (silence gaps, overlaps). ``value`` carries a measured or captured value for the message.
    """

    utterance: int | None
    span: tuple[int, int] | None = None
    start: float | None = None
    end: float | None = None
    value: Any = None
    note: str = ""


@dataclass
class CallContext:
    """A transcript prepared for matching; normalised text and pinyin are computed once per call."""

    transcript: Transcript
    emotion: CallEmotion | None = None
    _norm: list[NormText] = field(default_factory=list)
    _pinyin: dict[tuple[int, bool], tuple[str, ...]] = field(default_factory=dict)
    _emotions: list[UtteranceEmotion] | None = None
    _agent_first: float | None | bool = False

    def __post_init__(self) -> None:
        self.utterances = self.transcript.utterances
        self.roles = [u.role for u in self.utterances]
        # every utterance is normalised once, up front: nearly every rule reads nearly every utterance
        self._norm = [normalize(u.text) for u in self.utterances]
        self.texts = [n.text for n in self._norm]
        self.all = tuple(range(len(self.utterances)))
        self._has_timing = self.transcript.has_timing
        #: per-call memo for conditions (per-utterance results, joined texts), keyed by the condition
        self.memo: dict = {}

    def norm(self, i: int) -> NormText:
        return self._norm[i]

    def text(self, i: int) -> str:
        return self.texts[i]

    def joined(self, idx: tuple[int, ...]) -> tuple[str, list[int]]:
        """The normalised texts of ``idx`` joined by newlines (which normalised text never holds), with
        each one's start offset; cached per call. One regex pass over it finds what one pass per
        utterance would, for patterns that cannot match a newline (see ``common.joinable``)."""
        key = ("joined", idx)
        got = self.memo.get(key)
        if got is None:
            texts = self.texts
            starts, pos = [], 0
            for i in idx:
                starts.append(pos)
                pos += len(texts[i]) + 1
            got = self.memo[key] = ("\n".join([texts[i] for i in idx]), starts)
        return got

    def pinyin(self, i: int, fuzzy: bool = False) -> tuple[str, ...]:
        key = (i, fuzzy)
        p = self._pinyin.get(key)
        if p is None:
            p = pinyin(self.text(i))
            if fuzzy:
                from qc.normalize import fuzzy_syllable

                p = tuple(fuzzy_syllable(s) for s in p)
            self._pinyin[key] = p
        return p

    @property
    def has_timing(self) -> bool:
        return self._has_timing

    def require_timing(self, what: str) -> None:
        if not self.has_timing:
            raise NotApplicable(f"{what} needs utterance times; this transcript has none")

    @property
    def agent_first_start(self) -> float | None:
        """Start time of the agent's first words (None without timing or without agent speech)."""
        if self._agent_first is False:
            self._agent_first = next(
                (u.start for u in self.utterances if u.role == "agent" and u.start is not None), None
            )
        return self._agent_first  # type: ignore[return-value]

    def emotions(self) -> list[UtteranceEmotion]:
        """Per-utterance emotion: from the CallEmotion passed in, else qc.emotion's text scorer."""
        if self._emotions is None:
            if self.emotion is not None and self.emotion.utterances:
                self._emotions = list(self.emotion.utterances)
            else:
                try:
                    from qc.emotion import score_utterances
                except ImportError as e:
                    raise NotApplicable(f"no CallEmotion given and the emotion stage cannot be imported ({e})") from None
                self._emotions = list(score_utterances(self.transcript))
        return self._emotions
