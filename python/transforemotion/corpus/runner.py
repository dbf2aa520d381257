"""Scoring a whole corpus of videos and images, resumably: ``score_corpus``.

The corpus is cut into units (a batch of images, or a run of consecutive
sampled frames of one video; see :mod:`.inputs`). Each
finished unit is saved at once as a Parquet part in the output folder
(:mod:`.store`), so a job that dies loses only the units
in flight: the same call run again skips what is finished. Units are scored
in this process (``engine="local"``, :mod:`.units`) or
by a pool of Ray workers (``engine="ray"``, :mod:`.ray_engine`).
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from typing import Dict, Iterator, List, Optional, Sequence, Union

from ..core.checks import check_choice, check_count, check_flag, check_number, check_text
from ..core.errors import ArgumentError
from ..core.messages import InputsFailedWarning, arg, function, value, warn
from ..embeddings import EMBEDDING_COLUMN, PRECISIONS
from ..core.options import takes_options
from ..engine import (BOX_COLUMNS, FACE_COLUMN, PERSON_COLUMN, TIME_COLUMNS, ScoringOptions, ScoringRequest,
                      check_person_options, scoring_request)
from ..media import FrameSampling
from .inputs import Unit, plan_units, read_sources, rerun_advice, warn_short_videos
from .store import FORMAT, CorpusFolder, require_pyarrow
from .units import UnitResult, score_units

__all__ = ["score_corpus", "ENGINES", "DEFAULT_UNIT_SIZE"]

ENGINES = ("local", "ray")
# Sampled frames per video segment, images per image batch: about 10 s of work per unit for
# ViT-B/32 on a laptop CPU, a few seconds on a GPU; little is lost to a crash.
DEFAULT_UNIT_SIZE = 256
MAX_UNIT_SIZE = 100_000
_LEADING = ("source", "id") + TIME_COLUMNS + (PERSON_COLUMN, FACE_COLUMN) + BOX_COLUMNS


def _check_labels_free(labels: Sequence[str], more: Sequence[str] = ()) -> None:
    taken = _LEADING + tuple(more)
    clash = [label for label in labels if label in taken]
    if clash:
        raise ArgumentError(f"The class label(s) {', '.join(value(c) for c in clash)} would have the same name as a "
                         f"column of the result ({', '.join(taken)}). Rename the label, for example "
                         f"{value(clash[0] + ' (label)')}.")


def _arguments(request: ScoringRequest, sampling: FrameSampling, unit_size, id_column) -> dict:
    """What decides the rows: a rerun with anything else here would mix incompatible parts."""
    return {
        "classes": list(request.plan.labels),
        "face_selection": request.plan.face_selection,
        "face_boxes": request.face_boxes,
        "templates": None if request.plan.templates is None else list(request.plan.templates),
        "model": request.model.source,
        "architecture": request.model.architecture,
        "nframes": sampling.nframes,
        "ffreq": sampling.ffreq,
        "uniform": sampling.uniform,
        "start": sampling.start,
        "end": sampling.end,
        "unit_size": unit_size,
        "id_column": id_column,
        "keep_embeddings": request.plan.keep_embeddings,
        "embedding_precision": request.plan.embedding_precision if request.plan.keep_embeddings else None,
    }


def _refuse_changes(folder: str, recorded: dict, wanted: dict) -> None:
    changed = [k for k in wanted if recorded.get(k) != wanted[k]]
    if "keep_embeddings" in changed and "embedding_precision" in changed:
        changed.remove("embedding_precision")  # kept or not says it: a precision of nothing kept is no news
    if not changed:
        return

    def shown(key, v):
        if key == "nframes" and v is None:
            return "its default"
        if key == "embedding_precision" and v is None:
            return "(no embeddings kept)"
        return value(v)

    details = "; ".join(f"{arg(k)} was {shown(k, recorded.get(k))}, now {shown(k, wanted[k])}" for k in changed)
    raise ArgumentError(f"{folder} holds a corpus scored with other arguments ({details}). Its parts cannot be mixed "
                     f"with these. Run the call with the recorded arguments to resume it, give another output "
                     f"folder, or use {arg('overwrite', True)} to delete its results and start over.")


def _say(show: bool, message: str) -> None:
    if show:
        print(f"{function('score_corpus')}: {message}", file=sys.stderr, flush=True)


@takes_options("inputs classes output_dir * engine nframes face_selection start end uniform ffreq recursive model "
               "local_model_path face_boxes templates unit_size overwrite keep_embeddings embedding_precision "
               "batch_size device progress address workers gpus_per_worker cpus_per_worker persons",
               options=ScoringOptions, sampling=FrameSampling)
def score_corpus(
    inputs: Union[str, Sequence[str]],
    classes: Sequence[str],
    output_dir: str,
    engine: str = "local",
    recursive: bool = False,
    unit_size: int = DEFAULT_UNIT_SIZE,
    overwrite: bool = False,
    keep_embeddings: bool = False,
    embedding_precision: str = "float32",
    address: Optional[str] = None,
    workers: Optional[int] = None,
    gpus_per_worker: Optional[float] = None,
    cpus_per_worker: float = 1,
    persons: Optional[int] = None,
    *,
    options: ScoringOptions,
    sampling: FrameSampling,
) -> Dict[str, list]:
    """Score every video and image of a corpus into ``output_dir``, resumably.

    Each finished unit of work (a batch of ``unit_size`` images, or a run of
    ``unit_size`` consecutive sampled frames of one video) is saved at once
    as a Parquet file under ``output_dir/parts``, so a job that stops (a
    crash, a time limit, Ctrl-C) loses only the units in flight: run the
    same call again and it skips the finished units. Read the scores with
    :func:`read_corpus`.

    Args:
        inputs: a folder (its videos and images; ``recursive`` for
            sub-folders), a list of video and image files, or a manifest
            file (``.csv`` or ``.parquet``) with a ``path`` column and
            optional ``id``, ``start`` and ``end`` (seconds) columns; relative
            paths in a manifest are read from the manifest's folder.
        classes: at least two labels, as in ``video_scores``.
        output_dir: where the results go (created if needed). It holds
            ``corpus.json`` (the arguments), ``parts/`` and, when something
            failed, ``failures.csv``; nothing else in it is touched.
        engine: ``"local"`` (this process) or ``"ray"`` (a pool of Ray
            workers; needs ``pip install 'transforemotion[ray]'``).
        nframes, start, end, uniform, ffreq: which frames of each video, as
            in ``video_scores`` (a manifest's ``start``/``end`` override
            ``start``/``end`` for its row).
        face_selection, model, local_model_path, face_boxes, templates,
        batch_size, device, face_workers: as in ``video_scores``.
        unit_size: sampled frames per video segment and images per image
            batch; one long video is shared between workers segment by
            segment.
        overwrite: delete this function's earlier results in ``output_dir``
            (only its own files) and start over; needed to change the
            classes, model or sampling of a folder already scored.
        keep_embeddings: also keep each row's image embedding in its part,
            so that :func:`rescore_corpus` can score new labels later without
            reading a video again (about 2 KB a row for 512 dimensions,
            1 KB with ``embedding_precision="float16"``).
        embedding_precision: ``"float32"`` (rescores equal fresh scores) or
            ``"float16"`` (half the size; scores move by about 1e-4).
        progress: a progress bar over units and a line saying how many were
            finished earlier (default on; ``TRANSFOREMOTION_PROGRESS=0`` off).
        address: Ray only: ``"auto"`` (the cluster this machine belongs
            to), ``"ray://host:10001"``, or ``None`` (a Ray instance started
            for this call, unless one is already running in this process).
        workers: Ray only: how many workers, each with its own model
            (default: one per GPU, or one per CPU without GPUs).
        gpus_per_worker: Ray only: GPUs reserved per worker (default 1 where
            the cluster has GPUs, else 0).
        cpus_per_worker: Ray only: CPUs reserved per worker; also its torch
            thread count (at least 1). Use 0.5 on a machine with few cores, so
            that Ray keeps a CPU for its own work.
        persons: with ``face_selection="all"``, :func:`read_corpus` keeps
            only the N people seen most often in each video. It is recorded
            in ``corpus.json`` and used when the corpus is read (people are
            followed through each video then); changing it needs no new
            scoring.

    Returns:
        A dict of columns with one row per unit: ``unit``, ``kind``
        (``"video"``/``"images"``), ``source`` (the first one in the unit),
        ``pictures``, ``status`` (``"scored"``, ``"skipped"``: finished
        earlier, or ``"failed"``), ``rows``, ``no_face`` (pictures without a
        face) and ``reason``. A unit that fails (a missing, unreadable or
        truncated file) is listed in ``output_dir/failures.csv`` and does not
        stop the others; one warning counts the failures, and a rerun tries
        them again.

    Example:
        >>> score_corpus("videos/", ["joy", "anger"], "scores/", nframes=500, ffreq=5)  # doctest: +SKIP
        >>> read_corpus("scores/")  # doctest: +SKIP
        {'source': ['a.mp4', 'a.mp4', ...], 'frame': [0, 5, ...], 'time': [0.0, 0.2, ...], 'joy': [...], ...}
    """
    engine = check_choice("engine", engine, ENGINES)
    on_ray = engine == "ray"
    for name, flag in (("recursive", recursive), ("overwrite", overwrite), ("keep_embeddings", keep_embeddings)):
        check_flag(name, flag)
    embedding_precision = check_choice("embedding_precision", embedding_precision, PRECISIONS)
    unit_size = check_count("unit_size", unit_size, 1, MAX_UNIT_SIZE)
    persons = check_person_options(options.face_selection, persons, names_allowed=False)
    # On Ray the model runs on the workers, whose devices this machine cannot see: only the spelling is checked.
    request = scoring_request(classes, options, video=True, device_check=not on_ray)
    _check_labels_free(request.plan.labels)
    if keep_embeddings:
        _check_labels_free(request.plan.labels, (EMBEDDING_COLUMN,))
        request = replace(request, plan=replace(request.plan, keep_embeddings=True,
                                                embedding_precision=embedding_precision))
    check_text("output_dir", output_dir, "a folder path")
    output_dir = os.path.expanduser(output_dir)
    if os.path.exists(output_dir) and not os.path.isdir(output_dir):
        raise ArgumentError(f"{arg('output_dir')} must be a folder; {output_dir} is a file. Give a folder path "
                         "(it is created if needed).")
    if on_ray:
        from .ray_engine import check_address, require_ray

        address = check_address(address)
        if workers is not None:
            workers = check_count("workers", workers, 1)
        gpus_per_worker = check_number("gpus_per_worker", gpus_per_worker, 0, allow_none=True)
        cpus_per_worker = check_number("cpus_per_worker", cpus_per_worker, 0.01)
        require_ray()
    require_pyarrow()
    sources, id_column = read_sources(inputs, recursive, sampling.start, sampling.end)

    folder = CorpusFolder(output_dir)
    with folder.lock():
        if overwrite:
            folder.remove_ours()
        folder.remove_leftovers()
        arguments = _arguments(request, sampling, unit_size, id_column)
        recorded = folder.read_record()
        if recorded is not None:
            # Folders scored before embeddings could be kept have no word on them: they kept none.
            earlier = {"keep_embeddings": False, "embedding_precision": None, **recorded.get("arguments", {})}
            _refuse_changes(output_dir, earlier, arguments)
        plan = plan_units(sources, sampling, unit_size)
        warn_short_videos(plan.short_videos, sampling.nframes)
        folder.write_record({"format": FORMAT, "arguments": arguments, "persons": persons,
                             "sources": [s.name for s in sources], "units": [u.id for u in plan.units]})
        return _run(folder, plan.units, request, id_column, on_ray, address, workers, gpus_per_worker,
                    cpus_per_worker)


def _run(folder: CorpusFolder, units: List[Unit], request: ScoringRequest, id_column: str, on_ray: bool, address,
         workers, gpus_per_worker, cpus_per_worker) -> Dict[str, list]:
    in_plan = {u.id for u in units}
    failures = {k: v for k, v in folder.read_failures().items() if k in in_plan}
    finished = folder.finished_parts()
    done = {u.id for u in units if u.id in finished and u.id not in failures}
    for unit in units:
        if unit.error is not None:
            failures[unit.id] = [(unit.names[0], unit.error)]
    folder.write_failures(failures)
    todo = [u for u in units if u.id not in done and u.error is None]
    show = request.progress
    if done:
        _say(show, f"{len(done)} of {len(units)} units in {folder.path} were finished earlier and are skipped; "
                   f"{len(todo)} to score.")
    results: Dict[str, UnitResult] = {}

    def record(result: UnitResult) -> None:
        # A failure is listed before its part is written, and a retried unit's failure removed only after
        # its part is in place, so whenever the run stops a unit counts as finished only if it is.
        if result.failures:
            failures[result.unit] = result.failures
            folder.write_failures(failures)
        if result.part is not None:
            folder.write_part(result.unit, result.part)
        if not result.failures and result.unit in failures:
            del failures[result.unit]
            folder.write_failures(failures)
        results[result.unit] = result

    from tqdm.auto import tqdm

    try:
        with tqdm(total=len(units), initial=len(units) - len(todo), unit="unit", desc=function("score_corpus"),
                  disable=not show or not todo, leave=False) as bar:
            if todo:
                for result in _engine(todo, request, id_column, on_ray, address, workers, gpus_per_worker,
                                      cpus_per_worker):
                    record(result)
                    bar.update(1)
    except KeyboardInterrupt:
        # Ctrl-C: every finished unit is on disk already; say how far the run got and how to go on.
        finished = len(done) + sum(1 for unit in results if unit not in failures)
        raise KeyboardInterrupt(stopped_message(finished, len(units))) from None
    summary = _summary(units, done, results, failures)
    no_face = sum(r.no_face for r in results.values())
    if no_face:
        _say(show, f"no face was found in {no_face} of the pictures scored now; their rows have missing values. "
                   f"To score whole pictures instead, use {arg('face_selection', 'none')}.")
    _warn_failures(folder, units, failures)
    return summary


def stopped_message(finished: int, total: int) -> str:
    """The one line an interrupted corpus run ends with, in Python, R and the shell."""
    return f"stopped; {finished} of {total} units finished; run the same command again to continue"


def _engine(todo, request, id_column, on_ray, address, workers, gpus_per_worker, cpus_per_worker
            ) -> Iterator[UnitResult]:
    if on_ray:
        from .ray_engine import score_units_on_ray

        return score_units_on_ray(todo, request, id_column, address, workers, gpus_per_worker, cpus_per_worker)
    return score_units(request.load, todo, request, id_column)


def _summary(units, done, results, failures) -> Dict[str, list]:
    table: Dict[str, list] = {k: [] for k in ("unit", "kind", "source", "pictures", "status", "rows", "no_face",
                                              "reason")}
    for unit in units:
        result = results.get(unit.id)
        failed = failures.get(unit.id)
        table["unit"].append(unit.id)
        table["kind"].append(unit.kind)
        table["source"].append(unit.names[0])
        table["pictures"].append(len(unit.frames) if unit.kind == "video" else len(unit.paths))
        table["status"].append("failed" if failed else "skipped" if unit.id in done else
                               "scored" if result is not None else "not scored")
        table["rows"].append(result.rows if result is not None else float("nan"))
        table["no_face"].append(result.no_face if result is not None else float("nan"))
        table["reason"].append("; ".join(f"{s}: {r}" for s, r in failed) if failed else "")
    return table


def _warn_failures(folder: CorpusFolder, units: List[Unit], failures: dict) -> None:
    if not failures:
        return
    sources = {s for rows in failures.values() for s, _ in rows}
    first_unit = next(u for u in units if u.id in failures)
    source, reason = failures[first_unit.id][0]
    warn(f"{len(failures)} of {len(units)} units could not be scored completely ({len(sources)} file(s)); the "
         f"others were scored. The first: {source}: {reason} Each one is listed with its reason in "
         f"{folder.failures_path}. {rerun_advice(failures)}", InputsFailedWarning)
