"""Tag a call with the VOC taxonomy, quote the customer's reason for calling, estimate resolution.

The tags run on the rule engine (:class:`qc.rules.CallContext` and each tag's compiled condition),
so a tag is matched exactly like a rule: normalised text, pinyin for ``homophone``, rapidfuzz for
``similar``. Works on any channel: audio transcripts (with times), chats and tickets (without).
"""

from __future__ import annotations

import dataclasses
import math
import re
from functools import lru_cache
from typing import Any

from qc.rules.context import CallContext, NotApplicable
from qc.types import CallEmotion, Evidence, Transcript, Utterance
from qc.voc.model import CallVoc, TagHit
from qc.voc.taxonomy import Taxonomy

__all__ = ["TRIGGER_TURNS", "clean_text", "trigger_turns", "reason_sentence", "unresolved_estimate", "tag_call", "tag_calls"]

#: How many of the customer's substantive lines count as the trigger (the reason for calling).
TRIGGER_TURNS = 2

# Chat/Weibo addressing is not content: "@中国联通客服", "回复@x:", and "//@x: ..." (a quoted repost).
_REPOST = re.compile(r"//\s*@.*$", re.S)
_HANDLE = re.compile(r"(回复)?@[\w\-·]+[:：]?")
_PLACE = re.compile(r"我在[:：]\S*$|\S+·\S+\.\.\.$")
_MARKERS = ("@", "//", "http", "秒拍", "网页链接", "[", "我在", "·")  # lines without any of these need no cleaning
_ATTACHMENT = re.compile(r"https?://\S+|秒拍视频|O网页链接|\[[^\[\]]{1,6}\]")  # links, video/page cards, [emoji]
# Lines that open a call without saying anything yet: greetings, acknowledgements, identity answers.
_FILLER = re.compile(r"(喂|你好|您好|哈喽|hello|hi|嗯|啊|哦|噢|呃|额|对的|对|是的|是|好的|好|行|可以|谢谢|没有|在吗|有人吗|请问|客服|那个|就是|我|一下|了|的|吧|呢|呀|\d)")
# Three word characters that no filler can remove make a line substantive without the two passes below.
_FILLER_CHARS = "".join(sorted({c for c in _FILLER.pattern if c.isalpha()}))
_KEEPS = re.compile(rf"[^\W\d_{_FILLER_CHARS}](?:.*?[^\W\d_{_FILLER_CHARS}]){{2}}", re.S)
_NON_WORD = re.compile(r"[\W_]+")
_MARKER = re.compile("|".join(re.escape(m) for m in _MARKERS))
_SENT = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]*")
# Cues for the fallback resolution estimate, read on the customer's last lines.
_UNRESOLVED_CUES = (
    "没解决", "没有解决", "不能解决", "解决不了", "还是不行", "还是没", "还没", "依然", "仍然", "根本", "投诉", "怎么还",
    "到底", "没人", "不管", "算了", "呵呵", "垃圾", "坑", "再打", "一直", "敷衍", "无语", "失望", "不满意", "没用", "什么时候",
    "为什么", "没回复", "不回复", "不理",
)
_RESOLVED_CUES = (
    "解决了", "好了", "可以了", "搞定", "谢谢", "感谢", "明白了", "知道了", "收到", "好的", "辛苦", "满意", "没问题",
    "恢复了", "好使了", "给力", "赞", "到账了", "已经收到", "OK", "ok",
)


@lru_cache(maxsize=8192)
def clean_text(text: str) -> str:
    """A customer line without chat addressing (@handles, quoted reposts, check-in places)."""
    if not _MARKER.search(text):
        return text.strip(" ,，:：")
    text = _REPOST.sub("", text)
    text = _HANDLE.sub(" ", text)
    text = _ATTACHMENT.sub(" ", text)
    text = _PLACE.sub("", text.strip())
    return re.sub(r"\s+", " ", text).strip(" ,，:：")


def _customer(transcript: Transcript) -> list[int]:
    idx = [i for i, u in enumerate(transcript.utterances) if u.role == "customer"]
    return idx or [i for i, u in enumerate(transcript.utterances) if u.role != "agent"]


def _substantive(text: str) -> bool:
    low = text.lower()
    if _KEEPS.search(low):
        return True
    return len(_FILLER.sub("", _NON_WORD.sub("", low))) >= 3


