"""Records of the VOC stage: a call's tags, its reason for calling, and whether it was resolved."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from qc.types import Evidence

__all__ = ["TagHit", "CallVoc"]


@dataclass
class TagHit:
    """One tag on one call with the customer's words that earned it."""

    code: str
    label: str
    stage: str
    department: str
    evidence: Evidence | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TagHit:
        return cls(code=str(d["code"]), label=str(d.get("label", "")), stage=str(d.get("stage", "")),
                   department=str(d.get("department", "")),
                   evidence=Evidence.from_dict(d["evidence"]) if d.get("evidence") else None)


@dataclass
class CallVoc:
    """What the customer called about (any channel: audio, chat, ticket).

    ``reason`` is one quoted sentence of the customer's, with ``reason_start`` (seconds) when the
    transcript has times. ``unresolved`` is the probability the matter was left unresolved:
    the emotion stage's call-level model when it provides one (``resolution_source`` "model"),
    else a cue-based estimate ("cues"). ``trigger`` lists the customer's trigger utterances.
    """

    call_id: str
    tags: list[TagHit] = field(default_factory=list)
    reason: str = ""
    reason_utterance: int | None = None
    reason_start: float | None = None
    unresolved: float = 0.0
    resolution_source: str = "cues"
    trigger: list[int] = field(default_factory=list)
    channel: str = ""

    @property
    def resolved(self) -> bool:
        return self.unresolved < 0.5

    @property
    def codes(self) -> list[str]:
        return [t.code for t in self.tags]

    @property
    def departments(self) -> list[str]:
        return list(dict.fromkeys(t.department for t in self.tags))

    def quote(self) -> str:
        """The reason as the report prints it: ``[01:23] “…”`` (no time for text channels)."""
        if not self.reason:
            return ""
        if self.reason_start is None:
            return f"“{self.reason}”"
        m, s = divmod(int(self.reason_start), 60)
        return f"[{m:02d}:{s:02d}] “{self.reason}”"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CallVoc:
        return cls(
            call_id=str(d["call_id"]), tags=[TagHit.from_dict(t) for t in d.get("tags") or []],
            reason=str(d.get("reason", "")), reason_utterance=d.get("reason_utterance"), reason_start=d.get("reason_start"),
            unresolved=float(d.get("unresolved", 0.0)), resolution_source=str(d.get("resolution_source", "cues")),
            trigger=list(d.get("trigger") or []), channel=str(d.get("channel", "")),
        )
