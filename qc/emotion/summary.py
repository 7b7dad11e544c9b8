"""Plain-text summary of a CallEmotion for the terminal (``qc emotion score``)."""

from __future__ import annotations

from qc.types import CallEmotion, Evidence

__all__ = ["summary_lines"]


def _at(e: Evidence) -> str:
    when = f"{e.start:.1f}s" if e.start is not None else f"#{e.utterance}"
    return f"[{when} {e.role}] {e.text}"


def summary_lines(call: CallEmotion) -> list[str]:
    """The per-call summary a team lead reads: scores, flags, complaint, risks, drivers."""
    flags = [name for name, on in (("customer angry", call.customer_angry),
                                   ("agent lost temper", call.agent_lost_temper)) if on]
    lines = [
        f"{call.call_id}: customer negativity peak {call.customer_peak:.2f} mean {call.customer_mean:.2f}; "
        f"trajectory {call.trajectory} ({call.trajectory_delta:+.2f}); volatility {call.volatility:.2f}; "
        f"agent negativity peak {call.agent_peak:.2f}" + (f"; {', '.join(flags)}" if flags else ""),
    ]
    if call.complaint is not None:
        lines.append(f"  complaint: {call.complaint.type}, priority {call.complaint.priority}")
    for r in call.risks:
        lines.append(f"  risk {r.kind}: {_at(r.evidence)}")
    for d in call.drivers:
        lines.append(f"  driver: {_at(d)}")
    return lines
