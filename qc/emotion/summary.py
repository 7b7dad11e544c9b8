"""Plain-text summary of a CallEmotion for the terminal (``qc emotion score``)."""

from __future__ import annotations

from qc.types import CallEmotion, Evidence

__all__ = ["summary_lines", "mood_label", "outcome_text"]

_RISK_NAMES = {"media": "媒体曝光", "regulator": "监管投诉", "lawyer": "法律诉讼", "privacy": "隐私泄露", "safety": "人身安全"}


def mood_label(call: CallEmotion) -> str:
    """The customer's mood in one word for reports. Never 平稳 (steady) when a risk was raised,
    the customer was angry, or the call model thinks the customer left dissatisfied."""
    if call.risks:
        return "风险: " + "、".join(dict.fromkeys(_RISK_NAMES.get(r.kind, r.kind) for r in call.risks))
    if call.customer_angry:
        return "愤怒"
    if call.trajectory == "worsened":
        return "恶化"
    if call.trajectory == "recovered":
        return "好转"
    if call.dissatisfied is not None and call.dissatisfied >= 0.5:
        return "不满"
    return "平稳"


def outcome_text(call: CallEmotion) -> str:
    """How sure the call models are, e.g. "不满意 83% · 未解决 71%" ("" when they did not run)."""
    if call.dissatisfied is None:
        return ""
    out = f"不满意 {100 * call.dissatisfied:.0f}%"
    if call.unresolved is not None:
        out += f" · 未解决 {100 * call.unresolved:.0f}%"
    return out


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
    if call.dissatisfied is not None:
        lines.append(f"  call model: P(dissatisfied) {call.dissatisfied:.2f}, P(unresolved) {call.unresolved:.2f}"
                     " (calibrated on annotated helpdesk dialogues)")
        for e in call.outcome_evidence:
            lines.append(f"  why: {_at(e)}")
    if call.complaint is not None:
        lines.append(f"  complaint: {call.complaint.type}, priority {call.complaint.priority}")
    for r in call.risks:
        lines.append(f"  risk {r.kind}: {_at(r.evidence)}")
    for d in call.drivers:
        lines.append(f"  driver: {_at(d)}")
    return lines
