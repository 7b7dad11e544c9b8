"""The night batch: a folder of recordings (or transcripts) in, scored calls and reports out.

    summary = score_night(["recordings/"], "night/", meta="calls.csv", workers=2)
    summary.exit_code      # 0 every call scored, 1 some failed

Each call runs :class:`qc.run.pipeline.CallPipeline` (decode -> transcribe, cached -> emotion -> rules
-> scoring) in a worker process that loads the Whisper model once (``engine="local"``) or in a
Ray Data actor pool (``engine="ray"``, :mod:`qc.run.ray`). Results are written atomically to
``out_dir/calls/<call_id>.json`` as each call finishes, so Ctrl-C or a crash loses only the calls
in flight, and a re-run skips calls whose input, metadata, rules, scorecard and ASR settings are
unchanged. Then :func:`qc.report.write_reports` writes the night report.

Planning is in :mod:`qc.run.plan`, the engines in :mod:`qc.run.local` and :mod:`qc.run.ray`, the
results store in :mod:`qc.run.store`. (Over 400 lines: signal handling, resume stamps and the
summary are the driver's own state and stay beside :func:`score_night`.)
"""

from __future__ import annotations

import json
import logging
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable, Sequence

from qc.run.local import run_local
from qc.run.pipeline import CallPipeline, PipelineConfig, config_fingerprint, job_fingerprint
from qc.run.plan import STATE_DIR, CallJob, CallOutcome, UsageError, available_cpus, default_workers, find_call_table, plan_jobs

__all__ = ["ENGINES", "NightSummary", "UsageError", "Interrupted", "OutputError", "score_night"]

log = logging.getLogger(__name__)

ENGINES: tuple[str, ...] = ("local", "ray")
SUMMARY_NAME = "night_summary.json"
_SUMMARY_FIELDS = ("result", "out")  # not in night_summary.json: the result is saved on its own, out is qc transcribe's


class OutputError(RuntimeError):
    """A result, summary or report file (or the history database) could not be written; the message names it."""


def _cannot_write(path: Path, e: OSError) -> OutputError:
    return OutputError(f"{path}: cannot write ({e.strerror or e}); free disk space or choose another --out folder "
                       "(finished calls are saved; run the same command again to resume)")


class Interrupted(KeyboardInterrupt):
    """A night stopped by Ctrl-C (SIGINT) or SIGTERM; ``exit_code`` is 128 + the signal number."""

    def __init__(self, signum: int = 2):
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


# While a result is saved and counted, the first signal waits (see _signals_held). Blocking the
# signal with pthread_sigmask is not enough: it holds it for the main thread only, the kernel then
# hands it to one of the pool's helper threads, and Python still runs the handler in the main
# thread at its next instruction, in the middle of the save. So the handler itself defers.
_HOLD = {"depth": 0, "pending": None}


