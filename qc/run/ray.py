"""The Ray engine: the same per-call stages as a Ray Data pipeline with an actor pool.

Each actor builds one :class:`qc.run.pipeline.CallPipeline` (one Whisper model) and scores calls one
at a time; the driver streams the outcomes back and writes each result as it arrives, exactly as
the local engine does, so the outputs are identical. Actors ask for a GPU when the cluster has
them (and Whisper then runs on CUDA); otherwise each gets the same thread budget as a local
worker (``threads``, default ``cores / workers``), which makes the transcripts identical too.

Ray is an optional extra (``pip install 'qc[ray]'``) and is imported only here.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import pickle
from typing import Any, Callable, Sequence

from qc.run.pipeline import CallPipeline, PipelineConfig
from qc.run.plan import CallJob, CallOutcome, UsageError, available_cpus

__all__ = ["run_ray"]

log = logging.getLogger(__name__)


class _CallActor:
    """A Ray Data callable class: one pipeline per actor, built once."""

    def __init__(self, config: PipelineConfig):
        self.pipeline = CallPipeline(config)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list]:
        outcomes: list[bytes] = []
        for i in range(len(batch["call_id"])):
            job = CallJob(
                call_id=str(batch["call_id"][i]),
                source=str(batch["source"][i]),
                kind=str(batch["kind"][i]),
                agent_id=str(batch["agent_id"][i]) or None,
                meta=json.loads(str(batch["meta"][i])),
            )
            # the typed outcome travels pickled, as it does from a local worker process
            outcomes.append(pickle.dumps(self.pipeline.run(job), protocol=pickle.HIGHEST_PROTOCOL))
        return {"outcome": outcomes}


def _import_ray():
    try:
        import ray
    except ImportError:
        raise UsageError("the Ray engine needs Ray: pip install 'qc[ray]' (or pip install 'ray[data]>=2.9')") from None
    return ray


def run_ray(
    jobs: Sequence[CallJob],
    config: PipelineConfig,
    workers: int,
    on_outcome: Callable[[CallOutcome], None],
    address: str | None = None,
) -> None:
    """Score jobs on Ray (a local instance, or the cluster at ``address``) and stream outcomes.

    Input paths must be readable from every Ray node (a shared file system on a cluster).
    """
    ray = _import_ray()
    if not ray.is_initialized():
        init: dict[str, Any] = {"ignore_reinit_error": True, "log_to_driver": True,
                                "logging_level": logging.WARNING}
        if address:
            init["address"] = address
        else:
            init["include_dashboard"] = False
            init["num_cpus"] = available_cpus()
        ray.init(**init)
    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0))
    cpus = max(1, int(resources.get("CPU", 1)))
    per_actor_cpus = config.cpu_threads or max(1, cpus // workers)
    workers = min(workers, len(jobs)) or 1
    actor_config = dataclasses.replace(config, cpu_threads=per_actor_cpus)
    if gpus and config.device == "cpu":
        actor_config = dataclasses.replace(actor_config, device="cuda",
                                           asr_options={"compute_type": "float16", **config.asr_options})
    log.info("Ray: %d actor(s), %s each", workers, "1 GPU" if gpus else f"{per_actor_cpus} CPU")

    items = [
        {"call_id": j.call_id, "source": j.source, "kind": j.kind, "agent_id": j.agent_id or "",
         "meta": json.dumps(j.meta, ensure_ascii=False, sort_keys=True)}
        for j in jobs
    ]
    try:
        ds = ray.data.from_items(items, override_num_blocks=len(items))  # one call per block: balanced
    except TypeError:  # Ray < 2.10 names it parallelism
        ds = ray.data.from_items(items, parallelism=len(items))
    ds = ds.map_batches(
        _CallActor,
        fn_constructor_kwargs={"config": actor_config},
        batch_size=1,
        batch_format="numpy",
        concurrency=workers,
        num_cpus=0 if gpus else per_actor_cpus,
        num_gpus=1 if gpus else 0,
    )
    for row in ds.iter_rows():
        outcome: CallOutcome = pickle.loads(row["outcome"])
        on_outcome(outcome)
