"""Records that flow between the pipeline stages.

ingest -> asr -> normalize -> emotion -> rules -> scoring -> report

Every stage reads and writes only these dataclasses. They are plain data: :func:`to_dict` makes
the JSON-ready dict, and every record's ``from_dict`` reads it back by one mechanism
(:func:`from_dict`: the dataclass fields and their type hints), so a field added to a record
is saved and loaded without more code.

(Over 400 lines: every inter-stage record lives in this one module, by the project's convention,
so a reader finds them together; the code is ~130 lines, the rest are field lists and docs.)
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, TypeVar

__all__ = [
    "ROLES",
    "Role",
    "CHANNELS",
    "SEVERITIES",
    "Record",
    "Word",
    "Utterance",
    "AudioInfo",
    "AsrInfo",
    "Transcript",
    "Evidence",
    "Finding",
    "CallInspection",
    "UtteranceEmotion",
    "RiskFlag",
    "Complaint",
    "CallEmotion",
    "Deduction",
    "ItemScore",
    "DimensionScore",
    "CallScore",
    "ViolationExample",
    "ViolationSummary",
    "AgentScorecard",
    "CallResult",
    "to_dict",
    "from_dict",
]

Role = Literal["agent", "customer", "unknown"]
ROLES: tuple[str, ...] = ("agent", "customer", "unknown")
#: How the customer reached the contact centre: a phone call, a chat (IM, web, app) or a ticket (e-mail, form).
CHANNELS: tuple[str, ...] = ("voice", "chat", "ticket")
#: A finding's severity, mildest first (rules declare one; a scorecard gives each a default deduction).
SEVERITIES: tuple[str, ...] = ("info", "minor", "major", "critical")

R = TypeVar("R")


def to_dict(record: Any) -> dict[str, Any]:
    """Return a JSON-ready dict for any record in this module."""
    return dataclasses.asdict(record)


def from_dict(cls: type[R], data: dict[str, Any]) -> R:
    """Read a record back from its :func:`to_dict` form (or an older file's).

    Each field is converted by its type hint: numbers and strings are coerced (``1`` becomes
    ``1.0`` for a float), nested records, lists, dicts and tuples are rebuilt. A missing key or
    a ``null`` takes the field's default (``None`` for an optional field without one); unknown
    keys are ignored, so files written by an earlier version still load.

    Raises:
        KeyError: a required field is missing.
        TypeError, ValueError: a field holds the wrong kind of value.
    """
    return _reader(cls)(data)


class Record:
    """Base of the records: adds ``from_dict`` (see :func:`from_dict`)."""

    __slots__ = ()

    @classmethod
    def from_dict(cls: type[R], data: dict[str, Any]) -> R:
        return _reader(cls)(data)


_READERS: dict[Any, Callable[[Any], Any]] = {}
_MISSING = dataclasses.MISSING


def _reader(hint: Any) -> Callable[[Any], Any]:
    """The converter for one type hint, built once and cached."""
    try:
        return _READERS[hint]
    except KeyError:
        pass
    except TypeError:  # an unhashable hint
        return _build(hint)
    _READERS[hint] = reader = _build(hint)
    return reader


def _optional(hint: Any) -> tuple[Any, bool]:
    """``(inner type, allows None)`` for ``X | None``."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1 and len(args) < len(typing.get_args(hint)):
            return args[0], True
    return hint, False


def _build(hint: Any) -> Callable[[Any], Any]:
    inner, nullable = _optional(hint)
    if nullable:
        read = _reader(inner)
        empty_is_none = dataclasses.is_dataclass(inner) or typing.get_origin(inner) is tuple
        if empty_is_none:  # an empty object or list stands for "none" in older files
            return lambda v: read(v) if v else None
        return lambda v: None if v is None else read(v)
    if hint in (float, int, str, bool):
        return hint
    if hint is Any or isinstance(hint, TypeVar):
        return lambda v: v
    if dataclasses.is_dataclass(hint):
        return _record_reader(hint)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is list:
        item = _reader(args[0]) if args else (lambda v: v)
        return lambda v: [item(x) for x in v or ()]
    if origin is dict:
        key, value = (_reader(args[0]), _reader(args[1])) if args else ((lambda k: k), (lambda v: v))
        return lambda v: {key(k): value(x) for k, x in (v or {}).items()}
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            item = _reader(args[0])
            return lambda v: tuple(item(x) for x in v)
        items = [_reader(a) for a in args]
        return lambda v: tuple(read(x) for read, x in zip(items, v, strict=True))
    if origin is Literal:
        return lambda v: v
    raise TypeError(f"qc.types.from_dict: no reader for type {hint!r}")


def _record_reader(cls: type) -> Callable[[dict[str, Any]], Any]:
    hints = typing.get_type_hints(cls)
    plan = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        hint = hints[f.name]
        if f.default is not _MISSING:
            default: Callable[[], Any] | None = (lambda value=f.default: value)
        elif f.default_factory is not _MISSING:
            default = f.default_factory
        elif _optional(hint)[1]:
            default = lambda: None  # noqa: E731
        else:
            default = None
        plan.append((f.name, _reader(hint), default))

    def read(d: dict[str, Any]) -> Any:
        kwargs = {}
        for name, convert, default in plan:
            value = d.get(name)
            if value is None:
                if default is None:
                    if name not in d:
                        raise KeyError(name)
                    value = convert(value)  # a null where a value is required: the converter says why
                else:
                    value = default()
            else:
                value = convert(value)
            kwargs[name] = value
        return cls(**kwargs)

    return read


@dataclass
class Word(Record):
    """One recognised word (for Chinese usually one to a few characters)."""

    start: float
    end: float
    text: str
    probability: float = 1.0


@dataclass
class Utterance(Record):
    """One turn of one speaker.

    ``start``/``end`` are seconds from the start of the recording; both are ``None`` for
    transcripts without timing (hand-written or converted from a chat log).
    ``confidence`` is the mean word probability from ASR (``None`` when unknown).
    """

    role: str
    text: str
    start: float | None = None
    end: float | None = None
    confidence: float | None = None
    channel: int | None = None
    words: list[Word] = field(default_factory=list)

    @property
    def duration(self) -> float | None:
        if self.start is None or self.end is None:
            return None
        return self.end - self.start


@dataclass
class AudioInfo(Record):
    """The recording a transcript was made from."""

    path: str
    sha256: str
    duration: float
    sample_rate: int
    channels: int
    format: str | None = None


@dataclass
class AsrInfo(Record):
    """Which recogniser made a transcript, and how (part of the cache key)."""

    backend: str
    model: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Transcript(Record):
    """A whole call: who said what, when.

    ``roles_inferred`` is true when roles were guessed from content (mono audio) rather than
    taken from channels or written by hand. ``channel`` is voice, chat or ticket (see
    :attr:`contact_channel` for the value rules go by).
    """

    call_id: str
    utterances: list[Utterance]
    agent_id: str | None = None
    audio: AudioInfo | None = None
    asr: AsrInfo | None = None
    roles_inferred: bool = False
    meta: dict[str, Any] = field(default_factory=dict)
    channel: str | None = None

    @property
    def contact_channel(self) -> str | None:
        """voice, chat or ticket: ``channel``, else calls.csv's ``channel`` column (``meta``), else
        voice for a transcript made from a recording; None when nothing says."""
        for value in (self.channel, self.meta.get("channel")):
            if value in CHANNELS:
                return value
        return "voice" if self.audio is not None else None

    @property
    def has_timing(self) -> bool:
        """True when every utterance has start and end times (audio-derived transcripts)."""
        return bool(self.utterances) and all(u.start is not None and u.end is not None for u in self.utterances)

    @property
    def duration(self) -> float | None:
        if self.audio is not None:
            return self.audio.duration
        ends = [u.end for u in self.utterances if u.end is not None]
        return max(ends) if ends else None


@dataclass
class Evidence(Record):
    """Where in a call something was found: the quote a reviewer reads and the second to jump to."""

    utterance: int | None = None
    role: str | None = None
    start: float | None = None
    end: float | None = None
    text: str = ""
    span: tuple[int, int] | None = None  # matched characters within ``text``


@dataclass
class Finding(Record):
    """One rule outcome worth a reviewer's attention: a violation or a risk flag.

    ``needs_review`` is true when the evidence rests on low-confidence ASR words, so a
    human should confirm before points are taken.
    """

    call_id: str
    rule: str  # stable code, e.g. "OPEN01"
    name: str  # dotted name, e.g. "opening.greeting"
    category: str  # maps to a scorecard dimension
    severity: str  # "info" | "minor" | "major" | "critical"
    message: str
    evidence: list[Evidence] = field(default_factory=list)
    kind: str = "violation"  # "violation" | "risk"
    confidence: float = 1.0
    needs_review: bool = False


@dataclass
class CallInspection(Record):
    """The rule engine's output for one call.

    ``checked`` lists the rule codes that were evaluated; ``not_applicable`` maps the codes
    that were skipped to the reason (metadata scope, audio-only check on a text transcript...).
    """

    call_id: str
    findings: list[Finding] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    not_applicable: dict[str, str] = field(default_factory=dict)


@dataclass
class UtteranceEmotion(Record):
    """Emotion of one utterance. ``negativity`` is 0 (calm/positive) .. 1 (very negative)."""

    index: int
    role: str
    negativity: float
    text_score: float
    voice_arousal: float | None = None  # loudness/pitch/rate rise vs the speaker's own baseline, z-units
    cues: list[str] = field(default_factory=list)  # lexicon cues that fired, e.g. "anger:太差了"


@dataclass
class RiskFlag(Record):
    """An escalation risk: ``kind`` is one of media, regulator, lawyer, privacy, safety."""

    kind: str
    evidence: Evidence


@dataclass
class Complaint(Record):
    """Complaint analysis: ``type`` service/product/environment/price/process; ``priority``
    紧急危机 / 高度紧急 / 重要非紧急 / 一般."""

    type: str
    priority: str
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class CallEmotion(Record):
    """Per-call emotion summary with the utterances that drove it.

    ``trajectory`` is "recovered", "worsened" or "stable"; ``trajectory_delta`` is the change
    in customer negativity from the first to the last third of the call (positive = worse).
    """

    call_id: str
    utterances: list[UtteranceEmotion] = field(default_factory=list)
    customer_peak: float = 0.0
    customer_mean: float = 0.0
    agent_peak: float = 0.0
    agent_mean: float = 0.0
    trajectory: str = "stable"
    trajectory_delta: float = 0.0
    volatility: float = 0.0
    customer_angry: bool = False
    agent_lost_temper: bool = False
    drivers: list[Evidence] = field(default_factory=list)
    complaint: Complaint | None = None
    risks: list[RiskFlag] = field(default_factory=list)
    # call outcome models (qc.emotion.dialogue): calibrated probabilities, None when not run
    dissatisfied: float | None = None  # P(customer dissatisfied)
    unresolved: float | None = None  # P(problem left unresolved)
    outcome_evidence: list[Evidence] = field(default_factory=list)  # customer lines that pushed them most


# --- scoring records ---


@dataclass
class Deduction(Record):
    """One line of a score trace: which rule hit where, and what it cost.

    ``points`` is what this hit took off the item (0 when the item cap was already reached,
    when the hit waits for review, or when a reviewer rejected it).
    ``status`` is "deducted", "capped", "pending_review" (``needs_review`` hit, not deducted until
    a reviewer confirms it) or "rejected" (a reviewer marked it a false positive).
    """

    rule: str
    points: float
    status: str
    message: str = ""
    evidence: Evidence | None = None


@dataclass
class ItemScore(Record):
    """One scorecard item in one call.

    ``status`` is "ok", "deducted", "fatal" (a 一票否决 item hit: the call scores 0) or
    "not_applicable" (its rules were not checked on this call; its points leave the total).
    """

    item: str
    name: str
    dimension: str
    rules: list[str]
    points: float  # most the item can lose (its weight in the total)
    deducted: float = 0.0
    status: str = "ok"
    fatal: bool = False
    severity: str = "minor"
    deductions: list[Deduction] = field(default_factory=list)


@dataclass
class DimensionScore(Record):
    """A scorecard dimension (服务规范, 业务知识...) in one call: points kept out of points applicable."""

    name: str
    points: float  # applicable points (not-applicable items left out)
    earned: float
    deducted: float = 0.0


@dataclass
class CallScore(Record):
    """The machine score of one call against one scorecard, with its full trace.

    ``score`` is 0..100: points earned over points applicable, scaled to 100, or 0 when a fatal
    item was hit. ``pending_review`` counts ``needs_review`` hits that did not deduct.
    ``basis`` is "machine" (findings as the rules engine produced them) or "reviewed"
    (re-scored with human verdicts: confirmed pending hits deduct, rejected hits do not).
    """

    call_id: str
    scorecard: str
    score: float
    passed: bool
    pass_line: float
    earned: float
    applicable: float
    agent_id: str | None = None
    fatal: bool = False
    fatal_items: list[str] = field(default_factory=list)
    dimensions: list[DimensionScore] = field(default_factory=list)
    items: list[ItemScore] = field(default_factory=list)
    pending_review: int = 0
    basis: str = "machine"


@dataclass
class ViolationExample(Record):
    """One quoted hit behind a :class:`ViolationSummary`: the call, the second it starts, the text."""

    call_id: str = ""
    start: float | None = None
    text: str = ""


@dataclass
class ViolationSummary(Record):
    """One rule an agent broke over a night: the scorecard item, hits, points lost and examples."""

    rule: str
    item: str = ""
    hits: int = 0
    points: float = 0.0
    examples: list[ViolationExample] = field(default_factory=list)


@dataclass
class AgentScorecard(Record):
    """One agent over one night: what a team lead reads.

    ``trend`` lists ``(night, mean score, calls)`` for previous nights and this one, oldest first.
    ``fcr`` is first-contact resolution (None when no call identified its customer).
    """

    agent_id: str
    night: str
    team: str
    calls: int
    mean_score: float
    pass_rate: float
    fatal_calls: int = 0
    dimensions: dict[str, float] = field(default_factory=dict)  # mean % of applicable points kept
    top_violations: list[ViolationSummary] = field(default_factory=list)  # most points lost first, at most 5
    rank_in_team: int = 0
    team_size: int = 0
    fcr: float | None = None
    repeat_calls: int = 0
    trend: list[tuple[str, float, int]] = field(default_factory=list)
    #: ``mean_score``, ``pass_rate`` and ``fatal_calls`` count a call's reviewed score where a
    #: reviewer submitted one (qc serve); the machine's mean stays here, beside them
    machine_mean_score: float | None = None
    reviewed_calls: int = 0


@dataclass
class CallResult(Record):
    """Everything the pipeline knows about one call: what a worker returns and the results store
    saves (:mod:`qc.run.store`)."""

    transcript: Transcript
    inspection: CallInspection
    emotion: CallEmotion | None
    score: CallScore

    @property
    def call_id(self) -> str:
        return self.transcript.call_id
