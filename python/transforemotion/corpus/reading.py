"""Reading a scored corpus back: ``read_corpus`` joins the parts in input order and says what is missing."""

from __future__ import annotations

import os
from typing import Dict, List, Optional, Sequence

from ..core.checks import check_count, check_text
from ..core.errors import ArgumentError, InputNotFoundError
from ..core.messages import arg, function, warn
from ..embeddings import python_values
from ..engine import BOX_COLUMNS, FACE_COLUMN, TIME_COLUMNS, persons_by_video
from .inputs import rerun_advice
from .store import CorpusFolder, part_schema
from .tracked_parts import corpus_person_ids
from ..core.options import takes_paths

__all__ = ["read_corpus", "corpus_columns", "column_names"]


@takes_paths
def read_corpus(output_dir: str, persons: Optional[int] = None) -> Dict[str, list]:
    """All the scores saved in a ``score_corpus`` output folder, as one dict of columns.

    Columns: ``source`` (``id`` when the manifest had ids), ``frame`` and
    ``time`` (NaN for images), the face columns (``person``, ``face`` and the
    box with ``face_selection="all"``; the box with ``face_boxes=True``), then
    one column per class. Rows are in input order, then frame order; each row
    equals the row ``video_scores`` or ``image_scores_dir`` gives for the same
    picture. A warning says when units failed or are not finished yet.

    With ``face_selection="all"``, ``person`` follows each person through
    each video (ids per video, as ``video_scores`` gives them; NaN for
    images), computed now from what the parts store; each person missing
    from a sampled frame between their first and last appearance gets a
    row there with missing values, as in ``video_scores``.

    Args:
        output_dir: the folder given to ``score_corpus``.
        persons: keep only the N people seen most often in each video;
            ``None`` uses the ``persons`` given to ``score_corpus`` (if any).

    Example:
        >>> read_corpus("scores/")  # doctest: +SKIP
        {'source': ['a.mp4', 'a.mp4', 'b.jpg'], 'frame': [0, 15, nan], 'time': [0.0, 0.6, nan], 'joy': [...], ...}
    """
    check_text("output_dir", output_dir, "the folder given to " + function("score_corpus"))
    output_dir = os.path.expanduser(output_dir)
    folder = CorpusFolder(output_dir)
    if not os.path.isdir(output_dir):
        raise InputNotFoundError(f"Folder not found: {output_dir}. Give the output folder of "
                                f"{function('score_corpus')}.")
    record = folder.read_record()
    if record is None:
        raise InputNotFoundError(f"{output_dir} holds no scored corpus (no corpus.json). Run "
                                f"{function('score_corpus')} with it as {arg('output_dir')} first.")
    arguments = record["arguments"]
    every_face = arguments["face_selection"] == "all"
    persons = _persons(persons if persons is not None else record.get("persons"), every_face)
    names = column_names(arguments)
    table = folder.read_parts(record["units"], part_schema(names, arguments["classes"]))
    columns = corpus_columns(table, record, names, scored=folder, persons=persons)
    _warn_incomplete(folder, record["units"])
    return columns


def _persons(persons, every_face: bool) -> Optional[int]:
    if persons is None:
        return None
    if not every_face:
        raise ArgumentError(f"{arg('persons')} chooses among the people followed through each video, which needs "
                            f"a corpus scored with {arg('face_selection', 'all')}; this one was not. Leave "
                            f"{arg('persons')} out, or score the corpus again with {arg('face_selection', 'all')} "
                            f"(in another output folder).")
    return check_count("persons", persons, 1)


def corpus_columns(table, record: dict, names: Sequence[str], scored: Optional[CorpusFolder] = None,
                   persons: Optional[int] = None) -> Dict[str, list]:
    """The parts' joined table (or None) as dict-of-lists, in input order then frame order.

    ``scored``: the folder whose parts hold the faces' appearance (the rows of ``table`` in its unit order):
    with ``face_selection="all"`` the ``person`` column is added from them (``persons``: keep the N seen
    most often, else the record's choice).
    """
    id_column = record["arguments"]["id_column"]
    every_face = scored is not None and record["arguments"]["face_selection"] == "all"
    if table is None:
        columns = {name: [] for name in names}
        if every_face:
            columns = {**{k: columns[k] for k in (id_column, *TIME_COLUMNS)}, "person": [],
                       **{k: v for k, v in columns.items() if k not in (id_column, *TIME_COLUMNS)}}
        return columns
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    order = {name: i for i, name in enumerate(record["sources"])}
    ids = table.column(id_column)
    found = pc.index_in(ids, value_set=pa.array(list(order), type=ids.type)).to_numpy(zero_copy_only=False)
    # Each row's place in the input; a source the record does not list goes last.
    position = np.append(np.fromiter(order.values(), float, len(order)), len(order))[
        np.where(np.isnan(found), len(order), found).astype(np.int64)]
    sort = np.argsort(position, kind="stable")
    table = table.take(sort)
    columns = {name: python_values(table.column(name)) for name in names}
    if every_face:
        person = corpus_person_ids(scored, record["units"], record["arguments"]["unit_size"])[sort]
        keep = persons if persons is not None else record.get("persons")
        columns = persons_by_video(columns, id_column, person, keep)
    return columns


def column_names(arguments: dict) -> List[str]:
    names = [arguments["id_column"], *TIME_COLUMNS]
    every_face = arguments["face_selection"] == "all"
    if every_face:
        names.append(FACE_COLUMN)
    if every_face or arguments["face_boxes"]:
        names.extend(BOX_COLUMNS)
    return names + list(arguments["classes"])


def _warn_incomplete(folder: CorpusFolder, unit_ids: Sequence[str]) -> None:
    failures = folder.read_failures()
    finished = folder.finished_parts()
    failed = {u: failures[u] for u in unit_ids if u in failures}
    missing = [u for u in unit_ids if u not in finished and u not in failures]
    problems, advice = [], []
    if failed:
        problems.append(f"{len(failed)} unit(s) failed (listed with the reason in {folder.failures_path}); their "
                        "rows are missing or have missing values")
        advice.append(rerun_advice(failed))
    if missing:
        problems.append(f"{len(missing)} unit(s) are not scored yet (the run stopped before them)")
        advice.append(f"Run {function('score_corpus')} again with the same arguments to finish them; finished units "
                      "are skipped.")
    if problems:
        warn(f"The corpus in {folder.path} is incomplete: {'; '.join(problems)}. {' '.join(advice)}")
