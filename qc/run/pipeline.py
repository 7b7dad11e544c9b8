"""The per-call stage chain that every batch engine runs.

    job -> decode -> transcribe (cached) -> emotion -> rules -> scoring -> CallResult

:class:`CallPipeline` holds what is expensive to build (rules, scorecard, the Whisper model) and is
made once per worker process or Ray actor; :meth:`CallPipeline.run` processes one :class:`CallJob`
and never raises for a bad call: the failure comes back in the :class:`CallOutcome` with a reason.
No stage knows which engine runs it, so the local and the Ray engines give identical results.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qc.defaults import rules_path
from qc.run.plan import CallJob, CallOutcome
from qc.run.relisten import _review_dropped_speech, relisten

__all__ = ["PipelineConfig", "CallPipeline", "config_fingerprint", "job_fingerprint"]

log = logging.getLogger(__name__)


@dataclass
class PipelineConfig:
    """Everything a worker needs to build its :class:`CallPipeline` (plain data, picklable).

    ``asr_options`` go to :func:`qc.asr.load_transcriber` (language, beam_size, vad, ...);
    ``cpu_threads`` is the per-worker thread budget for the model (0 lets it choose).
    ``hotwords``: the rules' own words (:func:`qc.rules.vocabulary.vocabulary`) plus those of the
    ``vocabulary`` file are what each channel is listened for. ``relisten``: before a required
    rule deducts on audio, its window is recognised again with a wider beam and its words.
    """

    rules: str = ""  # rule file or folder; "" = the shipped rules
    scorecard: str | None = None
    backend: str = "faster-whisper"
    model: str | None = None
    asr_options: dict[str, Any] = field(default_factory=dict)
    channel_map: tuple[str, ...] | None = None
    cache_dir: str | None = None
    force_asr: bool = False
    cpu_threads: int = 0
    device: str = "cpu"
    # Off by default: with the 23-phrase agent list Whisper skipped 28 s of the agent's speech on
    # samples/C006 (a 3-phrase prompt did not); the mechanism stays for a user's short vocabulary.
    hotwords: bool = False
    vocabulary: str | None = None
    relisten: bool = True  # a required rule's window only, with that rule's words (docs/transcription.md)


def _hash_files(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(str(p.name).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def config_fingerprint(config: PipelineConfig) -> str:
    """A hash of what decides a call's result besides its input: rule files, scorecard, ASR settings.

    A finished call is reused by a later run only when this is unchanged (edit a rule and the night
    is re-inspected, from cached transcripts).
    """
    from qc.rules import rule_files
    from qc.scoring import default_scorecard_path

    card = Path(config.scorecard) if config.scorecard else default_scorecard_path()
    blob = {
        "rules": _hash_files(rule_files(config.rules or rules_path())),
        "scorecard": _hash_files([card]),
        "asr": [config.backend, config.model, sorted(config.asr_options.items()), config.channel_map],
        "listen": [config.hotwords, config.relisten,
                   _hash_files([Path(config.vocabulary)]) if config.vocabulary else None],
    }
    return hashlib.sha256(json.dumps(blob, sort_keys=True, default=str).encode()).hexdigest()


def job_fingerprint(job: CallJob, config_hash: str) -> str:
    """A hash of one call's input file, its metadata and the configuration."""
    from qc.ingest import file_sha256

    blob = {"input": file_sha256(job.source), "call": [job.call_id, job.agent_id, job.meta], "config": config_hash}
    return hashlib.sha256(json.dumps(blob, sort_keys=True, default=str).encode()).hexdigest()