@contextmanager
def _interrupts():
    """The first SIGINT/SIGTERM raises :class:`Interrupted` (the night stops and saves); a second exits at once.

    Only in the main thread (signal handlers cannot be set elsewhere): there, nothing changes.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    seen: list[int] = []

    def handler(signum, frame):
        seen.append(signum)
        if len(seen) > 1:
            os.write(2, b"interrupted again: exiting now (calls in flight are lost; finished ones are saved)\n")
            os._exit(128 + signum)  # the workers follow: they die with their parent
        if _HOLD["depth"]:
            _HOLD["pending"] = signum  # raised when the result being saved is counted
            return
        raise Interrupted(signum)

    before = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in before.items():
            signal.signal(sig, old)
        _HOLD["pending"] = None


@contextmanager
def _signals_held():
    """A first SIGINT/SIGTERM waits until the block is done, then stops the night (a call saved is
    a call counted); a second one still exits at once."""
    _HOLD["depth"] += 1
    try:
        yield
    finally:
        _HOLD["depth"] -= 1
        if not _HOLD["depth"] and _HOLD["pending"] is not None:
            signum, _HOLD["pending"] = _HOLD["pending"], None
            raise Interrupted(signum)


@dataclass
class NightSummary:
    """What a night batch did. ``exit_code``: 0 all scored, 1 some calls failed or interrupted."""

    out_dir: str
    engine: str
    workers: int
    calls: list[CallOutcome] = field(default_factory=list)
    wall_seconds: float = 0.0
    report: str | None = None
    interrupted: bool = False

    def count(self, status: str) -> int:
        return sum(1 for c in self.calls if c.status == status)

    @property
    def failed(self) -> list[CallOutcome]:
        return [c for c in self.calls if c.status == "failed"]

    @property
    def audio_seconds(self) -> float:
        return sum(c.audio_seconds for c in self.calls if c.status != "failed")

    @property
    def asr_seconds(self) -> float:
        return sum(c.asr_seconds for c in self.calls)

    @property
    def rtf(self) -> float | None:
        """Wall time over audio time for the calls processed in this run (resumed calls excluded)."""
        audio = sum(c.audio_seconds for c in self.calls if c.status == "scored")
        return self.wall_seconds / audio if audio else None

    @property
    def text_only(self) -> list[CallOutcome]:
        return [c for c in self.calls if c.kind == "transcript" and c.status != "failed"]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed or self.interrupted else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "out_dir": self.out_dir,
            "engine": self.engine,
            "workers": self.workers,
            "total": len(self.calls),
            **{s: self.count(s) for s in ("scored", "resumed", "failed")},
            "text_only": len(self.text_only),
            "audio_hours": round(self.audio_seconds / 3600, 4),
            "wall_seconds": round(self.wall_seconds, 2),
            "asr_seconds": round(self.asr_seconds, 2),
            "asr_dropped": sum(c.asr_dropped for c in self.calls),
            "relisten_seconds": round(sum(c.relisten_seconds for c in self.calls), 2),
            "rtf": None if self.rtf is None else round(self.rtf, 4),
            "interrupted": self.interrupted,
            "report": self.report,
            "failures": [{"call_id": c.call_id, "source": c.source, "error": c.error} for c in self.failed],
            "calls": [{f.name: _plain(getattr(c, f.name)) for f in fields(c) if f.name not in _SUMMARY_FIELDS}
                      for c in self.calls],
        }

    def lines(self) -> list[str]:
        """The human summary printed at the end of a run."""
        hours = self.audio_seconds / 3600
        rtf = f", real-time factor {self.rtf:.3f}" if self.rtf is not None else ""
        out = [
            f"{len(self.calls)} calls: {self.count('scored')} scored, {self.count('resumed')} already done, "
            f"{self.count('failed')} failed; {hours:.3f} h of audio; wall {self.wall_seconds:.1f} s{rtf} "
            f"({self.engine} engine, {self.workers} worker{'s' if self.workers != 1 else ''})"
        ]
        if self.text_only:
            skipped = sorted({code for c in self.text_only for code in c.skipped_checks})
            out.append(
                f"{len(self.text_only)} text-only calls (no audio): voice emotion not measured"
                + (f"; audio-only checks skipped where the transcript has no times ({', '.join(skipped)})"
                   if skipped else "; timing checks used the transcripts' times")
            )
        for c in self.failed:
            out.append(f"FAILED {c.call_id}: {c.error}")
        if self.interrupted:
            out.append("interrupted: finished calls are saved; run the same command again to resume")
        if self.report:
            out.append(f"report: {self.report}")
        return out


# --- resume --------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else value


def _stamp_path(out_dir: Path, call_id: str) -> Path:
    from qc.run.store import result_path

    return out_dir / STATE_DIR / "done" / result_path(out_dir, call_id).name


def _finished(out_dir: Path, job: CallJob, fingerprint: str) -> CallOutcome | None:
    """The stamp of a call an earlier run finished with the same fingerprint, or None."""
    from qc.run.store import result_path

    stamp = _stamp_path(out_dir, job.call_id)
    if not stamp.is_file() or not result_path(out_dir, job.call_id).is_file():
        return None
    try:
        data = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("fingerprint") != fingerprint:
        return None
    return CallOutcome(
        call_id=job.call_id, source=job.source, kind=job.kind, status="resumed",
        audio_seconds=float(data.get("audio_seconds") or 0.0),
        skipped_checks=dict(data.get("skipped_checks") or {}),
    )


def _save(out_dir: Path, outcome: CallOutcome, fingerprint: str) -> None:
    """Write the call's result, then its stamp (both atomic; a crash between them re-runs the call)."""
    from qc.run.store import result_path, save_call_result
    from qc.transcript import write_json_atomic

    path = result_path(out_dir, outcome.call_id)
    try:
        assert outcome.result is not None, "a scored call carries its result"
        save_call_result(outcome.result, out_dir)
        path = _stamp_path(out_dir, outcome.call_id)
        write_json_atomic(
            {"call_id": outcome.call_id, "source": outcome.source, "fingerprint": fingerprint,
             "audio_seconds": outcome.audio_seconds, "skipped_checks": outcome.skipped_checks},
            path,
        )
    except OSError as e:
        raise _cannot_write(path, e) from None