def trigger_turns(transcript: Transcript, n: int = TRIGGER_TURNS) -> tuple[int, ...]:
    """The customer's trigger: their first ``n`` substantive lines (greetings, 嗯/对 and read-out
    numbers skipped), the lines that say why they called. Falls back to the first customer line."""
    return tuple(i for i in (_trigger(_view(transcript, keep_agent=True)[0], n)))


def _trigger(view: Transcript, n: int = TRIGGER_TURNS) -> tuple[int, ...]:
    cust = _customer(view)
    out = []
    for i in cust:
        if _substantive(view.utterances[i].text):
            out.append(i)
            if len(out) == n:
                break
    return tuple(out or cust[:1])


def _sentences(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _SENT.finditer(text) if m.group(0).strip()]


_PROBLEM_CUES = ("怎么", "为什么", "无法", "不能", "不了", "没有", "没", "不", "请问", "问", "想", "要", "投诉", "扣", "退",
                 "坏", "慢", "差", "错", "还", "吗", "？", "?", "！", "!")


def reason_sentence(transcript: Transcript, trigger: tuple[int, ...], hits: list[TagHit]) -> tuple[str, int | None]:
    """One sentence of the customer's that says why they called, and its utterance.

    The sentence holding the first tag's evidence, else the trigger sentence with the most problem
    cues (怎么/无法/扣/退 ...). Chat addressing is removed; long sentences are cut to 80 characters."""
    us = transcript.utterances
    for h in hits:
        e = h.evidence
        if e is not None and e.utterance is not None and e.utterance in trigger and e.span is not None:
            text = us[e.utterance].text
            for s, t in _sentences(text):
                if s <= e.span[0] < t:
                    quote = clean_text(text[s:t])
                    if _substantive(quote):
                        return _cut(quote), e.utterance
    best, best_i, best_score = "", None, -1.0
    for i in trigger:
        text = us[i].text
        for s, t in _sentences(text):
            quote = clean_text(text[s:t])
            if not _substantive(quote):
                continue
            score = sum(quote.count(c) for c in _PROBLEM_CUES) + min(len(quote), 40) / 40
            if score > best_score:
                best, best_i, best_score = quote, i, score
    return _cut(best), best_i


