"""Run a rule set over one call and turn hits into findings with evidence."""

from __future__ import annotations

from typing import Any

from qc.rules.context import CallContext, Hit, NotApplicable
from qc.rules.model import Rule, RuleSet
from qc.types import CallEmotion, CallInspection, Evidence, Finding, Transcript, Utterance

__all__ = ["inspect", "REVIEW_BELOW"]

#: Default ASR confidence under which a hit's evidence is marked needs_review (rules may override).
REVIEW_BELOW = 0.6


def inspect(
    transcript: Transcript,
    rules: RuleSet,
    emotion: CallEmotion | None = None,
    review_below: float = REVIEW_BELOW,
) -> CallInspection:
    """Apply every enabled rule to one call.

    Args:
        transcript: the call (audio-derived with times, or text-only).
        rules: from :func:`qc.rules.load_rules`.
        emotion: the emotion stage's result; the ``sentiment`` condition uses it, and falls back to
            ``qc.emotion.score_utterances`` on the text when it is not given.
        review_below: ASR confidence under which a finding is marked ``needs_review``.

    Returns:
        The findings (violations and risk flags) with evidence, the codes checked, and the codes
        that did not apply to this call with the reason.
    """
    ctx = CallContext(transcript, emotion)
    result = CallInspection(call_id=transcript.call_id)
    channel = transcript.contact_channel
    for rule in rules:
        if not rule.enabled:
            continue
        reason = _not_applicable_by_channel(rule, channel) or _not_applicable_by_meta(rule, transcript.meta)
        if reason:
            result.not_applicable[rule.code] = reason
            continue
        try:
            hits = rule.match.run(ctx, ctx.all)
            findings = _findings(rule, ctx, hits, review_below)
        except NotApplicable as e:
            result.not_applicable[rule.code] = str(e)
            continue
        result.checked.append(rule.code)
        result.findings.extend(findings)
    return result


def _not_applicable_by_channel(rule: Rule, channel: str | None) -> str:
    # A call whose channel nobody stated is inspected by every rule, as before channels existed.
    if rule.channels and channel is not None and channel not in rule.channels:
        return f"applies only to {' / '.join(rule.channels)} (this call: {channel})"
    return ""


def _not_applicable_by_meta(rule: Rule, meta: dict[str, Any]) -> str:
    # A call without the field is inspected: calls.csv may lack the column.
    for key, allowed in rule.when.items():
        value = meta.get(key)
        if value not in (None, "") and str(value) not in allowed:
            return f"applies only when {key} is {' / '.join(sorted(allowed))} (this call: {value!r})"
    return ""


def _findings(rule: Rule, ctx: CallContext, hits: list[Hit], review_below: float) -> list[Finding]:
    threshold = rule.review_below if rule.review_below is not None else review_below
    us = ctx.utterances
    if rule.polarity == "required":
        if hits:
            return []
        scope = rule.evidence_scope.run(ctx, ctx.all) if rule.evidence_scope is not None else []
        evidence = [_evidence(us, h) for h in scope[:3] if h.utterance is not None]
        confs = [_confidence(us[h.utterance], None) for h in scope[:3] if h.utterance is not None]
        conf = min(confs) if confs else 1.0
        finding = _finding(rule, ctx, rule.message, evidence, conf, threshold)
        if _roles_unknown(ctx.transcript):
            # Mono call whose agent could not be told apart: "the agent never said X" is unproven.
            finding.needs_review = True
            finding.message += "（单声道录音未能区分坐席，需人工复核）"
        return [finding]
    out = []
    for h in hits:
        if rule.max_findings is not None and len(out) >= rule.max_findings:
            break
        detail = h.note or ("" if h.value is None else str(h.value))
        message = f"{rule.message}（{detail}）" if detail else rule.message
        conf = _confidence(us[h.utterance], h.span) if h.utterance is not None else 1.0
        ev = [_evidence(us, h)] if h.utterance is not None or h.start is not None else []
        out.append(_finding(rule, ctx, message, ev, conf, threshold))
    return out


def _roles_unknown(transcript: Transcript) -> bool:
    """Roles were guessed (mono) and no utterance could be given to the agent."""
    return transcript.roles_inferred and not any(u.role == "agent" for u in transcript.utterances)


def _finding(rule: Rule, ctx: CallContext, message: str, evidence: list[Evidence], conf: float, threshold: float) -> Finding:
    return Finding(
        call_id=ctx.transcript.call_id, rule=rule.code, name=rule.name, category=rule.category,
        severity=rule.severity, message=message, evidence=evidence, kind=rule.kind,
        confidence=round(conf, 3), needs_review=conf < threshold,
    )


def _evidence(us: list[Utterance], h: Hit) -> Evidence:
    if h.utterance is None:
        return Evidence(utterance=None, role=None, start=h.start, end=h.end, text="")
    u = us[h.utterance]
    return Evidence(
        utterance=h.utterance, role=u.role,
        start=h.start if h.start is not None else u.start,
        end=h.end if h.end is not None else u.end,
        text=u.text, span=h.span,
    )


def _confidence(u: Utterance, span: tuple[int, int] | None) -> float:
    """ASR confidence of the evidence: the lowest word probability inside ``span`` when words line up
    with the text, else the utterance's confidence, else 1 (hand-written text)."""
    if u.words and span is not None:
        pos, probs = 0, []
        text = u.text
        for w in u.words:
            wt = w.text.strip()
            k = text.find(wt, pos) if wt else -1
            if k < 0:
                probs = []
                break
            if k < span[1] and k + len(wt) > span[0]:
                probs.append(w.probability)
            pos = k + len(wt)
        if probs:
            return min(probs)
    if u.confidence is not None:
        return u.confidence
    if u.words:
        return sum(w.probability for w in u.words) / len(u.words)
    return 1.0
