"""ASR stage: recordings in, role-tagged Simplified-Chinese transcripts out.

>>> from qc.ingest import decode_audio
>>> from qc.asr import load_transcriber
>>> t = load_transcriber()                      # faster-whisper, offline Whisper base, int8
>>> transcript = t.transcribe(decode_audio("call.wav"), call_id="call")

:func:`transcribe_files` is the batch behind ``qc transcribe``: metadata, cache, atomic writes,
a run summary, and one bad file never stops the rest. :func:`transcribe_call` is its per-call
piece for the night batch. Whisper and torch are imported only when a model is first used.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from qc.asr.transcriber import DEFAULT_CHANNEL_MAP, Transcriber, parse_channel_map
from qc.cache import TranscriptCache, transcript_cache_key
from qc.ingest import AudioError, CallMeta, DecodedAudio, call_metadata, duplicate_call_id, decode_audio, discover_audio, file_sha256, load_call_table
from qc.transcript import TranscriptError, load_transcript, save_transcript, write_json_atomic
from qc.types import Transcript

__all__ = [
    "BACKENDS",
    "DEFAULT_CHANNEL_MAP",
    "Transcriber",
    "CallOutcome",
    "TranscribeSummary",
    "load_transcriber",
    "parse_channel_map",
    "transcribe_call",
    "transcribe_files",
]

log = logging.getLogger(__name__)

BACKENDS: tuple[str, ...] = ("faster-whisper", "openai-whisper")
SUMMARY_NAME = "_run_summary.json"


def load_transcriber(backend: str = "faster-whisper", model: str | None = None, **options: Any) -> Transcriber:
    """Make a transcriber; the model itself loads on first use.

    Args:
        backend: "faster-whisper" (default, CTranslate2 int8) or "openai-whisper" (PyTorch).
        model: None for the offline Whisper base weights, a model name (small, large-v3, ...;
            downloads where the internet is reachable) or a local model path.
        **options: backend and decoding options: language ("zh"), beam_size (5), vad (True),
            device, compute_type (faster-whisper), threads (openai-whisper), guard_* thresholds,
            split_gap / join_gap (seconds).

    Raises:
        ValueError: unknown backend.
        ImportError: the openai-whisper extra is not installed (the message says how).
    """
    if backend in ("faster-whisper", "faster_whisper", "ct2"):
        from qc.asr.faster import FasterWhisperTranscriber

        return FasterWhisperTranscriber(model, **options)
    if backend in ("openai-whisper", "openai_whisper", "whisper", "openai"):
        from qc.asr.openai_backend import OpenAIWhisperTranscriber

        return OpenAIWhisperTranscriber(model, **options)
    raise ValueError(f"unknown ASR backend {backend!r}; choose one of: {', '.join(BACKENDS)}")


@dataclass
class CallOutcome:
    """What happened to one file: status is transcribed, cached, skipped or failed."""

    file: str
    call_id: str | None
    status: str
    out: str | None = None
    error: str | None = None
    audio_seconds: float | None = None
    seconds: float = 0.0


@dataclass
class TranscribeSummary:
    """The run summary written to ``DIR/_run_summary.json``."""

    out_dir: str
    backend: str
    model: str
    calls: list[CallOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for c in self.calls if c.status == status)

    @property
    def failed(self) -> list[CallOutcome]:
        return [c for c in self.calls if c.status == "failed"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "out_dir": self.out_dir,
            "backend": self.backend,
            "model": self.model,
            "total": len(self.calls),
            **{s: self.count(s) for s in ("transcribed", "cached", "skipped", "failed")},
            "failures": [{"file": c.file, "call_id": c.call_id, "error": c.error} for c in self.failed],
            "calls": [asdict(c) for c in self.calls],
        }


def _with_call(t: Transcript, call: CallMeta, audio_path: str) -> Transcript:
    """A cached recognition re-labelled for this call (same audio may have another name)."""
    t.call_id = call.call_id
    t.agent_id = call.agent_id
    asr_notes = {k: v for k, v in t.meta.items() if k.startswith("asr_")}
    t.meta = {**call.meta, **asr_notes}
    if t.audio is not None:
        t.audio.path = audio_path
    return t


def transcribe_call(
    path: str | Path,
    transcriber: Transcriber,
    call: CallMeta | None = None,
    channel_map: str | Sequence[str] | None = None,
    cache: TranscriptCache | None = None,
    force: bool = False,
    audio: DecodedAudio | None = None,
) -> tuple[Transcript, bool]:
    """Transcribe one recording, through the transcript cache.

    Args:
        path: the recording.
        transcriber: from :func:`load_transcriber`.
        call: call metadata (default: call_id = file stem).
        channel_map: roles of the channels of a stereo file.
        cache: transcript cache (default ``$QC_CACHE_DIR/transcripts``).
        force: recognise again even when cached.
        audio: the recording already decoded (the night batch decodes once for ASR and voice
            emotion); decoded here when not given.

    Returns:
        ``(transcript, from_cache)``.

    Raises:
        AudioError: the file cannot be decoded (the message names it and says what to do).
    """
    path = Path(path)
    call = call or CallMeta(call_id=path.stem)
    cache = cache or TranscriptCache()
    if audio is None and not path.is_file():
        raise AudioError(f"{path}: no such file; check the path")
    sha256 = audio.info.sha256 if audio is not None else file_sha256(path)
    key = transcriber.cache_key(sha256, channel_map)
    if not force:
        hit = cache.get(key)
        if hit is not None:
            return _with_call(hit, call, str(path)), True
    if audio is None:
        audio = decode_audio(path, sample_rate=None)
    transcript = transcriber.transcribe(
        audio, call_id=call.call_id, agent_id=call.agent_id, meta=dict(call.meta), channel_map=channel_map
    )
    cache.put(key, transcript)
    return transcript, False


def transcribe_files(
    paths: Iterable[str | Path],
    out_dir: str | Path,
    backend: str = "faster-whisper",
    model: str | None = None,
    meta_csv: str | Path | None = None,
    pattern: str | None = None,
    channel_map: str | Sequence[str] | None = None,
    force: bool = False,
    cache: TranscriptCache | None = None,
    transcriber: Transcriber | None = None,
    progress: Callable[[CallOutcome], None] | None = None,
    **options: Any,
) -> TranscribeSummary:
    """Transcribe recordings (files or folders) into ``out_dir/<call_id>.json``.

    Calls whose output already holds a transcript with the same cache key are skipped; other
    cached recognitions are reused without running the model. A file that fails is recorded
    (with one clear line) and the batch goes on. The summary is written to
    ``out_dir/_run_summary.json``.

    Raises:
        AudioError: a path does not exist.
        MetadataError: the calls.csv or the pattern is unusable.
        ValueError: bad channel map or backend.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    roles = parse_channel_map(channel_map)
    table = load_call_table(meta_csv) if meta_csv else None
    files = discover_audio(paths)
    transcriber = transcriber or load_transcriber(backend, model, **options)
    cache = cache or TranscriptCache()
    summary = TranscribeSummary(out_dir=str(out), backend=transcriber.backend, model=transcriber.model_name)
    used: dict[str, str] = {}
    for f in files:
        t0 = time.perf_counter()
        outcome = CallOutcome(file=str(f), call_id=None, status="failed")
        try:
            call = call_metadata(f, table, pattern)
            outcome.call_id = call.call_id
            if call.call_id in used:
                raise AudioError(duplicate_call_id(f, call.call_id, used[call.call_id]))
            used[call.call_id] = str(f)
            target = out / f"{call.call_id}.json"
            outcome.out = str(target)
            if not force and target.is_file() and _done(target, transcriber, f, roles, call):
                outcome.status = "skipped"
            else:
                transcript, cached = transcribe_call(f, transcriber, call, roles, cache, force)
                save_transcript(transcript, target)
                outcome.status = "cached" if cached else "transcribed"
                outcome.audio_seconds = transcript.audio.duration if transcript.audio else None
        except (AudioError, ValueError, OSError) as e:
            outcome.status, outcome.error = "failed", str(e) if str(e).startswith(str(f)) else f"{f}: {e}"
            if progress is None:
                log.error("%s", outcome.error)
        except Exception as e:  # a backend crash on one file must not stop the night
            outcome.status = "failed"
            outcome.error = f"{f}: transcription failed ({e.__class__.__name__}: {e}); rerun with -v and report it"
            log.exception("%s", outcome.error)
        outcome.seconds = round(time.perf_counter() - t0, 3)
        summary.calls.append(outcome)
        if progress is not None:
            progress(outcome)
    write_json_atomic(summary.as_dict(), out / SUMMARY_NAME)
    return summary


def _done(target: Path, transcriber: Transcriber, audio_path: Path, roles: Sequence[str], call: CallMeta) -> bool:
    """True when target already holds this recording's transcript under the current settings.

    When only the call metadata changed, the file is rewritten with the new metadata (no ASR).
    """
    try:
        existing = load_transcript(target)
    except TranscriptError:
        return False
    if existing.audio is None or transcript_cache_key(existing) != transcriber.cache_key(
        file_sha256(audio_path), roles
    ):
        return False
    if existing.agent_id != call.agent_id or {k: v for k, v in existing.meta.items() if not k.startswith("asr_")} != call.meta:
        save_transcript(_with_call(existing, call, str(audio_path)), target)
    return True
