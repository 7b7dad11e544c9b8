"""Planning a night: which calls to run, how many workers, and the records a run passes around.

    jobs, rejected = plan_jobs(["recordings/"], meta="calls.csv")

:class:`CallJob` is one call to process; :class:`CallOutcome` is what happened to it, for both
``qc score`` (status scored / resumed / failed, the :class:`qc.types.CallResult` attached) and
``qc transcribe`` (transcribed / cached / skipped / failed, the transcript file it wrote).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from qc.types import CallResult

__all__ = ["UsageError", "CallJob", "CallOutcome", "STATE_DIR", "available_cpus", "default_workers", "plan_jobs",
           "find_call_table"]

log = logging.getLogger(__name__)

STATE_DIR = ".qc"  # inside out_dir: one stamp per finished call, for resuming


class UsageError(ValueError):
    """The batch cannot start: no inputs, unreadable rules/scorecard/calls.csv, bad options."""


@dataclass
class CallJob:
    """One call to process: a recording (``kind="audio"``) or a transcript JSON (``kind="transcript"``)."""

    call_id: str
    source: str
    kind: str = "audio"
    agent_id: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class CallOutcome:
    """What happened to one call, as an engine reports it.

    ``status``: "scored", "resumed" (finished by an earlier run) or "failed" for ``qc score``;
    "transcribed", "cached", "skipped" or "failed" for ``qc transcribe``. ``result`` is the scored
    call (a typed record: only the results store serialises it); ``out`` the transcript file
    ``qc transcribe`` wrote. ``asr_seconds`` is the time spent recognising speech (0 on a cache
    hit); ``seconds`` the whole call. ``call_id`` is None when the call's metadata could not be
    read.
    """

    call_id: str | None
    source: str
    kind: str = "audio"
    status: str = "failed"
    error: str | None = None
    result: CallResult | None = None
    audio_seconds: float = 0.0
    asr_seconds: float = 0.0
    seconds: float = 0.0
    from_cache: bool = False
    skipped_checks: dict[str, str] = field(default_factory=dict)
    asr_dropped: int = 0  # recognised segments the hallucination guard removed (listed on the call page)
    relisten_seconds: float = 0.0  # ASR time spent re-listening before deductions
    out: str | None = None


def available_cpus() -> int:
    """CPU cores this process may use (affinity-aware)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def default_workers(calls: int) -> int:
    """One worker per core, no more than there are calls.

    On CPU, Whisper runs faster as N single-threaded processes than as one process with N
    threads (bench/bench_night.py: 39 s vs 46 s for the seven samples on 2 cores).
    """
    return max(1, min(available_cpus(), calls))


def _transcript_call_id(path: Path) -> str:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("call_id"):
            return str(data["call_id"])
    except (OSError, ValueError):
        pass  # the worker reports the real problem
    return path.stem


def _transcript_files(folder: Path) -> list[Path]:
    from qc.ingest import warn_link

    found = []
    for p in sorted(folder.rglob("*.json")):
        if p.is_file() and not p.name.startswith((".", "_")) and STATE_DIR not in p.parts:
            found.append(p)
        elif p.is_symlink():
            warn_link(p)
    return found


def plan_jobs(
    inputs: Sequence[str | Path],
    meta: str | Path | None = None,
    pattern: str | None = None,
) -> tuple[list[CallJob], list[CallOutcome]]:
    """Turn input paths into jobs: audio files, or transcript JSON where a folder holds no audio.

    A folder is searched recursively for recordings; a folder without any recording is read as a
    folder of transcripts (``*.json``). Files named explicitly are taken as they are (``.json``
    is a transcript, anything else a recording, so a bad file is reported rather than skipped).

    Returns:
        ``(jobs, rejected)``: rejected holds failed outcomes for duplicate call ids.

    Raises:
        UsageError: a path does not exist, nothing to score was found, or calls.csv is unusable.
    """
    from qc.ingest import (AUDIO_EXTENSIONS, AudioError, MetadataError, call_metadata, discover_audio,
                           duplicate_call_id, load_call_table)

    try:
        table = load_call_table(meta) if meta else None
    except MetadataError as e:
        raise UsageError(str(e)) from None
    sources: list[tuple[Path, str]] = []
    for raw in inputs:
        p = Path(raw)
        if p.is_dir():
            try:
                audio = discover_audio([p])
            except AudioError as e:
                raise UsageError(str(e)) from None
            if audio:
                sources.extend((f, "audio") for f in audio)
            else:
                sources.extend((f, "transcript") for f in _transcript_files(p))
        elif p.is_file():
            sources.append((p, "transcript" if p.suffix.lower() == ".json" else "audio"))
        else:
            raise UsageError(f"{p}: no such file or folder; check the path")
    if not sources:
        exts = ", ".join(AUDIO_EXTENSIONS)
        raise UsageError(f"nothing to score in {', '.join(map(str, inputs))}: no recordings ({exts}) or transcripts (*.json)")

    from qc.run.store import result_path

    jobs: list[CallJob] = []
    rejected: list[CallOutcome] = []
    used: dict[str, str] = {}
    files: dict[str, tuple[str, str]] = {}  # result file name -> (call id, source) that has it
    seen: set[Path] = set()
    for path, kind in sources:
        if path.resolve() in seen:
            continue
        seen.add(path.resolve())
        try:
            if kind == "audio":
                call = call_metadata(path, table, pattern)
                call_id, agent_id, call_meta = call.call_id, call.agent_id, dict(call.meta)
            else:
                call_id = _transcript_call_id(path)
                row = table.get(call_id) if table else None
                agent_id, call_meta = (row.agent_id, {**row.meta, "meta_source": "calls.csv"}) if row else (None, {})
        except MetadataError as e:
            raise UsageError(str(e)) from None
        if call_id in used:
            rejected.append(CallOutcome(
                call_id=call_id, source=str(path), kind=kind, status="failed",
                error=duplicate_call_id(path, call_id, used[call_id]),
            ))
            continue
        name = result_path(".", call_id).name
        if name in files:
            other_id, other = files[name]
            rejected.append(CallOutcome(
                call_id=call_id, source=str(path), kind=kind, status="failed",
                error=(f"{path}: call_id {call_id!r} and {other_id!r} (from {other}) would both be saved as calls/{name}; "
                       "give a calls.csv or --pattern that makes call ids differ in letters, digits, '.', '-' or '_'"),
            ))
            continue
        files[name] = (call_id, str(path))
        used[call_id] = str(path)
        jobs.append(CallJob(call_id=call_id, source=str(path), kind=kind, agent_id=agent_id, meta=call_meta))
    return jobs, rejected


def find_call_table(inputs: Sequence[str | Path]) -> Path | None:
    """``calls.csv`` at the top of the input folders, when exactly one of them has one."""
    found = [Path(p) / "calls.csv" for p in inputs if (Path(p) / "calls.csv").is_file()]
    if len(found) == 1:
        log.info("call metadata from %s", found[0])
        return found[0]
    return None
