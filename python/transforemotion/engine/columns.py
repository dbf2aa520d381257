"""The result's columns: their names and order, defined once, and the shaping of rows into them.

A result is a dict of columns (name -> list of plain Python values): the
picture's own columns (``image``, ``image_id``, ``frame``, ``time``; a
corpus adds ``source`` or ``id``), then the face's (``person`` for a video
with every face, ``face``, the box, ``confidence``), then one column per
label. Every layer that names a column
(the corpus store, evaluation, plotting, R) takes the names from here.
"""

from __future__ import annotations

import math
from typing import Callable, Dict

import numpy as np

from .request import ScoringRequest
from .persons import person_value
from .stream import Rows

__all__ = ["IMAGE_ID_COLUMN", "FACE_COLUMN", "PERSON_COLUMN", "BOX_COLUMNS", "TIME_COLUMNS", "INTEGER_COLUMNS", "METADATA_COLUMNS",
           "rows_to_columns", "time_columns", "no_time_columns"]

# A picture's name in a folder's result (its path relative to the folder).
IMAGE_ID_COLUMN = "image_id"
# Columns that describe a face, in this order, after the picture's own columns.
FACE_COLUMN = "face"
# Who a face is: the same number for the same person in every frame of a video (``face`` is only the
# face's left-to-right rank within its frame).
PERSON_COLUMN = "person"
BOX_COLUMNS = ("x", "y", "width", "height", "confidence")
# Where a row is in a video.
TIME_COLUMNS = ("frame", "time")
# Columns of whole numbers (missing values are NaN in a result, nulls in Parquet).
INTEGER_COLUMNS = ("frame", PERSON_COLUMN, FACE_COLUMN, "x", "y", "width", "height")
# Every column that is not a label's score, in any result or corpus table.
METADATA_COLUMNS = frozenset(("image", IMAGE_ID_COLUMN, "source", "id") + TIME_COLUMNS + (PERSON_COLUMN, FACE_COLUMN)
                             + BOX_COLUMNS)


def time_columns(frame_of: Callable[[object], int], fps: float) -> Dict[str, Callable[[object], object]]:
    """The leading ``frame`` and ``time`` (seconds) columns of video rows, from each row key's frame number."""
    return {"frame": lambda k: int(frame_of(k)), "time": lambda k: frame_of(k) / fps}


def no_time_columns() -> Dict[str, Callable[[object], object]]:
    """``frame`` and ``time`` for rows that are not from a video (a corpus mixes both): missing."""
    return {name: (lambda k: np.nan) for name in TIME_COLUMNS}


def _as_int(v: float):
    return float("nan") if math.isnan(v) else int(v)


def rows_to_columns(rows: Rows, request: ScoringRequest,
                    leading: Dict[str, Callable[[object], object]]) -> Dict[str, list]:
    """Rows to dict-of-lists: the picture's columns, the face's, then one per label (plain Python values)."""
    columns: Dict[str, list] = {name: [f(k) for k in rows.keys] for name, f in leading.items()}
    every_face = request.plan.face_selection == "all"
    if rows.person is not None:
        columns[PERSON_COLUMN] = [person_value(p) for p in rows.person]
    if every_face:
        columns[FACE_COLUMN] = [float("nan") if f < 0 or s != "scored" else int(f)
                                for f, s in zip(rows.face, rows.status)]
    if every_face or request.face_boxes:
        x1, y1, x2, y2 = (np.round(rows.boxes[:, i]) for i in range(4))
        columns["x"] = [_as_int(v) for v in x1]
        columns["y"] = [_as_int(v) for v in y1]
        columns["width"] = [_as_int(v) for v in x2 - x1 + 1]
        columns["height"] = [_as_int(v) for v in y2 - y1 + 1]
        columns["confidence"] = [float(v) for v in rows.confidence]
    for j, label in enumerate(request.plan.labels):
        columns[label] = [float(v) for v in rows.scores[:, j]]
    return columns
