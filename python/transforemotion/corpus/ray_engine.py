"""The Ray engine of ``score_corpus``: the same units, scored by a pool of Ray actors.

Each actor is a worker process that loads the model once (in its
constructor) and then scores one unit per call with the same code as the
local engine (:func:`~transforemotion.corpus.units.score_units`). Results
(the Parquet bytes of each part, and what failed) stream back to the calling
process, which writes them into the output folder as they arrive, so the
output folder need only be reachable from there; the videos and images must
be readable from every node.
"""

from __future__ import annotations

import contextlib
import logging
import math
from typing import Iterator, Optional, Sequence

from ..core.errors import ArgumentError, MissingPackageError
from ..core.messages import arg, function, last_line, value
from .inputs import Unit
from .units import UnitResult, score_units

__all__ = ["require_ray", "score_units_on_ray", "check_address"]


def require_ray():
    try:
        import ray  # noqa: F401
        import ray.data  # noqa: F401
    except ImportError:
        raise MissingPackageError(
            f"{arg('engine', 'ray')} needs Ray Data, which is not installed. Install the ray extra: "
            "pip install 'transforemotion[ray]' (on every node of the cluster), or use "
            f"{arg('engine', 'local')} to score in this process."
        ) from None
    return ray


def check_address(address) -> Optional[str]:
    if address is None:
        return None
    if not isinstance(address, str) or not address.strip():
        raise ArgumentError(f"{arg('address')} must be {value('auto')} (the cluster this machine belongs to), a "
                         f"{value('ray://host:10001')} address, or {value(None)} for a Ray instance in this process; "
                         f"got {value(address)}.")
    return address


class _UnitScorer:
    """One Ray actor: a model loaded once, then units scored one call at a time."""

    def __init__(self, request, id_column: str, threads: int):
        import torch

        from ..models import load_model

        # Ray sets OMP_NUM_THREADS from the actor's CPUs, but torch may have read it before that.
        torch.set_num_threads(threads)
        self.request = request
        self.id_column = id_column
        self.model = load_model(request.model, device=request.device)

    def __call__(self, batch):
        import pyarrow as pa

        units = [Unit.from_json(text) for text in batch["unit"]]
        results = list(score_units(self.model, units, self.request, self.id_column))
        return pa.table({
            "unit": pa.array([r.unit for r in results], pa.string()),
            "part": pa.array([r.part for r in results], pa.binary()),
            "failure_sources": pa.array([[s for s, _ in r.failures] for r in results], pa.list_(pa.string())),
            "failure_reasons": pa.array([[m for _, m in r.failures] for r in results], pa.list_(pa.string())),
            "rows": pa.array([r.rows for r in results], pa.int64()),
            "no_face": pa.array([r.no_face for r in results], pa.int64()),
        })


@contextlib.contextmanager
def _quiet_ray_data(ray):
    """Ray Data's own progress bars and per-run log lines off while we run (ours count units), then back."""
    context = ray.data.DataContext.get_current()
    # print_on_execution_start is newer than the oldest Ray we accept: set only what this Ray has.
    names = [n for n in ("enable_progress_bars", "print_on_execution_start") if hasattr(context, n)]
    saved = {n: getattr(context, n) for n in names}
    logger = logging.getLogger("ray.data")
    level = logger.level
    for name in names:
        setattr(context, name, False)
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for name, was in saved.items():
            setattr(context, name, was)
        logger.setLevel(level)


def score_units_on_ray(units: Sequence[Unit], request, id_column: str, address: Optional[str],
                       workers: Optional[int], gpus_per_worker: Optional[float],
                       cpus_per_worker: float) -> Iterator[UnitResult]:
    """Score ``units`` on Ray; yield each result as it arrives (in no particular order)."""
    ray = require_ray()
    started = not ray.is_initialized()
    if started:
        try:
            ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING,
                     configure_logging=True)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = "a local Ray instance" if address is None else f"the Ray cluster at {address}"
            raise RuntimeError(f"Could not start or reach {where} ({exc}). Start Ray on the cluster first "
                               f"(`ray start --head` on one node, `ray start --address=...` on the others) and "
                               f"pass {arg('address', 'auto')}, or use {arg('engine', 'local')}.") from None
    try:
        resources = ray.cluster_resources()
        gpus = resources.get("GPU", 0.0)
        if gpus_per_worker is None:
            gpus_per_worker = 1.0 if gpus >= 1 else 0.0
        if gpus_per_worker > gpus:
            raise ArgumentError(f"{arg('gpus_per_worker', gpus_per_worker)} asks for more GPUs than the Ray cluster "
                             f"has ({gpus:g}). Use {arg('gpus_per_worker', 0)} to score on CPUs.")
        if workers is None:
            # One model per GPU; without GPUs, one single-threaded worker per CPU the cluster offers.
            workers = int(gpus // gpus_per_worker) if gpus_per_worker > 0 else max(1, int(resources.get("CPU", 1)))
        workers = max(1, min(workers, len(units)))
        threads = max(1, math.floor(cpus_per_worker))
        items = [{"unit": u.to_json()} for u in units]
        with _quiet_ray_data(ray):
            dataset = ray.data.from_items(items, override_num_blocks=len(items))
            scored = dataset.map_batches(
                _UnitScorer,
                fn_constructor_kwargs={"request": request, "id_column": id_column, "threads": threads},
                batch_size=1,
                batch_format="numpy",
                compute=ray.data.ActorPoolStrategy(size=workers),
                num_cpus=cpus_per_worker,
                num_gpus=gpus_per_worker,
            )
            try:
                for batch in scored.iter_batches(batch_size=None, batch_format="pyarrow"):
                    for row in batch.to_pylist():
                        yield UnitResult(row["unit"], row["part"],
                                         list(zip(row["failure_sources"], row["failure_reasons"])),
                                         row["rows"], row["no_face"])
            except ray.exceptions.RayError as exc:
                raise RuntimeError(f"A Ray worker failed ({last_line(exc)}). The units finished so far are "
                                   f"saved; fix the cause and run {function('score_corpus')} again to score the "
                                   "rest.") from exc
    finally:
        if started:
            ray.shutdown()
