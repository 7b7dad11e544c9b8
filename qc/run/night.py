"""The night batch: a folder of recordings (or transcripts) in, scored calls and reports out.

    summary = score_night(["recordings/"], "night/", meta="calls.csv", workers=2)
    summary.exit_code      # 0 every call scored, 1 some failed

Each call runs :class:`qc.run.pipeline.CallPipeline` (decode -> transcribe, cached -> emotion -> rules
-> scoring) in a worker process that loads the Whisper model once (``engine="local"``) or in a
Ray Data actor pool (``engine="ray"``, :mod:`qc.run.ray`). Results are written atomically to
``out_dir/calls/<call_id>.json`` as each call finishes, so Ctrl-C or a crash loses only the calls
in flight, and a re-run skips calls whose input, metadata, rules, scorecard and ASR settings are
unchanged. Then :func:`qc.report.write_reports` writes the night report.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Sequence

from qc.run.pipeline import CallJob, CallOutcome, CallPipeline, PipelineConfig, config_fingerprint, job_fingerprint

__all__ = [
    "ENGINES", "NightSummary", "UsageError", "Interrupted", "OutputError", "plan_jobs", "find_call_table", "score_night", "available_cpus",
    "default_workers",
    "console_progress",
]

log = logging.getLogger(__name__)

ENGINES: tuple[str, ...] = ("local", "ray")
SUMMARY_NAME = "night_summary.json"
STATE_DIR = ".qc"  # inside out_dir: one stamp per finished call, for resuming


class UsageError(ValueError):
    """The batch cannot start: no inputs, unreadable rules/scorecard/calls.csv, bad options."""


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
        raise Interrupted(signum)

    before = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in before.items():
            signal.signal(sig, old)


@contextmanager
def _signals_held():
    """SIGINT/SIGTERM wait until the block is done (then the handler runs), where the OS allows."""
    import signal
    import threading

    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


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
            "calls": [{k: v for k, v in asdict(c).items() if k != "result"} for c in self.calls],
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


def available_cpus() -> int:
    """CPU cores this process may use (affinity-aware)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


# --- planning ------------------------------------------------------------------------------


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


# --- resume --------------------------------------------------------------------------------


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
    from qc.run.store import CallResult, result_path, save_call_result
    from qc.transcript import write_json_atomic

    path = result_path(out_dir, outcome.call_id)
    try:
        save_call_result(CallResult.from_dict(outcome.result or {}), out_dir)
        path = _stamp_path(out_dir, outcome.call_id)
        write_json_atomic(
            {"call_id": outcome.call_id, "source": outcome.source, "fingerprint": fingerprint,
             "audio_seconds": outcome.audio_seconds, "skipped_checks": outcome.skipped_checks},
            path,
        )
    except OSError as e:
        raise _cannot_write(path, e) from None


# --- the local engine ----------------------------------------------------------------------

_WORKER: CallPipeline | None = None


def _die_with_parent() -> None:
    """End this worker when the process that started it dies (``kill -9`` of qc leaves no orphans).

    Linux: the kernel sends SIGKILL (prctl PR_SET_PDEATHSIG); everywhere: a thread polls the
    parent id once a second.
    """
    import signal
    import threading

    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="qc-parent-watch", daemon=True).start()


def _init_worker(config: PipelineConfig, log_level: int) -> None:
    import signal

    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops the pool
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    logging.basicConfig(level=log_level, format="%(levelname)s %(name)s[%(process)d]: %(message)s", stream=sys.stderr)
    if log_level > logging.DEBUG:  # as in the CLI: faster-whisper's per-file chatter is for debugging
        logging.getLogger("faster_whisper").setLevel(logging.WARNING)
    from qc.redact import redact_logs

    redact_logs()
    global _WORKER
    _WORKER = CallPipeline(config)


def _work(job: CallJob) -> CallOutcome:
    assert _WORKER is not None, "worker not initialised"
    return _WORKER.run(job)


def run_local(
    jobs: Sequence[CallJob],
    config: PipelineConfig,
    workers: int,
    on_outcome: Callable[[CallOutcome], None],
    pipeline: CallPipeline | None = None,
) -> None:
    """Run jobs in this process (``workers=1``) or in a pool of worker processes.

    Each worker builds one :class:`CallPipeline` (so one Whisper model) in its initializer. A worker
    that dies (out of memory, a crash in native code) is replaced; a call that kills two workers is
    reported as failed instead of taking the night down.
    """
    if workers <= 1:
        pipeline = pipeline or CallPipeline(config)
        for job in jobs:
            on_outcome(pipeline.run(job))
        return

    import multiprocessing as mp

    pending = list(jobs)
    attempts: dict[str, int] = {}
    ctx = mp.get_context("spawn")  # fork would copy model threads' state; spawn is safe everywhere
    with _omp_threads(config.cpu_threads):
        _run_pool(pending, config, workers, on_outcome, ctx, attempts)