def _cut(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def unresolved_estimate(transcript: Transcript, emotion: CallEmotion | None = None, trigger: tuple[int, ...] = ()) -> tuple[float, str]:
    """Probability the customer's matter was left unresolved, and where it came from.

    The emotion stage's call-level model wins when the CallEmotion carries one (an ``unresolved``
    probability); else cues on the customer's last two lines after the trigger (没解决/还是不行 vs
    解决了/谢谢), moved by the emotion trajectory when known."""
    model = getattr(emotion, "unresolved", None) if emotion is not None else None
    if isinstance(model, (int, float)) and not isinstance(model, bool):
        return float(model), "model"
    us = transcript.utterances
    cust = _customer(transcript)
    after = [i for i in cust if not trigger or i > max(trigger)]
    last = after[-2:]
    text = "".join(clean_text(us[i].text) for i in last)
    bad = sum(1 for c in _UNRESOLVED_CUES if c in text)
    good = sum(1 for c in _RESOLVED_CUES if c in text)
    z = -0.2 + 0.9 * min(bad, 3) - 1.0 * min(good, 3)
    if not last:
        z += 0.4  # the customer never came back after stating the problem: nothing says it was settled
    if emotion is not None:
        z += {"worsened": 0.8, "recovered": -0.6}.get(emotion.trajectory, 0.0)
        if emotion.customer_angry:
            z += 0.4
    return round(1 / (1 + math.exp(-z)), 3), "cues"


def _channel(transcript: Transcript) -> str:
    ch = transcript.meta.get("channel")
    if ch:
        return str(ch)
    return "audio" if transcript.audio is not None or transcript.has_timing else "text"


def _view(transcript: Transcript, keep_agent: bool) -> tuple[Transcript, list[int]]:
    """The lines tags may look at (customer lines, plus agent lines when a tag reads the whole call),
    chat addressing removed; with each kept line's index in the original call."""
    us, index = [], []
    for i, u in enumerate(transcript.utterances):
        if u.role == "agent" and not keep_agent:
            continue
        if u.role != "agent":
            t = clean_text(u.text)
            if t != u.text:
                u = dataclasses.replace(u, text=t, words=[])
        us.append(u)
        index.append(i)
    return dataclasses.replace(transcript, utterances=us), index


def _compiled(taxonomy: Taxonomy) -> tuple[list[Any], bool, Any]:
    """The enabled tags, whether one reads the agent's lines, and the prefilter: once per taxonomy."""
    got = taxonomy.__dict__.get("_compiled")
    if got is None:
        from qc.voc.prefilter import Prefilter

        tags = [t for t in taxonomy if t.enabled]
        got = taxonomy.__dict__["_compiled"] = (tags, taxonomy.reads_agent, Prefilter(tags))
    return got


def tag_call(transcript: Transcript, taxonomy: Taxonomy, emotion: CallEmotion | None = None, prefilter: bool = True) -> CallVoc:
    """Tags, reason for calling and resolution state of one call.

    Args:
        transcript: the call (audio with times, or a chat / ticket without).
        taxonomy: from :func:`qc.voc.load_taxonomy`.
        emotion: the emotion stage's result, for the resolution state (optional).
        prefilter: skip tags that cannot hit (:mod:`qc.voc.prefilter`; same result, faster).

    Returns:
        A :class:`~qc.voc.model.CallVoc`; each tag carries the customer's line that earned it.
    """
    tags, reads_agent, pf = _compiled(taxonomy)
    widest = "call" if reads_agent else "customer"
    view, index = _view(transcript, keep_agent=reads_agent)
    trigger_v = _trigger(view)
    # Each scope gets a context holding just its lines: a keyword condition searches its whole
    # context in one pass, so a trigger-only tag then reads two lines, not the whole call.
    contexts: dict[Any, tuple[CallContext, list[int]]] = {}  # by scope, and by lines (scopes with the same lines share one)

    def context(scope: str) -> tuple[CallContext, list[int]]:
        got = contexts.get(scope)
        if got is None:
            if scope == "call":
                keep = tuple(range(len(view.utterances)))
            elif scope == "customer":
                keep = tuple(_customer(view))
            else:
                keep = tuple(trigger_v)
            got = contexts.get(keep)
            if got is None:
                sub = dataclasses.replace(view, utterances=[view.utterances[i] for i in keep])
                emo = None
                if emotion is not None:
                    pos = {index[k]: n for n, k in enumerate(keep)}
                    emo = dataclasses.replace(emotion, utterances=[
                        dataclasses.replace(e, index=pos[e.index]) for e in emotion.utterances if e.index in pos])
                got = contexts[keep] = (CallContext(sub, emo), [index[k] for k in keep])
            contexts[scope] = got
        return got

    pf = pf if prefilter else None
    # the phrases present anywhere the tags look (one scan): enough to rule a tag out in any scope
    present = pf.present(context(widest)[0].texts) if pf is not None else None

    hits: list[TagHit] = []
    for tag in tags:
        ctx, where = context(tag.scope)
        cond = pf.condition(tag, present, ctx.texts) if pf is not None else tag.match
        if cond is None:
            continue
        try:
            found = cond.run(ctx, ctx.all)
        except NotApplicable:
            continue
        if not found:
            continue
        h = next((x for x in found if x.utterance is not None), None)
        ev = None
        if h is not None:
            i = where[h.utterance]
            u: Utterance = transcript.utterances[i]
            span = h.span
            seen = ctx.utterances[h.utterance].text
            if seen != u.text and span is not None:
                # matched on the cleaned line: point at the same words in the original
                k = u.text.find(seen[span[0]:span[1]])
                span = (k, k + span[1] - span[0]) if k >= 0 else None
            ev = Evidence(utterance=i, role=u.role, start=u.start, end=u.end, text=u.text, span=span)
        hits.append(TagHit(tag.code, tag.label, tag.stage, tag.department, ev))
    trigger = tuple(index[i] for i in trigger_v)
    reason, ri = reason_sentence(transcript, trigger, hits)
    unresolved, source = unresolved_estimate(transcript, emotion, trigger)
    return CallVoc(
        call_id=transcript.call_id, tags=hits, reason=reason, reason_utterance=ri,
        reason_start=transcript.utterances[ri].start if ri is not None else None,
        unresolved=unresolved, resolution_source=source, trigger=list(trigger), channel=_channel(transcript),
    )


def tag_calls(results: list[Any], taxonomy: Taxonomy) -> list[CallVoc]:
    """:func:`tag_call` over call results (anything with ``transcript`` and ``emotion``) or transcripts."""
    out = []
    for r in results:
        if isinstance(r, Transcript):
            out.append(tag_call(r, taxonomy))
        else:
            out.append(tag_call(r.transcript, taxonomy, getattr(r, "emotion", None)))
    return out
