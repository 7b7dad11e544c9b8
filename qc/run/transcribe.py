"""The batch behind ``qc transcribe``: recordings in, one transcript JSON per call out.

    summary = transcribe_files(["rec/"], "out/", meta_csv="calls.csv")

Call metadata, the transcript cache, atomic writes, a run summary (``out/_run_summary.json``),
and one bad file never stops the rest. Each call goes through the ASR stage's
:func:`qc.asr.transcribe_call`, as a scored call does in :mod:`qc.run.pipeline`; the outcome is
the run layer's :class:`qc.run.plan.CallOutcome`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from qc.asr import Transcriber, load_transcriber, parse_channel_map, transcribe_call, with_call
from qc.ingest import AudioError, CallMeta, call_metadata, discover_audio, duplicate_call_id, file_sha256, load_call_table
from qc.run.cache import TranscriptCache, transcript_cache_key
from qc.run.plan import CallOutcome
from qc.transcript import TranscriptError, load_transcript, save_transcript, write_json_atomic

__all__ = ["TranscribeSummary", "transcribe_files", "SUMMARY_NAME"]

log = logging.getLogger(__name__)

SUMMARY_NAME = "_run_summary.json"


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
            "failures": [{"file": c.source, "call_id": c.call_id, "error": c.error} for c in self.failed],
            "calls": [_summary_row(c) for c in self.calls],
        }

def _summary_row(c: CallOutcome) -> dict[str, Any]:
    """One call in ``_run_summary.json`` (its keys as written since the first release)."""
    return {"file": c.source, "call_id": c.call_id, "status": c.status, "out": c.out, "error": c.error,
            "audio_seconds": c.audio_seconds if c.status in ("transcribed", "cached") else None,
            "seconds": c.seconds}


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
        outcome = CallOutcome(call_id=None, source=str(f), kind="audio", status="failed")
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
                outcome.audio_seconds = transcript.audio.duration if transcript.audio else 0.0
                outcome.from_cache = cached
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
        save_transcript(with_call(existing, call, str(audio_path)), target)
    return True