@contextmanager
def _omp_threads(threads: int):
    """OMP_NUM_THREADS for the worker processes started inside this block.

    numpy's OpenBLAS (the mel features) and CTranslate2's OpenMP runtime read it once, when they
    are loaded, and their thread counts change the float reduction order, hence the words Whisper
    picks: a worker must have it from its first instruction (as a Ray actor gets it from Ray) or
    the local and Ray engines transcribe apart.
    """
    if threads <= 0:
        yield
        return
    before = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = str(threads)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = before


def _run_pool(pending, config, workers, on_outcome, ctx, attempts) -> None:
    from concurrent.futures.process import BrokenProcessPool

    while pending:
        pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                                   initargs=(config, logging.getLogger().getEffectiveLevel()))
        futures = {pool.submit(_work, job): job for job in pending}
        pending = []
        try:
            not_done = set(futures)
            while not_done:
                done, not_done = wait(not_done, return_when=FIRST_COMPLETED)
                for fut in done:
                    job = futures[fut]
                    try:
                        on_outcome(fut.result())
                    except BrokenProcessPool:
                        attempts[job.call_id] = attempts.get(job.call_id, 0) + 1
                        if attempts[job.call_id] >= 2:
                            on_outcome(CallOutcome(
                                call_id=job.call_id, source=job.source, kind=job.kind, status="failed",
                                error=f"{job.source}: the worker process died twice while scoring this call "
                                      "(out of memory or a crash in the decoder/model); check the file. If every "
                                      "call fails like this, the workers cannot start: run with --workers 1 to see why",
                            ))
                        else:
                            pending.append(job)
            pool.shutdown(wait=True)
        except BaseException:
            _stop_pool(pool)
            raise
        if pending:
            log.warning("a worker process died; restarting the pool for %d unfinished calls", len(pending))


def _stop_pool(pool: ProcessPoolExecutor, grace: float = 5.0) -> None:
    """Cancel queued calls and end the workers: SIGTERM, then SIGKILL after ``grace`` seconds."""
    # shutdown() empties pool._processes (Python 3.11+): take the list first
    procs = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    deadline = time.monotonic() + grace
    for proc in procs:
        proc.join(max(0.0, deadline - time.monotonic()))
    for proc in procs:
        if proc.is_alive():
            proc.kill()
            proc.join(1.0)
    # shutdown() above already woke the pool's manager thread, which now closes its wake-up pipe;
    # concurrent.futures would wake it again at interpreter exit, and in Python 3.11 that write can
    # race the close ("OSError: [Errno 9] Bad file descriptor" printed after "interrupted").
    from concurrent.futures import process as futures_process

    if manager is not None:
        futures_process._threads_wakeups.pop(manager, None)


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
        from qc.history import HistoryError

        if not isinstance(e, HistoryError):
            raise
        _write_summary(summary, out, quiet=True)
        raise OutputError(str(e)) from None

    summary.wall_seconds = time.perf_counter() - t0
    _write_summary(summary, out)
    return summary


def default_workers(calls: int) -> int:
    """One worker per core, no more than there are calls.

    On CPU, Whisper runs faster as N single-threaded processes than as one process with N
    threads (bench/bench_night.py: 39 s vs 46 s for the seven samples on 2 cores).
    """
    return max(1, min(available_cpus(), calls))


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


# --- progress on the console ---------------------------------------------------------------


class console_progress:  # noqa: N801 (used like a function: ``with console_progress() as p``)
    """Progress for :func:`score_night`: a rich bar on a terminal, plain log lines otherwise.

    The bar shows calls done, audio hours processed and the ETA; each failure is printed as it
    happens.
    """

    def __init__(self, stream=None, force_plain: bool = False):
        self.stream = stream or sys.stderr
        self.plain = force_plain or not self.stream.isatty()
        self._bar = None
        self._task = None

    def __enter__(self) -> console_progress:
        if not self.plain:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self._bar = Progress(
                TextColumn("scoring"), BarColumn(), MofNCompleteColumn(), TextColumn("calls"),
                TextColumn("{task.fields[hours]:.2f} h audio"), TextColumn("{task.fields[failed]} failed"),
                TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                console=Console(file=self.stream), transient=False,
            )
            self._bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def __call__(self, outcome: CallOutcome, summary: NightSummary, total: int) -> None:
        done = len(summary.calls)
        if self._bar is not None:
            if self._task is None:
                self._task = self._bar.add_task("night", total=total, hours=0.0, failed=0)
            self._bar.update(self._task, completed=done, hours=summary.audio_seconds / 3600, failed=len(summary.failed))
            if outcome.status == "failed":
                self._bar.console.print(f"[red]FAILED[/red] {outcome.call_id}: {outcome.error}", markup=True, highlight=False)
            return
        what = {"scored": "scored", "resumed": "already done", "failed": "FAILED"}[outcome.status]
        extra = f": {outcome.error}" if outcome.error else (
            f" ({outcome.audio_seconds:.0f} s audio, {outcome.seconds:.1f} s{', cached transcript' if outcome.from_cache else ''})"
            if outcome.status == "scored" else "")
        print(f"[{done}/{total}] {outcome.call_id} {what}{extra}", file=self.stream, flush=True)

