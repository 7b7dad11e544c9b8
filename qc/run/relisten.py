"""Listening again before a required rule deducts (:meth:`qc.run.pipeline.CallPipeline.relisten`),
and needs_review for required-rule deductions on a channel whose speech the hallucination guard
removed."""

from __future__ import annotations

import time

__all__ = ["relisten"]


def relisten(pipeline, transcript, audio, inspection):
    """Listen again before a required rule deducts: its window of the role's channel is
    recognised with a wider beam and the required rules' own words as hotwords, and the rule
    decides on what is heard then.

    Rules about to deduct in overlapping windows of one channel (OPEN01 and IDEN01 both look
    at the agent's first seconds) share one decode, with the words of every required rule
    whose window it covers; a closing rule's window is decoded with the closing's own words,
    which whole-channel hotwords leave out (qc.rules.vocabulary, ``endings``). A rule without
    words to listen for is not re-listened: without them the decode is the first pass again.
    A re-heard window is used only when it reads as the same speech as the first pass
    (``RELISTEN_MIN_AGREEMENT``): words in the prompt can make Whisper write a new text rather
    than hear the old one better. A re-heard utterance replaces the first pass's only where it
    makes no rule fire that did not fire before (a re-heard 公后 must not cost OPEN01 what IDEN01
    gains, nor new word times a RATE01 finding).

    ``pipeline`` is the :class:`~qc.run.pipeline.CallPipeline` whose rules, channel map and
    transcriber (built only when a window is re-listened) are used.

    Returns:
        The transcript (a patched copy when a re-listened window let a rule pass) and the
        codes of the rules that were re-checked. Each re-check is listed in the transcript's
        ``meta.asr_relistened`` (rule, window, what was heard, whether the rule then passed,
        its share of the decode's seconds).
    """
    import copy

    from qc.rules import inspect
    from qc.rules.model import RuleSet
    from qc.rules.vocabulary import vocabulary

    def role_of(rule):
        return (rule.evidence_scope.params.get("role") if rule.evidence_scope is not None else None) or "agent"

    def tight(rule, window, role):  # the scope's own utterances, not a fixed 15 s
        scope = rule.evidence_scope.params if rule.evidence_scope is not None else {}
        a, b = window
        us = [u for u in transcript.utterances if u.role == role and u.start is not None and u.end is not None]
        if scope.get("first_seconds"):
            end = a + 0.5 + scope["first_seconds"]
        elif scope.get("first"):
            end = us[min(scope["first"], len(us)) - 1].start + 0.01
        else:
            return window
        return a, min(b, max([end + 0.5] + [u.end + 0.5 for u in us if a <= u.start < end]))

    deducting = []
    for f in inspection.findings:
        try:
            rule = pipeline.rules.get(f.rule)
        except KeyError:
            continue
        if rule.polarity == "required" and all(r.code != rule.code for r in deducting):
            deducting.append(rule)
    required = [r for r in pipeline.rules if r.enabled and r.polarity == "required"]
    groups: list[dict] = []  # one decode each: channel, window, rules to decide
    for rule in deducting:
        role = role_of(rule)
        if not vocabulary(RuleSet([rule]), role, endings=True):
            continue
        window = _rule_window(rule, transcript, role)
        channel = _channel_of(transcript, role, pipeline.config.channel_map)
        if window is None or channel is None:
            continue
        a, b = tight(rule, window, role)
        for g in groups:
            if g["channel"] == channel and g["role"] == role and a < g["end"] and g["start"] < b:
                g["start"], g["end"] = min(a, g["start"]), max(b, g["end"])
                g["rules"].append(rule)
                break
        else:
            groups.append({"channel": channel, "role": role, "start": a, "end": b, "rules": [rule]})

    rechecked: set[str] = set()
    notes = []
    current = transcript
    for g in groups:
        channel, role, a, b = g["channel"], g["role"], g["start"], g["end"]
        covered = [r for r in required if role_of(r) == role
                   and (w := _rule_window(r, current, role)) is not None and w[0] < b and a < w[1]]
        words = vocabulary(RuleSet(list({r.code: r for r in g["rules"] + covered}.values())), role, endings=True)
        t0 = time.perf_counter()
        heard = pipeline.transcriber.relisten(audio, channel, a, b, words=words)
        seconds = time.perf_counter() - t0
        first = [u for u in current.utterances if u.channel == channel and u.start is not None and a <= u.start < b]
        agreement = _agreement(first, heard)
        used = heard if agreement >= RELISTEN_MIN_AGREEMENT else []
        before = {f.rule for f in inspect(current, pipeline.rules).findings}
        targets = {r.code for r in g["rules"]}
        candidate = copy.deepcopy(current)
        for h in used:
            h.role = role
            trial = copy.copy(candidate)
            trial.utterances = sorted(
                [u for u in candidate.utterances if not (
                    u.channel == channel and u.start is not None and a <= u.start < b
                    and u.start < h.end and h.start < (u.end or u.start))] + [h],
                key=lambda u: (u.start or 0.0, u.channel or 0),
            )
            if not {f.rule for f in inspect(trial, pipeline.rules).findings} - before - targets:
                candidate = trial
        still = {f.rule for f in inspect(candidate, pipeline.rules.only(*targets)).findings}
        # a rule that passes only on words the first pass heard (and the rule rejected there) has
        # not been heard better: the patch is not taken
        stale = {r.code for r in g["rules"] if r.code not in still and not _new_words(r, candidate, first)}
        if stale:
            still = set(targets)
        for rule in g["rules"]:
            rechecked.add(rule.code)
            notes.append({"rule": rule.code, "channel": channel, "start": round(a, 2), "end": round(b, 2),
                          "heard": "".join(u.text for u in heard), "agreement": round(agreement, 1),
                          "used": (bool(used) or not heard) and not stale, "passed": rule.code not in still,
                          "seconds": round(seconds / len(g["rules"]), 3)})
        if still != targets:
            current = candidate
    if notes:
        if current is transcript:
            current = copy.copy(transcript)
        current.meta = {**current.meta, "asr_relistened": notes}
    return current, rechecked