# --- the driver ----------------------------------------------------------------------------


def score_night(
    inputs: Sequence[str | Path] | str | Path,
    out_dir: str | Path,
    *,
    meta: str | Path | None = None,
    pattern: str | None = None,
    rules: str | Path | None = None,
    scorecard: str | Path | None = None,
    workers: int | None = None,
    threads: int | None = None,
    engine: str = "local",
    address: str | None = None,
    backend: str = "faster-whisper",
    model: str | None = None,
    channel_map: str | Sequence[str] | None = None,
    asr_options: dict[str, Any] | None = None,
    cache_dir: str | Path | None = None,
    force: bool = False,
    report: bool = True,
    report_options: dict[str, Any] | None = None,
    progress: Callable[[CallOutcome, NightSummary, int], None] | None = None,
) -> NightSummary:
    """Score a night of calls and write the report.

    Args:
        inputs: recordings (files or folders, searched recursively) or transcript folders/files.
        out_dir: where ``calls/<call_id>.json``, the report and ``night_summary.json`` go.
        meta: calls.csv with call_id, agent_id, team, started_at, ... (see :mod:`qc.ingest`);
            default: a ``calls.csv`` at the top of the input folder.
        pattern: filename pattern such as ``{agent_id}_{call_id}.wav`` when there is no calls.csv.
        rules: rule file or folder (default: the shipped rules, :func:`qc.defaults.rules_path`).
        scorecard: scorecard YAML (default: the shipped ``scorecards/default.yaml``).
        workers: worker processes (local) or actors (Ray); each holds one Whisper model. Default:
            one per core of this machine, no more than there are calls to score (see
            :func:`default_workers`).
        threads: CPU threads per worker (default ``cores / workers``, so the machine is not
            oversubscribed). Whisper's output depends slightly on it: pin it to get the same
            transcripts on machines with different core counts.
        engine: "local" or "ray".
        address: Ray cluster address (default: start a local Ray instance).
        backend, model, channel_map, asr_options: ASR settings (see :func:`qc.asr.load_transcriber`).
        cache_dir: transcript cache root (default ``$QC_CACHE_DIR`` or ``~/.cache/qc``).
        force: recompute every call, even those an earlier run finished (transcripts still come
            from the cache; clear it to re-recognise).
        report: write the reports at the end.
        report_options: keyword arguments for :func:`qc.report.write_reports`.
        progress: called after each call as ``progress(outcome, summary_so_far, total)``.

    Returns:
        The :class:`NightSummary` (also written to ``out_dir/night_summary.json``).

    Raises:
        UsageError: nothing to score, a bad path, calls.csv, rules or scorecard, or bad options.
        KeyboardInterrupt: after saving the summary of the calls finished so far (:class:`Interrupted`
            for SIGINT/SIGTERM: the first signal stops scheduling and ends the workers within 5 s,
            a second exits the process at once).
    """
    t0 = time.perf_counter()
    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r}; choose one of: {', '.join(ENGINES)}")
    if workers is not None and workers < 1:
        raise UsageError(f"--workers must be at least 1 (got {workers})")
    if threads is not None and threads < 1:
        raise UsageError(f"--threads must be at least 1 (got {threads})")
    if isinstance(inputs, (str, Path)):
        inputs = [inputs]
    out = Path(out_dir)
    config = _config(rules, scorecard, backend, model, channel_map, asr_options, cache_dir)
    try:
        pipeline = CallPipeline(config)  # fail fast, in the parent, on bad rules or a bad scorecard
    except ValueError as e:
        raise UsageError(str(e)) from None
    if meta is None and pattern is None:
        meta = find_call_table(inputs)
    jobs, rejected = plan_jobs(inputs, meta, pattern)
    config_hash = config_fingerprint(config)

    summary = NightSummary(out_dir=str(out), engine=engine, workers=workers or 0)
    total = len(jobs) + len(rejected)
    fingerprints: dict[str, str] = {}
    todo: list[CallJob] = []

    def record(outcome: CallOutcome) -> None:
        with _signals_held():  # a call saved is a call counted: Ctrl-C waits for both
            if outcome.status == "scored":
                _save(out, outcome, fingerprints[outcome.call_id])
            elif outcome.status == "failed":
                log.error("%s", outcome.error)
            outcome.result = None  # saved to disk; keep the summary small
            summary.calls.append(outcome)
        if progress is not None:
            progress(outcome, summary, total)

    for outcome in rejected:
        record(outcome)
    for job in jobs:
        try:
            fingerprints[job.call_id] = job_fingerprint(job, config_hash)
        except OSError as e:
            record(CallOutcome(call_id=job.call_id, source=job.source, kind=job.kind, status="failed",
                               error=f"{job.source}: cannot read ({e.strerror or e})"))
            continue
        done = None if force else _finished(out, job, fingerprints[job.call_id])
        if done is not None:
            record(done)
        else:
            todo.append(job)
    workers = workers or default_workers(len(todo))
    summary.workers = workers
    config = replace(config, cpu_threads=threads or max(1, available_cpus() // workers))
    pipeline.config = config  # the model is loaded on first use, with this thread budget
    if todo:
        log.info("%d calls to score (%d already done) with the %s engine, %d worker(s)",
                 len(todo), len(summary.calls) - len(summary.failed), engine, workers)

    try:
        with _interrupts():
            if todo and engine == "ray":
                from qc.run.ray import run_ray

                run_ray(todo, config, workers, record, address=address)
            elif todo:
                run_local(todo, config, workers, record, pipeline)
            if report:
                summary.report = _write_report(out, summary, report_options or {})
    except KeyboardInterrupt:
        summary.interrupted = True
        summary.wall_seconds = time.perf_counter() - t0
        _write_summary(summary, out, quiet=True)
        raise
    except OutputError:
        summary.wall_seconds = time.perf_counter() - t0
        _write_summary(summary, out, quiet=True)
        raise
    except OSError as e:  # the report folder (ExportError names the file)
        summary.wall_seconds = time.perf_counter() - t0
        _write_summary(summary, out, quiet=True)
        raise OutputError(str(e) if e.filename is None else str(_cannot_write(Path(e.filename), e))) from None
    except ValueError as e:  # the history database (HistoryError)
        from qc.report.history import HistoryError

        if not isinstance(e, HistoryError):
            raise
        _write_summary(summary, out, quiet=True)
        raise OutputError(str(e)) from None

    summary.wall_seconds = time.perf_counter() - t0
    _write_summary(summary, out)
    return summary


def _config(rules, scorecard, backend, model, channel_map, asr_options, cache_dir) -> PipelineConfig:
    from qc.asr.transcriber import parse_channel_map

    try:
        channels = parse_channel_map(channel_map) if channel_map is not None else None
    except ValueError as e:
        raise UsageError(str(e)) from None
    return PipelineConfig(
        rules=str(rules) if rules is not None else "",
        scorecard=str(scorecard) if scorecard else None,
        backend=backend,
        model=model,
        asr_options=dict(asr_options or {}),
        channel_map=channels,
        cache_dir=str(cache_dir) if cache_dir else None,
    )


def _write_report(out: Path, summary: NightSummary, options: dict[str, Any]) -> str | None:
    from qc.report import write_reports
    from qc.run.store import load_call_results, result_path

    # Only this night's calls: the folder may hold results of calls no longer in the inputs.
    wanted = {result_path(out, c.call_id).name for c in summary.calls if c.status != "failed"}
    if not wanted:
        return None
    results = [r for r in load_call_results(out) if result_path(out, r.call_id).name in wanted]
    failures = [(c.call_id, c.source, c.error or "") for c in summary.failed]
    night = write_reports(results, out, **{"failures": failures, **options})
    return str(night.index)


def _write_summary(summary: NightSummary, out: Path, quiet: bool = False) -> None:
    """Write night_summary.json; ``quiet``: on the way out after another error, only log a failure."""
    from qc.transcript import write_json_atomic

    try:
        write_json_atomic(summary.as_dict(), out / SUMMARY_NAME)
    except OSError as e:
        if not quiet:
            raise _cannot_write(out / SUMMARY_NAME, e) from None
        log.debug("%s: cannot write (%s)", out / SUMMARY_NAME, e.strerror or e)  # the error being raised says why
