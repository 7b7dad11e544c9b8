"""The local engine: calls scored in this process (one worker) or in a pool of worker processes.

Each worker process builds one :class:`qc.run.pipeline.CallPipeline` (so one Whisper model) and
returns a typed :class:`qc.run.plan.CallOutcome` per call. Workers ignore Ctrl-C (the driver stops
the pool) and die with the process that started them, so no orphan is left behind.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from typing import Callable, Sequence

from qc.run.pipeline import CallPipeline, PipelineConfig
from qc.run.plan import CallJob, CallOutcome

__all__ = ["run_local"]

log = logging.getLogger(__name__)

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
    from qc.report.redact import redact_logs

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
