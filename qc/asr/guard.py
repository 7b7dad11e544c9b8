"""Hallucination guard: keep what was said, drop only what nobody said.

Whisper was trained on subtitled video, so on silence it tends to "hear" subtitle credits and
outro phrases, and on long or noisy stretches it can loop (「一年了,」 twenty times). A rule
engine must never fire on words nobody said, and must never lose words that were said:

- known phantom phrases are cut out of a segment (and the segment goes if nothing is left);
- a looping segment is trimmed to its real content (:func:`trim_repeats`), not dropped;
- words the aligner could not place in the audio at the end of a segment (no duration, piled on
  its last instant) are cut (:func:`trim_unplaced`): Whisper echoes its prompt there;
- a segment whose decoder statistics say "not speech" is removed only when the VAD found no
  speech behind it (the Transcriber decides that; it knows where the speech is).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from qc.normalize import to_simplified
from qc.types import Word

__all__ = ["tidy_text", "PHANTOM_PHRASES", "GuardOptions", "RawSegment", "check_segment", "strip_phantoms",
           "trim_repeats", "trim_unplaced", "is_repetitive"]

# Subtitle credits and video outros that Whisper emits for Mandarin silence or noise. None of
# them is something an agent or a customer says on a service call.
PHANTOM_PHRASES: tuple[str, ...] = (
    "字幕由Amara.org社区提供",
    "由Amara.org社区提供的字幕",
    "Amara.org",
    "请不吝点赞 订阅 转发 打赏支持明镜与点点栏目",
    "请不吝点赞 订阅 转发 打赏",
    "点赞 订阅 转发 打赏",
    "明镜与点点栏目",
    "谢谢观看",
    "感谢观看",
    "感谢您的观看",
    "谢谢大家观看",
    "欢迎订阅",
    "订阅我的频道",
    "记得订阅",
    "中文字幕志愿者",
    "字幕志愿者",
    "字幕制作",
    "字幕提供",
    "字幕by",
    "本字幕由",
    "优优独播剧场",
    "YoYo Television Series Exclusive",
    "下集预告",
    "我们下期再见",
    "下期再见",
)

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


@dataclass
class RawSegment:
    """A backend's recognised segment before cleaning; times in seconds of the channel."""

    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    compression_ratio: float = 1.0


@dataclass(frozen=True)
class GuardOptions:
    """Thresholds for :func:`check_segment` (recorded in the transcript's ASR options)."""

    no_speech_prob: float = 0.6  # with avg_logprob below logprob_with_no_speech: silence
    logprob_with_no_speech: float = -1.0
    min_avg_logprob: float = -1.8  # below this the decoder was guessing
    max_compression_ratio: float = 2.4  # above this the text repeats itself
    max_repeat: int = 6  # the same 1-4 character unit this many times in a row

    def as_dict(self) -> dict[str, float | int]:
        return {
            "guard_no_speech_prob": self.no_speech_prob,
            "guard_logprob_with_no_speech": self.logprob_with_no_speech,
            "guard_min_avg_logprob": self.min_avg_logprob,
            "guard_max_compression_ratio": self.max_compression_ratio,
            "guard_max_repeat": self.max_repeat,
        }




_CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}0-9])|(?<=[{_CJK}0-9])\s+(?=[{_CJK}])")


def tidy_text(text: str) -> str:
    """Simplified characters, no spaces between Chinese characters (Whisper puts them at pauses)."""
    return _CJK_GAP.sub("", to_simplified(text)).strip()


def _norm(text: str) -> str:
    return _NON_WORD.sub("", to_simplified(text)).lower()


@lru_cache(maxsize=1)
def _phantom_patterns() -> tuple[re.Pattern[str], ...]:
    pats = []
    for phrase in sorted({_norm(p) for p in PHANTOM_PHRASES}, key=len, reverse=True):
        pats.append(re.compile(r"[\W_]*".join(re.escape(c) for c in phrase), re.IGNORECASE))
    return tuple(pats)


def _repeats(text: str, max_repeat: int) -> bool:
    compact = _norm(text)
    return bool(re.search(r"(.{1,4}?)\1{%d,}" % (max_repeat - 1), compact))


def strip_phantoms(segment: RawSegment) -> RawSegment | None:
    """Cut known phantom phrases out of a segment; ``None`` when nothing real is left."""
    if segment.words:
        joined = "".join(w.text for w in segment.words)
    else:
        joined = segment.text
    spans = [m.span() for pat in _phantom_patterns() for m in pat.finditer(joined)]
    if not spans:
        return segment
    if segment.words:
        kept, pos = [], 0
        for w in segment.words:
            a, b = pos, pos + len(w.text)
            pos = b
            if not any(a < e and s < b for s, e in spans):
                kept.append(w)
        text = tidy_text("".join(w.text for w in kept))
        words = kept
    else:
        text, words = joined, []
        for s, e in sorted(spans, reverse=True):
            text = text[:s] + text[e:]
    if len(_norm(text)) == 0:
        return None
    start = words[0].start if words else segment.start
    end = words[-1].end if words else segment.end
    return RawSegment(start, end, text.strip(), words, segment.avg_logprob, segment.no_speech_prob,
                      segment.compression_ratio)


