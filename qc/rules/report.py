"""One-line text form of findings, for the terminal and CI logs."""

from __future__ import annotations

from typing import Iterator

from qc.types import CallInspection, Finding

__all__ = ["finding_line", "finding_lines"]


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    s = int(seconds)
    return f"{s // 60:02d}:{s % 60:02d}"


def finding_line(f: Finding) -> str:
    """``CODE call_id@mm:ss role: message 「quote」`` (quote = the matched span, else the utterance)."""
    ev = f.evidence[0] if f.evidence else None
    where = f"{f.call_id}@{_clock(ev.start if ev else None)}"
    role = (ev.role if ev and ev.role else "call")
    quote = ""
    if ev and ev.text:
        quote = ev.text[ev.span[0]:ev.span[1]] if ev.span and ev.span[1] > ev.span[0] else ev.text
        quote = f" 「{quote}」"
    flag = " [needs review]" if f.needs_review else ""
    kind = " [risk]" if f.kind == "risk" else ""
    return f"{f.rule} {where} {role}: {f.message}{quote}{kind}{flag}"


def finding_lines(inspection: CallInspection) -> Iterator[str]:
    for f in inspection.findings:
        yield finding_line(f)
