"""The Transcriber interface: one recording in, one role-tagged transcript out.

A backend only has to turn one channel of 16 kHz float32 samples into :class:`RawSegment` s.
Everything else is shared, so every backend gives the same kind of transcript: per-channel
recognition with roles from the channel map, or role inference on mono; Simplified Chinese;
the hallucination guard; utterances split at long pauses and joined across short ones;
confidence as the mean word probability.

Channel preparation is in :mod:`qc.asr.channels`; turning segments into utterances in
:mod:`qc.asr.turns`.
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

import numpy as np

from qc.asr.channels import _distinct_channels, _gate_bleed, _to_16k
from qc.asr.guard import (GuardOptions, RawSegment, check_segment, is_repetitive, strip_phantoms, tidy_text,
                          trim_repeats, trim_unplaced)
from qc.normalize import to_simplified
from qc.asr.roles import assign_mono_roles, voice_features
from qc.asr.stream import SAMPLE_RATE, groups, pack, speech_chunks, unpack
from qc.asr.turns import _drop_crosstalk, _join_turns, _speech_behind, _split_at_pauses, _utterance
from qc.run.cache import cache_key
from qc.ingest import DecodedAudio
from qc.types import AsrInfo, Transcript, Utterance, Word

__all__ = ["DEFAULT_CHANNEL_MAP", "SAMPLE_RATE", "Transcriber", "parse_channel_map"]

log = logging.getLogger(__name__)

DEFAULT_CHANNEL_MAP: tuple[str, ...] = ("agent", "customer")
# Seconds of VAD speech after a trimmed segment's last kept word that are recognised again on
# their own (qc.asr.transcriber.Transcriber._utterances)
LOST_SPEECH_S = 0.3

# Options every backend understands; backends add their own (compute_type, ...).
COMMON_DEFAULTS: dict[str, Any] = {
    "language": "zh",
    "beam_size": 5,
    "vad": True,
    # VAD chunks are padded 400 ms and laid out with (up to) 0.5 s of silence between them: butted
    # end to end with 200 ms they lost first syllables (bench/bench_asr.py, docs/transcription.md)
    "vad_pad_ms": 400,  # Silero padding each side of a speech chunk
    "vad_min_silence_ms": 500,  # shorter pauses stay inside a chunk
    "vad_merge_gap": 0.0,  # chunks closer than this (s) are merged, pause included
    "vad_gap": 0.5,  # silence (s) put before each chunk in the stream (the real pause when shorter)
    "hotwords": None,  # {role: [phrase, ...]}: words each channel's role is listened for with
    "word_timestamps": True,
    "condition_on_previous_text": False,  # stops one hallucination from seeding the next
    "split_gap": 1.0,  # a pause this long (s) inside a segment starts a new utterance
    "join_gap": 0.5,  # same speaker again within this many seconds, nobody in between: same utterance
}


def parse_channel_map(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """``"agent,customer"`` -> ``("agent", "customer")``; checks every entry is a role.

    Raises:
        ValueError: an entry is not agent, customer or unknown.
    """
    if value is None:
        return DEFAULT_CHANNEL_MAP
    items = [v.strip() for v in (value.split(",") if isinstance(value, str) else value)]
    bad = [v for v in items if v not in ("agent", "customer", "unknown")]
    if bad or not items:
        raise ValueError(
            f"channel map {value!r}: each entry must be agent, customer or unknown "
            "(e.g. 'agent,customer' for agent on the left channel)"
        )
    return tuple(items)


class Transcriber:
    """Base class of the ASR backends.

    Subclasses set :attr:`backend`, load their model in ``__init__`` and implement
    :meth:`recognize`. Use :func:`qc.asr.load_transcriber` to make one.
    """

    backend: str = ""

    def __init__(self, model_name: str, options: dict[str, Any]):
        self.model_name = model_name
        opts = {**COMMON_DEFAULTS, **options}
        self.guard = GuardOptions(
            **{k[len("guard_"):]: v for k, v in opts.items() if k.startswith("guard_")}
        )
        opts.update(self.guard.as_dict())
        self.options: dict[str, Any] = dict(sorted(opts.items()))

    # --- what a backend implements -------------------------------------------------------

    def recognize(self, samples: np.ndarray, prompt: str | None = None) -> list[RawSegment]:
        """Recognise 16 kHz mono float32 speech (silence is already cut out when VAD is on);
        times in seconds from its start. ``prompt``: words to listen for (hotwords)."""
        raise NotImplementedError

    # --- shared ----------------------------------------------------------------------------

    @property
    def asr_info(self) -> AsrInfo:
        return AsrInfo(backend=self.backend, model=self.model_name, options=dict(self.options))

    def run_options(self, channel_map: str | Sequence[str] | None = None) -> dict[str, Any]:
        """Everything that shapes a transcript: decoding options plus the channel map."""
        return {**self.options, "channel_map": list(parse_channel_map(channel_map))}

    def cache_key(self, audio_sha256: str, channel_map: str | Sequence[str] | None = None) -> str:
        """The transcript cache key for a recording with this content hash."""
        return cache_key(audio_sha256, self.backend, self.model_name, self.run_options(channel_map))

    def transcribe(
        self,
        audio: DecodedAudio,
        call_id: str,
        agent_id: str | None = None,
        meta: dict[str, Any] | None = None,
        channel_map: str | Sequence[str] | None = None,
    ) -> Transcript:
        """Transcribe one call.

        Args:
            audio: the decoded recording (:func:`qc.ingest.decode_audio`).
            call_id: the call's id.
            agent_id: the agent's id from call metadata, if known.
            meta: call metadata carried into the transcript.
            channel_map: role of each channel, default ``("agent", "customer")``.

        Returns:
            A transcript with utterances from all channels ordered by start time.
        """
        roles = parse_channel_map(channel_map)
        samples = _to_16k(audio)
        channels = _distinct_channels(samples)
        meta = dict(meta or {})
        notes: dict[str, list[dict[str, Any]]] = {"dropped": [], "trimmed": []}
        utterances: list[Utterance] = []
        roles_inferred = False
        if len(channels) == 1:
            mono = channels[0]
            utterances = self._utterances(*self._recognize_speech(mono, self.prompt_for(None)), None, "unknown", notes,
                                          samples=mono)
            if utterances:
                spans = [(u.start or 0.0, u.end or 0.0) for u in utterances]
                feats = voice_features(mono, SAMPLE_RATE, spans) if len(spans) >= 2 else None
                labels = assign_mono_roles(
                    [u.text for u in utterances], feats, [e - s for s, e in spans],
                    gaps=[0.0] + [b[0] - a[1] for a, b in zip(spans, spans[1:])],
                )
                for u, role in zip(utterances, labels):
                    u.role = role
            roles_inferred = True
        else:
            for ch, x in enumerate(_gate_bleed(channels)):
                role = roles[ch] if ch < len(roles) else "unknown"
                utterances.extend(self._utterances(*self._recognize_speech(x, self.prompt_for(role)), ch, role, notes,
                                                   samples=x))
            utterances = _drop_crosstalk(utterances, channels)
        utterances.sort(key=lambda u: (u.start or 0.0, u.channel or 0))
        utterances = _join_turns(utterances, float(self.options["join_gap"]))
        for kind, items in notes.items():
            if items:
                meta[f"asr_{kind}"] = items
        return Transcript(
            call_id=call_id,
            utterances=utterances,
            agent_id=agent_id,
            audio=audio.info,
            asr=AsrInfo(backend=self.backend, model=self.model_name, options=self.run_options(roles)),
            roles_inferred=roles_inferred,
            meta=meta,
        )

    def relisten(
        self,
        audio: DecodedAudio,
        channel: int | None,
        start: float,
        end: float,
        words: Sequence[str] = (),
        beam_size: int = 10,
    ) -> list[Utterance]:
        """Recognise one window of one channel again, more carefully: a wider beam and ``words``
        as hotwords. For checking what a deduction rests on before it is made.

        Args:
            audio: the call's recording.
            channel: the channel index (``None`` or 0 for mono).
            start, end: the window, seconds of the call.
            words: phrases to listen for (the rule's own).
            beam_size: the beam for this window.

        Returns:
            The window's utterances in call time (role "unknown"; the caller knows the role).
        """
        samples = _to_16k(audio)
        chans = _gate_bleed(_distinct_channels(samples))
        x = chans[min(channel or 0, len(chans) - 1)]
        saved = dict(self.options)
        self.options["beam_size"] = beam_size
        try:
            prompt = " ".join(dict.fromkeys(w for w in words if w)) or None
            return self._window(x, start, end, channel, "unknown", {"dropped": [], "trimmed": []}, prompt)
        finally:
            self.options = saved

    def _window(self, x, start: float, end: float, channel: int | None, role: str,
                notes: dict[str, list[dict[str, Any]]], prompt: str | None = None) -> list[Utterance]:
        """Recognise seconds ``start``-``end`` of one channel's 16 kHz samples ``x`` on their own:
        utterances in call time (guarded, nothing decoded again inside)."""
        a, b = max(int(start * SAMPLE_RATE), 0), min(int(end * SAMPLE_RATE), len(x))
        if b - a < SAMPLE_RATE // 10:
            return []
        segments, speech = self._recognize_speech(np.ascontiguousarray(x[a:b]), prompt)
        utts = self._utterances(segments, speech, channel, role, notes)
        shift = a / SAMPLE_RATE
        for u in utts:
            u.start = round((u.start or 0.0) + shift, 2)
            u.end = round((u.end or 0.0) + shift, 2)
            for w in u.words:
                w.start, w.end = round(w.start + shift, 2), round(w.end + shift, 2)
        return utts

    def prompt_for(self, role: str | None) -> str | None:
        """The hotwords for a channel of this role (``None``: mono, every role's words)."""
        hot = self.options.get("hotwords") or {}
        if role is None or role == "unknown":
            words = [w for ws in hot.values() for w in ws]
        else:
            words = list(hot.get(role) or ())
        words = list(dict.fromkeys(w.strip() for w in words if w and w.strip()))
        return " ".join(words) or None

    def _recognize_speech(self, samples: np.ndarray, prompt: str | None = None,
                          ) -> tuple[list[RawSegment], list[tuple[float, float]] | None]:
        """Recognise one channel's speech (silence cut out by VAD, :mod:`qc.asr.stream`).

        Returns:
            Segments in channel time, and where the VAD heard speech (seconds, padding taken
            off; ``None`` with VAD off).

        ``samples`` is an array or a :class:`qc.ingest.Signal`. With VAD on, a channel with
        more than :data:`qc.asr.stream.MAX_STREAM_S` of speech is recognised in groups of
        chunks, so memory does not grow with the call; with VAD off the channel is one stream.
        """
        if not self.options["vad"]:
            stream = np.asarray(samples[0:len(samples)], dtype=np.float32)
            if len(stream) < SAMPLE_RATE // 10:
                return [], None
            return (self.recognize(stream, prompt) if prompt else self.recognize(stream)), None
        o = self.options
        pad, gap = int(o["vad_pad_ms"]), float(o["vad_gap"])
        chunks = speech_chunks(samples, pad, int(o["vad_min_silence_ms"]), float(o["vad_merge_gap"]))
        speech = [((a / SAMPLE_RATE) + pad / 1000, (b / SAMPLE_RATE) - pad / 1000) for a, b in chunks]
        segments: list[RawSegment] = []
        after = 0
        for group in groups(chunks, gap):
            stream, pieces = pack(samples, group, gap, after=after)
            after = group[-1][1]
            if len(stream) < SAMPLE_RATE // 10:
                continue
            found = self.recognize(stream, prompt) if prompt else self.recognize(stream)
            segments.extend(unpack(found, pieces))
        return segments, speech

    def _utterances(self, segments: list[RawSegment], speech: list[tuple[float, float]] | None,
                    channel: int | None, role: str, notes: dict[str, list[dict[str, Any]]],
                    samples=None) -> list[Utterance]:
        """Clean one channel's segments (Simplified Chinese, hallucination guard) into utterances.

        Words the aligner could not place at a segment's end are cut; a looping segment is
        trimmed to its real content; a segment the decoder doubts is removed
        only when the VAD heard no speech behind it (always, with VAD off). What is trimmed or
        removed is listed in ``notes`` (``meta.asr_trimmed`` / ``meta.asr_dropped``).
        With the channel's ``samples``, the time a trimmed segment lost after its last kept word is
        recognised again on its own when the VAD heard speech there (a loop that ran on over the
        next line had swallowed it: 「…野生小鸽鸽鸽鸽…」 over 「嗯嗯，那您先忙，再见啊」); what that
        gives is in the trim's note as ``decoded_again``.
        """
        out: list[Utterance] = []
        for seg in segments:
            trims = len(notes["trimmed"])
            utts = self._guarded(seg, speech, channel, role, notes)
            out.extend(utts)
            if samples is None or speech is None or len(notes["trimmed"]) == trims:
                continue
            kept = max((u.end for u in utts if u.end is not None), default=seg.start)
            if sum(max(0.0, min(seg.end, b) - max(kept, a)) for a, b in speech) >= LOST_SPEECH_S:
                trim = notes["trimmed"][-1]
                again = self._window(samples, kept, seg.end, channel, role, notes, self.prompt_for(role))
                trim["decoded_again"] = "".join(u.text for u in again)
                out.extend(again)
        return out

    def _guarded(self, seg: RawSegment, speech: list[tuple[float, float]] | None, channel: int | None, role: str,
                 notes: dict[str, list[dict[str, Any]]]) -> list[Utterance]:
        """One segment through the hallucination guard, as :meth:`_utterances` describes."""
        def note(seg: RawSegment, **what: str) -> dict[str, Any]:
            return {"channel": channel, "start": round(seg.start, 2), "end": round(seg.end, 2),
                    "text": seg.text.strip(), **what}

        words = [Word(w.start, w.end, to_simplified(w.text), w.probability) for w in seg.words]
        for w in words:  # Whisper's leading space before a Chinese word is not a separator
            if w.text[:1] == " " and len(w.text) > 1 and not w.text[1:2].isascii():
                w.text = w.text[1:]
        seg = RawSegment(
            seg.start, seg.end, tidy_text(seg.text), words,
            seg.avg_logprob, seg.no_speech_prob, seg.compression_ratio,
        )
        placed, cut = trim_unplaced(seg)
        if cut:
            notes["trimmed"].append(note(seg, kept=placed.text if placed else "",
                                         reason=f"{len(cut)} words not placed in the audio at its end"))
            if placed is None:
                return []
            seg = placed
        reason = check_segment(seg, self.guard)
        if is_repetitive(reason):
            trimmed = trim_repeats(seg)
            notes["trimmed"].append(note(seg, kept=trimmed.text if trimmed else "", reason=reason))
            if trimmed is not None:
                seg = trimmed
                reason = check_segment(seg, self.guard)
                reason = None if is_repetitive(reason) else reason
        if reason and reason != "empty" and speech is not None and _speech_behind(seg, speech):
            reason = None  # the decoder doubts it, but someone spoke: keep it (its confidence is low)
        cleaned = None if reason else strip_phantoms(seg)
        if cleaned is None:
            reason = reason or "phantom phrase"
            if reason != "empty":
                notes["dropped"].append(note(seg, reason=reason))
            log.debug("dropped %r: %s", seg.text, reason)
            return []
        return [_utterance(piece, channel, role) for piece in _split_at_pauses(cleaned, float(self.options["split_gap"]))]