def is_repetitive(reason: str | None) -> bool:
    """True for the :func:`check_segment` reasons that :func:`trim_repeats` can repair."""
    return bool(reason) and reason.startswith("repetitive")


# a unit of 1-15 characters said three or more times in a row; between repeats, punctuation only
_LOOP = re.compile(r"(.{1,15}?)\1{2,}")


def trim_repeats(segment: RawSegment) -> RawSegment | None:
    """A looping segment cut down to its real content: every run of one unit repeated three or
    more times in a row keeps its first occurrence; the words around the loop stay.
    ``None`` when nothing but punctuation is left."""
    if segment.words:
        chars: list[tuple[str, int]] = []
        for i, w in enumerate(segment.words):
            chars.extend((c, i) for c in _norm(w.text))
        compact = "".join(c for c, _ in chars)
        drop = [False] * len(chars)
        for m in _LOOP.finditer(compact):
            unit, end = m.group(1), m.end()
            while end < len(compact) and compact[end] == unit[(end - m.end()) % len(unit)] and end - m.end() < len(unit) - 1:
                end += 1  # the loop's last, unfinished repeat
            for k in range(m.start() + len(unit), end):
                drop[k] = True
        kept_idx = {i for (c, i), d in zip(chars, drop) if not d}
        words, last_kept = [], False
        for i, w in enumerate(segment.words):
            has_chars = any(j == i for _, j in chars)
            keep = i in kept_idx if has_chars else last_kept
            if keep:
                words.append(w)
            if has_chars:
                last_kept = keep
        return _with_words(segment, words)
    text = tidy_text(segment.text)
    sep = r"[\W_]*"
    loop = re.compile(r"((?:\w" + sep + r"){1,15}?)\1{2,}")
    text = loop.sub(lambda m: m.group(1), text)
    if not _norm(text):
        return None
    return RawSegment(segment.start, segment.end, text, [], segment.avg_logprob, segment.no_speech_prob,
                      _compression_ratio(text))


UNPLACED_S = 0.02  # a word shorter than this was not placed in the audio
UNPLACED_RUN = 2  # words in the trailing run before it is cut
UNPLACED_LEAD_PROBABILITY = 0.1  # the word before the run, stretched over the leftover audio


def trim_unplaced(segment: RawSegment) -> tuple[RawSegment | None, list[Word]]:
    """The segment without the words at its end that the aligner could not place in the audio.

    With hotwords in the prompt, Whisper can go on writing after the speech has ended (「…帮您的吗」
    then 「好下午好下午好下午好」, 「…您的配合」 then 「您的身份证证件号您的身份证」): the alignment gives
    those words no duration, all on the segment's last instant, and the first of them, stretched
    over whatever audio was left, a probability near 0. A trailing run of ``UNPLACED_RUN`` or more
    words shorter than ``UNPLACED_S`` is cut, with the word before it when its probability is
    under ``UNPLACED_LEAD_PROBABILITY``. Real speech is placed: its words take time.

    Returns:
        The trimmed segment (the same object when nothing is cut; ``None`` when nothing is
        left) and the words cut.
    """
    words = segment.words
    k = len(words)
    while k > 0 and words[k - 1].end - words[k - 1].start < UNPLACED_S:
        k -= 1
    if len(words) - k < UNPLACED_RUN:
        return segment, []
    if k > 0 and words[k - 1].probability < UNPLACED_LEAD_PROBABILITY:
        k -= 1
    return _with_words(segment, words[:k], segment.start), words[k:]  # nothing was cut at its start


def _with_words(segment: RawSegment, words: list[Word], start: float | None = None) -> RawSegment | None:
    """``segment`` cut down to ``words`` (from the first of them, or ``start``); ``None`` when
    nothing but punctuation is left."""
    text = tidy_text("".join(w.text for w in words))
    if not words or not _norm(text):
        return None
    return RawSegment(words[0].start if start is None else start, words[-1].end, text, words, segment.avg_logprob,
                      segment.no_speech_prob, _compression_ratio(text))


def _compression_ratio(text: str) -> float:
    import zlib

    b = text.encode("utf-8")
    return len(b) / len(zlib.compress(b)) if b else 1.0


def check_segment(segment: RawSegment, options: GuardOptions = GuardOptions()) -> str | None:
    """Why a segment must be dropped (a short reason), or ``None`` to keep it."""
    if not _norm(segment.text):
        return "empty"
    if segment.no_speech_prob > options.no_speech_prob and segment.avg_logprob < options.logprob_with_no_speech:
        return f"no speech (no_speech_prob {segment.no_speech_prob:.2f}, avg_logprob {segment.avg_logprob:.2f})"
    if segment.avg_logprob < options.min_avg_logprob:
        return f"low confidence (avg_logprob {segment.avg_logprob:.2f})"
    if segment.compression_ratio > options.max_compression_ratio:
        return f"repetitive (compression ratio {segment.compression_ratio:.2f})"
    if _repeats(segment.text, options.max_repeat):
        return "repetitive (repeated unit)"
    return None
