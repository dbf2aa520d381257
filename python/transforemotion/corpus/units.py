"""Scoring units of a corpus: the part both engines share.

Units go through the engine's one scoring path (:func:`~transforemotion.engine.stream.score_stream`)
as one stream of pictures, so the model stays busy across unit boundaries
(the reader opens the next video while the model embeds the last frames of
the previous one). Rows come back in input order; a unit is complete as soon
as a row of a later unit appears, and is handed back at once with its part
(Parquet bytes) and what failed in it.

The rows are made by the same function as ``video_scores`` and
``image_scores_dir`` (``api.rows_to_columns``), so a corpus row equals theirs for the
same picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from ..embeddings import model_record
from ..engine import (NO_FACE, ModelOrLoader, Picture, Rows, ScoringRequest, no_time_columns, rows_to_columns,
                      score_stream, time_columns)
from ..media import load_image, open_video, read_frames
from ..models import VisionLanguageModel
from .inputs import Unit
from .store import table_bytes
from .tracked_parts import appearance_arrays

__all__ = ["UnitResult", "score_units"]

UNDECODED = "the frame could not be decoded"


@dataclass
class UnitResult:
    """A scored unit. ``part`` is None when nothing could be read at all (no rows to keep);
    ``failures`` lists (source, reason) for what could not be read."""

    unit: str
    part: Optional[bytes]
    failures: List[Tuple[str, str]]
    rows: int
    no_face: int


def _unit_pictures(units: Sequence[Unit]) -> Iterator[Picture]:
    """Every picture of every unit, keyed (unit position, row in unit). A video that cannot be
    opened gives one picture keyed row -1 carrying the reason."""
    for u, unit in enumerate(units):
        if unit.kind == "images":
            for row, path in enumerate(unit.paths):
                try:
                    yield Picture((u, row), load_image(path))
                except Exception as exc:  # noqa: BLE001 - any unreadable file is that file's failure alone
                    yield Picture((u, row), None, str(exc) or type(exc).__name__)
            continue
        try:
            capture, _, _ = open_video(unit.paths[0])
        except Exception as exc:  # noqa: BLE001 - deleted or damaged since it was planned
            yield Picture((u, -1), None, str(exc) or type(exc).__name__)
            continue
        done = 0
        try:
            for row, frame in read_frames(capture, unit.frames):
                done = row + 1
                yield Picture((u, row), frame, None if frame is not None else UNDECODED)
        except Exception as exc:  # noqa: BLE001 - a decoder error loses the rest of this segment only
            for row in range(done, len(unit.frames)):
                yield Picture((u, row), None, f"{UNDECODED} ({exc})")
        finally:
            capture.release()


def score_units(model: ModelOrLoader, units: Sequence[Unit], request: ScoringRequest, id_column: str) -> Iterator[UnitResult]:
    """Score ``units`` (none of them failed at planning) in order; yield each as soon as it is complete."""
    n_labels = len(request.plan.labels)
    current, blocks = None, []
    model, record = _recording(model, request)
    for rows in score_stream(model, _unit_pictures(units), request.plan):
        # Cut the batch where the unit changes; rows of one unit are contiguous.
        at = 0
        while at < len(rows):
            u = rows.keys[at][0]
            stop = at
            while stop < len(rows) and rows.keys[stop][0] == u:
                stop += 1
            if current is not None and u != current:
                yield _finish(units[current], Rows.concat(blocks, n_labels), request, id_column, record)
                blocks = []
            current = u
            part = rows.slice(at, stop)
            blocks.append(part if request.plan.keep_embeddings else part.without_embeddings())
            at = stop
    if current is not None:
        yield _finish(units[current], Rows.concat(blocks, n_labels), request, id_column, record)


def _recording(model: ModelOrLoader, request: ScoringRequest) -> Tuple[ModelOrLoader, Callable[[], dict]]:
    """The model (loaded when the stream asks, as before) and a function giving its record for kept embeddings."""
    loaded: List[VisionLanguageModel] = [model] if isinstance(model, VisionLanguageModel) else []
    if not request.plan.keep_embeddings or loaded:
        return model, lambda: model_record(loaded[0])

    def load() -> VisionLanguageModel:
        loaded.append(model())
        return loaded[0]

    return load, lambda: model_record(loaded[0])


def _finish(unit: Unit, rows: Rows, request: ScoringRequest, id_column: str,
            record: Callable[[], dict]) -> UnitResult:
    if unit.kind == "video" and rows.keys and rows.keys[0][1] == -1:
        return UnitResult(unit.id, None, [(unit.names[0], rows.errors[rows.keys[0]])], 0, 0)
    failures: List[Tuple[str, str]] = []
    if unit.kind == "video":
        fps = unit.fps
        frames = unit.frames
        leading: Dict[str, Callable[[object], object]] = {id_column: lambda k: unit.names[0],
                                                           **time_columns(lambda k: frames[k[1]], fps)}
        undecoded = sorted(k[1] for k in rows.errors)
        if undecoded:
            failures.append((unit.names[0], f"{len(undecoded)} of {len(frames)} sampled frames of this segment "
                             f"(frames {frames[0]}-{frames[-1]}) could not be decoded, from frame "
                             f"{frames[undecoded[0]]} on; the file looks truncated or damaged. Their rows have "
                             "missing values."))
    else:
        leading = {id_column: lambda k: unit.names[k[1]], **no_time_columns()}
        for key, reason in rows.errors.items():
            failures.append((unit.names[key[1]], reason))
    columns = rows_to_columns(rows, request, leading)
    # A video's people are followed when the corpus is read, from the appearance each part keeps.
    extra = appearance_arrays(rows) if unit.kind == "video" and rows.appearance is not None else None
    no_face = len(rows.keys_with(NO_FACE))
    embedding = None
    if request.plan.keep_embeddings:
        model = record()
        vectors = rows.embeddings if rows.embeddings is not None else np.full((len(rows), model["dim"]), np.nan)
        embedding = (vectors, model, request.plan.embedding_precision)
    return UnitResult(unit.id, table_bytes(columns, request.plan.labels, extra, embedding), failures, len(rows), no_face)
