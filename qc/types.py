"""Records that flow between the pipeline stages.

ingest -> asr -> normalize -> rules -> emotion -> scoring -> report

Every stage reads and writes only these dataclasses. They are plain data: serialise with
:func:`to_dict` and read back with each class's ``from_dict``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "ROLES",
    "Role",
    "CHANNELS",
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
    "AgentScorecard",
    "to_dict",
]

Role = Literal["agent", "customer", "unknown"]
ROLES: tuple[str, ...] = ("agent", "customer", "unknown")
#: How the customer reached the contact centre: a phone call, a chat (IM, web, app) or a ticket (e-mail, form).
CHANNELS: tuple[str, ...] = ("voice", "chat", "ticket")


def to_dict(record: Any) -> dict[str, Any]:
    """Return a JSON-ready dict for any record in this module."""
    return dataclasses.asdict(record)


@dataclass
class Word:
    """One recognised word (for Chinese usually one to a few characters)."""

    start: float
    end: float
    text: str
    probability: float = 1.0

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Word:
        return cls(
            start=float(d["start"]),
            end=float(d["end"]),
            text=str(d["text"]),
            probability=float(d.get("probability", 1.0)),
        )


@dataclass
class Utterance:
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

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Utterance:
        def opt_float(key: str) -> float | None:
            value = d.get(key)
            return None if value is None else float(value)

        channel = d.get("channel")
        return cls(
            role=str(d["role"]),
            text=str(d["text"]),
            start=opt_float("start"),
            end=opt_float("end"),
            confidence=opt_float("confidence"),
            channel=None if channel is None else int(channel),
            words=[Word.from_dict(w) for w in d.get("words") or []],
        )


@dataclass
class AudioInfo:
    """The recording a transcript was made from."""

    path: str
    sha256: str
    duration: float
    sample_rate: int
    channels: int
    format: str | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AudioInfo:
        return cls(
            path=str(d["path"]),
            sha256=str(d["sha256"]),
            duration=float(d["duration"]),
            sample_rate=int(d["sample_rate"]),
            channels=int(d["channels"]),
            format=d.get("format"),
        )


@dataclass
class AsrInfo:
    """Which recogniser made a transcript, and how (part of the cache key)."""

    backend: str
    model: str
    options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AsrInfo:
        return cls(backend=str(d["backend"]), model=str(d["model"]), options=dict(d.get("options") or {}))


@dataclass
class Transcript:
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

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Transcript:
        return cls(
            call_id=str(d["call_id"]),
            utterances=[Utterance.from_dict(u) for u in d["utterances"]],
            agent_id=None if d.get("agent_id") is None else str(d["agent_id"]),
            audio=AudioInfo.from_dict(d["audio"]) if d.get("audio") else None,
            asr=AsrInfo.from_dict(d["asr"]) if d.get("asr") else None,
            roles_inferred=bool(d.get("roles_inferred", False)),
            meta=dict(d.get("meta") or {}),
            channel=d.get("channel"),
        )


@dataclass
class Evidence:
    """Where in a call something was found: the quote a reviewer reads and the second to jump to."""

    utterance: int | None
    role: str | None
    start: float | None
    end: float | None
    text: str
    span: tuple[int, int] | None = None  # matched characters within ``text``

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Evidence:
        span = d.get("span")
        return cls(
            utterance=d.get("utterance"),
            role=d.get("role"),
            start=d.get("start"),
            end=d.get("end"),
            text=str(d.get("text", "")),
            span=tuple(span) if span else None,  # type: ignore[arg-type]
        )


@dataclass
class Finding:
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

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Finding:
        return cls(
            call_id=str(d["call_id"]),
            rule=str(d["rule"]),
            name=str(d["name"]),
            category=str(d["category"]),
            severity=str(d["severity"]),
            message=str(d["message"]),
            evidence=[Evidence.from_dict(e) for e in d.get("evidence") or []],
            kind=str(d.get("kind", "violation")),
            confidence=float(d.get("confidence", 1.0)),
            needs_review=bool(d.get("needs_review", False)),
        )


@dataclass
class CallInspection:
    """The rule engine's output for one call.

    ``checked`` lists the rule codes that were evaluated; ``not_applicable`` maps the codes
    that were skipped to the reason (metadata scope, audio-only check on a text transcript...).
    """

    call_id: str
    findings: list[Finding] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    not_applicable: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CallInspection:
        return cls(
            call_id=str(d["call_id"]),
            findings=[Finding.from_dict(f) for f in d.get("findings") or []],
            checked=list(d.get("checked") or []),
            not_applicable=dict(d.get("not_applicable") or {}),
        )


@dataclass
class UtteranceEmotion:
    """Emotion of one utterance. ``negativity`` is 0 (calm/positive) .. 1 (very negative)."""

    index: int
    role: str
    negativity: float
    text_score: float
    voice_arousal: float | None = None  # loudness/pitch/rate rise vs the speaker's own baseline, z-units
    cues: list[str] = field(default_factory=list)  # lexicon cues that fired, e.g. "anger:太差了"

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> UtteranceEmotion:
        return cls(
            index=int(d["index"]),
            role=str(d["role"]),
            negativity=float(d["negativity"]),
            text_score=float(d["text_score"]),
            voice_arousal=d.get("voice_arousal"),
            cues=list(d.get("cues") or []),
        )


@dataclass
class RiskFlag:
    """An escalation risk: ``kind`` is one of media, regulator, lawyer, privacy, safety."""

    kind: str
    evidence: Evidence

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RiskFlag:
        return cls(kind=str(d["kind"]), evidence=Evidence.from_dict(d["evidence"]))


@dataclass
class Complaint:
    """Complaint analysis: ``type`` service/product/environment/price/process; ``priority``
    紧急危机 / 高度紧急 / 重要非紧急 / 一般."""

    type: str
    priority: str
    evidence: list[Evidence] = field(default_factory=list)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Complaint:
        return cls(
            type=str(d["type"]),
            priority=str(d["priority"]),
            evidence=[Evidence.from_dict(e) for e in d.get("evidence") or []],
        )


@dataclass
class CallEmotion:
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

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CallEmotion:
        return cls(
            call_id=str(d["call_id"]),
            utterances=[UtteranceEmotion.from_dict(u) for u in d.get("utterances") or []],
            customer_peak=float(d.get("customer_peak", 0.0)),
            customer_mean=float(d.get("customer_mean", 0.0)),
            agent_peak=float(d.get("agent_peak", 0.0)),
            agent_mean=float(d.get("agent_mean", 0.0)),
            trajectory=str(d.get("trajectory", "stable")),
            trajectory_delta=float(d.get("trajectory_delta", 0.0)),
            volatility=float(d.get("volatility", 0.0)),
            customer_angry=bool(d.get("customer_angry", False)),
            agent_lost_temper=bool(d.get("agent_lost_temper", False)),
            drivers=[Evidence.from_dict(e) for e in d.get("drivers") or []],
            complaint=Complaint.from_dict(d["complaint"]) if d.get("complaint") else None,
            risks=[RiskFlag.from_dict(r) for r in d.get("risks") or []],
            dissatisfied=None if d.get("dissatisfied") is None else float(d["dissatisfied"]),
            unresolved=None if d.get("unresolved") is None else float(d["unresolved"]),
            outcome_evidence=[Evidence.from_dict(e) for e in d.get("outcome_evidence") or []],
        )


# Scoring records (CallScore, AgentScorecard, ...) live in qc/scoring.py's section below this
# line once the scoring stage defines them; keep every inter-stage record in this module.


# --- scoring records (issue 5) ---


@dataclass
class Deduction:
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

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Deduction:
        return cls(
            rule=str(d["rule"]),
            points=float(d["points"]),
            status=str(d["status"]),
            message=str(d.get("message", "")),
            evidence=Evidence.from_dict(d["evidence"]) if d.get("evidence") else None,
        )


@dataclass
class ItemScore:
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

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ItemScore:
        return cls(
            item=str(d["item"]),
            name=str(d["name"]),
            dimension=str(d["dimension"]),
            rules=list(d.get("rules") or []),
            points=float(d["points"]),
            deducted=float(d.get("deducted", 0.0)),
            status=str(d.get("status", "ok")),
            fatal=bool(d.get("fatal", False)),
            severity=str(d.get("severity", "minor")),
            deductions=[Deduction.from_dict(x) for x in d.get("deductions") or []],
        )


@dataclass
class DimensionScore:
    """A scorecard dimension (服务规范, 业务知识...) in one call: points kept out of points applicable."""

    name: str
    points: float  # applicable points (not-applicable items left out)
    earned: float
    deducted: float = 0.0

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DimensionScore:
        return cls(
            name=str(d["name"]),
            points=float(d["points"]),
            earned=float(d["earned"]),
            deducted=float(d.get("deducted", 0.0)),
        )


@dataclass
class CallScore:
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

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CallScore:
        return cls(
            call_id=str(d["call_id"]),
            scorecard=str(d["scorecard"]),
            score=float(d["score"]),
            passed=bool(d["passed"]),
            pass_line=float(d["pass_line"]),
            earned=float(d["earned"]),
            applicable=float(d["applicable"]),
            agent_id=d.get("agent_id"),
            fatal=bool(d.get("fatal", False)),
            fatal_items=list(d.get("fatal_items") or []),
            dimensions=[DimensionScore.from_dict(x) for x in d.get("dimensions") or []],
            items=[ItemScore.from_dict(x) for x in d.get("items") or []],
            pending_review=int(d.get("pending_review", 0)),
            basis=str(d.get("basis", "machine")),
        )


@dataclass
class AgentScorecard:
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
    top_violations: list[dict[str, Any]] = field(default_factory=list)  # rule, name, hits, points, examples
    rank_in_team: int = 0
    team_size: int = 0
    fcr: float | None = None
    repeat_calls: int = 0
    trend: list[tuple[str, float, int]] = field(default_factory=list)
    #: ``mean_score``, ``pass_rate`` and ``fatal_calls`` count a call's reviewed score where a
    #: reviewer submitted one (qc serve); the machine's mean stays here, beside them
    machine_mean_score: float | None = None
    reviewed_calls: int = 0

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AgentScorecard:
        return cls(
            agent_id=str(d["agent_id"]),
            night=str(d["night"]),
            team=str(d["team"]),
            calls=int(d["calls"]),
            mean_score=float(d["mean_score"]),
            pass_rate=float(d["pass_rate"]),
            fatal_calls=int(d.get("fatal_calls", 0)),
            dimensions={str(k): float(v) for k, v in (d.get("dimensions") or {}).items()},
            top_violations=list(d.get("top_violations") or []),
            rank_in_team=int(d.get("rank_in_team", 0)),
            team_size=int(d.get("team_size", 0)),
            fcr=None if d.get("fcr") is None else float(d["fcr"]),
            repeat_calls=int(d.get("repeat_calls", 0)),
            trend=[(str(n), float(s), int(c)) for n, s, c in d.get("trend") or []],
            machine_mean_score=None if d.get("machine_mean_score") is None else float(d["machine_mean_score"]),
            reviewed_calls=int(d.get("reviewed_calls", 0)),
        )