class CallPipeline:
    """The stages for one worker: rules, scorecard and the transcriber are loaded once.

    Args:
        config: what to load. The Whisper model itself loads on the first call that needs
            it, so a night of cached or text-only calls never loads it.

    Raises:
        qc.rules.RuleFileError: the rules do not load (a usage error: nothing can be scored).
        qc.scoring.ScorecardError: the scorecard does not load.
    """

    def __init__(self, config: PipelineConfig):
        from qc.rules import load_rules
        from qc.scoring import default_scorecard_path, load_scorecard

        self.config = config
        self.rules = load_rules(config.rules or rules_path())
        self.scorecard = load_scorecard(config.scorecard or default_scorecard_path(), self.rules)
        self.timing_rules = {rule.code for rule in self.rules if rule.needs_timing}
        self.hotwords = self._hotwords() if config.hotwords else None
        self._transcriber = None
        self._cache = None

    @property
    def transcriber(self):
        if self._transcriber is None:
            from qc.asr import load_transcriber

            c = self.config
            if c.cpu_threads > 0:
                # OpenMP's thread count changes CTranslate2's float reduction order, hence the words
                # Whisper picks. Only libraries loaded after this line see it (numpy's BLAS, used
                # for the mel features, is loaded long before): worker processes get it from their
                # first instruction instead (qc.run.local._omp_threads; Ray sets it for its actors).
                os.environ["OMP_NUM_THREADS"] = str(c.cpu_threads)
            options = dict(c.asr_options)
            if c.backend in ("faster-whisper", "faster_whisper", "ct2"):
                options.setdefault("cpu_threads", c.cpu_threads)
                options.setdefault("device", c.device)
            elif c.cpu_threads:
                options.setdefault("threads", c.cpu_threads)
            if self.hotwords:
                options.setdefault("hotwords", self.hotwords)
            self._transcriber = load_transcriber(c.backend, c.model, **options)
        return self._transcriber

    def _hotwords(self) -> dict[str, list[str]]:
        """role -> phrases: the rules' required and risk words, then the user's vocabulary file."""
        from qc.rules.vocabulary import load_vocabulary_file, vocabulary

        words = {role: vocabulary(self.rules, role) for role in ("agent", "customer")}
        if self.config.vocabulary:
            for role, extra in load_vocabulary_file(self.config.vocabulary).items():
                words[role] = list(dict.fromkeys([*words.get(role, []), *extra]))
        return {role: ws for role, ws in words.items() if ws}

    @property
    def cache(self):
        if self._cache is None:
            from qc.run.cache import TranscriptCache

            self._cache = TranscriptCache(Path(self.config.cache_dir) / "transcripts" if self.config.cache_dir else None)
        return self._cache

    def run(self, job: CallJob) -> CallOutcome:
        """Process one call; a bad call comes back as ``status="failed"`` with the reason."""
        t0 = time.perf_counter()
        outcome = CallOutcome(call_id=job.call_id, source=job.source, kind=job.kind, status="failed")
        try:
            if job.kind == "audio":
                transcript, audio = self._from_audio(job, outcome)
            else:
                transcript, audio = self._from_transcript(job), None
            result = self.score(transcript, audio)
            outcome.asr_dropped = len(result.transcript.meta.get("asr_dropped") or [])
            outcome.relisten_seconds = round(sum(n.get("seconds", 0.0) for n in result.transcript.meta.get("asr_relistened") or []), 4)
            outcome.result = result
            outcome.status = "scored"
            if transcript.duration:
                outcome.audio_seconds = float(transcript.duration) if job.kind == "audio" else 0.0
            if audio is None and not transcript.has_timing:
                outcome.skipped_checks = {
                    code: why for code, why in result.inspection.not_applicable.items() if code in self.timing_rules
                }
        except Exception as e:  # one bad call must never stop the night
            outcome.error = _reason(job, e)
            level = logging.DEBUG if isinstance(e, ValueError) else logging.WARNING
            log.log(level, "%s failed", job.source, exc_info=True)
        outcome.seconds = round(time.perf_counter() - t0, 4)
        outcome.asr_seconds = round(outcome.asr_seconds, 4)
        return outcome

    def score(self, transcript, audio=None):
        """Emotion -> rules -> scoring for one transcript; returns a :class:`qc.run.store.CallResult`.

        With the audio at hand, a required rule about to deduct is first re-checked by listening
        to its window again (:meth:`relisten`); a channel that lost speech to the hallucination
        guard makes that role's required-rule deductions needs_review.
        """
        from qc.emotion import analyze_call
        from qc.types import CallResult
        from qc.rules import inspect
        from qc.scoring import score_call

        emotion = analyze_call(transcript, audio)
        inspection = inspect(transcript, self.rules, emotion=emotion)
        if audio is not None and self.config.relisten and not transcript.roles_inferred:
            patched, rechecked = self.relisten(transcript, audio, inspection)
            if patched is not transcript:
                transcript = patched
                emotion = analyze_call(transcript, audio)
                inspection = inspect(transcript, self.rules, emotion=emotion)
            for f in inspection.findings:
                if f.rule in rechecked:
                    f.message += "（已重听复核）"
        _review_dropped_speech(transcript, inspection, self.rules, self.config.channel_map)
        score = score_call(transcript, inspection, emotion, self.scorecard)
        return CallResult(transcript=transcript, inspection=inspection, emotion=emotion, score=score)

    def relisten(self, transcript, audio, inspection):
        """Listen again before a required rule deducts: its window of the role's channel is
        recognised with a wider beam and the required rules' own words as hotwords, and the rule
        decides on what is heard then (:func:`qc.run.relisten.relisten`).

        Returns:
            The transcript (a patched copy when a re-listened window let a rule pass) and the
            codes of the rules that were re-checked.
        """
        return relisten(self, transcript, audio, inspection)

    def _from_audio(self, job: CallJob, outcome: CallOutcome):
        from qc.ingest import AudioError, decode_audio

        audio = decode_audio(job.source, sample_rate=None)  # compact: read at 16 kHz where needed
        if audio.duration <= 0:
            raise AudioError(f"{job.source}: no audio samples; re-export the recording")
        outcome.audio_seconds = audio.duration
        peak = audio.peak
        if peak < 1e-3:
            raise AudioError(
                f"{job.source}: silent recording ({audio.duration:.1f} s, peak {20 * _log10(peak):.0f} dBFS); "
                "check the recorder's input or the channel mapping"
            )
        t = time.perf_counter()
        transcript, cached = self._transcribe(job, audio)
        outcome.from_cache = cached
        outcome.asr_seconds = 0.0 if cached else time.perf_counter() - t
        if not transcript.utterances:
            raise AudioError(
                f"{job.source}: no speech recognised in {audio.duration:.1f} s of audio; "
                "listen to it: it may be silence, music on hold or a fax tone"
            )
        return transcript, audio

    def _transcribe(self, job: CallJob, audio):
        """The call's transcript from the cache, else from the model (the audio is decoded once,
        here, for both ASR and the emotion stage's voice features)."""
        from qc.asr import transcribe_call
        from qc.ingest import CallMeta

        call = CallMeta(call_id=job.call_id, agent_id=job.agent_id, meta=dict(job.meta))
        return transcribe_call(job.source, self.transcriber, call, self.config.channel_map, self.cache,
                               force=self.config.force_asr, audio=audio)

    def _from_transcript(self, job: CallJob):
        from qc.transcript import load_transcript

        transcript = load_transcript(job.source)
        transcript.call_id = job.call_id
        if job.agent_id and not transcript.agent_id:
            transcript.agent_id = job.agent_id
        transcript.meta = {**job.meta, **transcript.meta}
        return transcript


def _log10(x: float) -> float:
    import math

    return math.log10(max(x, 1e-10))


def _reason(job: CallJob, e: BaseException) -> str:
    text = str(e).strip() or e.__class__.__name__
    if isinstance(e, ValueError):  # AudioError, TranscriptError...: already a user-facing message
        return text if text.startswith(job.source) else f"{job.source}: {text}"
    return f"{job.source}: {e.__class__.__name__}: {text} (a bug or a resource problem; rerun with -v and report it)"