RELISTEN_SECONDS = 15.0  # the least a re-listened window holds
RELISTEN_MAX_SECONDS = 30.0  # one Whisper window
# How much of the first pass's text of the window the re-heard text must share (rapidfuzz ratio of
# the normalised texts, 0-100) to be used: a re-reading of the same speech, not a new text the
# hotwords prompted. Closing windows re-heard with 祝您生活愉快 in the prompt once came back as
# 「那级短信的数据处由处宝科学员祝您生活愉快祝您」 for 「我会反馈这个情况给相关测试部门。好的，那就先这样。」
RELISTEN_MIN_AGREEMENT = 50.0


def _agreement(first, heard) -> float:
    """Similarity (0-100) of a window's first-pass utterances and its re-heard ones, on normalised
    text (so 十二八三八 and 2838 read the same); 100 when both are empty (rapidfuzz's own)."""
    from rapidfuzz import fuzz

    from qc.normalize import normalize_text

    x, y = (normalize_text("".join(u.text for u in us)) for us in (first, heard))
    return float(fuzz.ratio(x, y))


def _new_words(rule, transcript, first) -> bool:
    """Whether ``rule`` passes on ``transcript`` on words that the first pass's utterances ``first``
    of the window did not hold (normalised text: 赶些 re-heard as 感谢 is new). Re-listening with the
    rule's words in the prompt can also lose the words around a phrase the first pass heard and the
    rule rejected there:
    「请问您是旺祭服务密码了吗」 (忘记服务密码: nothing checked) came back 「请问您是既服务密码了吗」
    (sixth TTS set, T019); that is not the check heard at last."""
    from qc.normalize import normalize_text
    from qc.rules.context import CallContext, NotApplicable

    ctx = CallContext(transcript, None)
    try:
        hits = rule.match.run(ctx, ctx.all)
    except NotApplicable:
        return True
    before = normalize_text("".join(u.text for u in first))
    return any(not (said := normalize_text(str(h.value or ""))) or said not in before for h in hits)


def _rule_window(rule, transcript, role: str) -> tuple[float, float] | None:
    """Seconds of the call a required rule looks at (its scope's first/last N utterances or
    seconds of ``role``), widened to whole utterances; ``None`` for a rule without such a scope."""
    scope = rule.evidence_scope.params if rule.evidence_scope is not None else {}
    us = [u for u in transcript.utterances if u.role == role and u.start is not None and u.end is not None]
    if not us:
        return None
    if scope.get("first_seconds"):
        a = max(us[0].start - 0.5, 0.0)
        b = a + max(scope["first_seconds"] + 1.0, RELISTEN_SECONDS)
        b = max([b] + [u.end for u in us if a <= u.start < b and u.end - a <= RELISTEN_MAX_SECONDS])
    elif scope.get("first"):
        a = max(us[0].start - 0.5, 0.0)
        b = max(us[min(scope["first"], len(us)) - 1].end + 0.5, a + RELISTEN_SECONDS)
        b = min(b, a + RELISTEN_MAX_SECONDS)
        b = max([b] + [u.end for u in us if a <= u.start < b and u.end - a <= RELISTEN_MAX_SECONDS])
    elif scope.get("last") or scope.get("last_seconds"):
        b = us[-1].end + 0.5
        n = scope.get("last") or 1
        a = min(us[-min(n, len(us))].start, b - (scope.get("last_seconds") or 0.0), b - RELISTEN_SECONDS)
        a = max(a, b - RELISTEN_MAX_SECONDS, 0.0)
        a = min([a] + [u.start for u in us if u.start < a < u.end and b - u.start <= RELISTEN_MAX_SECONDS])
    else:
        return None
    return a, b


def _channel_of(transcript, role: str, channel_map) -> int | None:
    for u in transcript.utterances:
        if u.role == role and u.channel is not None:
            return u.channel
    roles = list(channel_map or ("agent", "customer"))
    return roles.index(role) if role in roles and (transcript.audio is None or transcript.audio.channels > 1) else None


def _review_dropped_speech(transcript, inspection, rules, channel_map) -> None:
    """Speech the hallucination guard removed from a channel makes the required-rule deductions on
    that channel's role needs_review: "the agent never said X" is unproven when some of what the
    agent said was thrown away."""
    dropped = transcript.meta.get("asr_dropped") or []
    if not dropped:
        return
    roles = list(channel_map or ("agent", "customer"))
    by_channel = {u.channel: u.role for u in transcript.utterances if u.channel is not None}
    lost = {by_channel.get(d.get("channel"), roles[d["channel"]] if isinstance(d.get("channel"), int)
                           and d["channel"] < len(roles) else "unknown") for d in dropped}
    for f in inspection.findings:
        try:
            rule = rules.get(f.rule)
        except KeyError:
            continue
        if rule.polarity != "required":
            continue
        role = rule.evidence_scope.params.get("role") if rule.evidence_scope is not None else None
        if role is None or role in lost or "unknown" in lost:
            f.needs_review = True
            f.message += "（该声道有被识别过滤的语音，需人工复核）"
