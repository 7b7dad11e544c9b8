"""Plain-text summary of a CallEmotion for the terminal (``qc emotion score``)."""

from __future__ import annotations

from typing import Iterable

from qc.types import CallEmotion, Evidence, Finding

__all__ = ["summary_lines", "mood_label", "outcome_text", "risk_names", "RISK_NAMES"]

RISK_NAMES = {"media": "媒体曝光", "regulator": "监管投诉", "lawyer": "法律诉讼", "privacy": "隐私泄露", "safety": "人身安全"}


def risk_names(findings: Iterable[Finding] = (), call: CallEmotion | None = None) -> list[str]:
    """The risks raised on a call, in Chinese, once each: the rules' risk findings (the one risk
    detector, RISK01-05: 媒体曝光, 监管投诉…; another risk rule by its message), plus the flags an
    emotion result saved before risk flags moved to the rules still carries."""
    names = [RISK_NAMES.get(f.name.rsplit(".", 1)[-1], f.message) for f in findings if f.kind == "risk"]
    if call is not None:
        names += [RISK_NAMES.get(r.kind, r.kind) for r in call.risks]
    return list(dict.fromkeys(names))


def mood_label(call: CallEmotion, findings: Iterable[Finding] = ()) -> str:
    """The customer's mood in one word for reports. Never 平稳 (steady) when a risk was raised
    (``findings``: the call's rule findings, whose risk flags come first), the customer was angry,
    or the call model thinks the customer left dissatisfied."""
    risks = risk_names(findings, call)
    if risks:
        return "风险: " + "、".join(risks)
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
    """The per-call summary a team lead reads: scores, flags, complaint, drivers (risk flags are
    the rules' findings, RISK01-05)."""
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
    for d in call.drivers:
        lines.append(f"  driver: {_at(d)}")
    return lines
