"""People in a corpus's parts: the tracker's columns a video unit's part keeps, and each row's
person id read back from them when the corpus is read.

Why at reading, not at scoring: a long video is cut into units that may be
scored by different Ray workers at once, or in different runs (a resumed
job scores only what is missing), while one tracker has to see a video's
frames in order. So each video unit's part stores, beside its rows, each
face's appearance vector (float16, as the scoring path computes it) and the
frame size; :func:`read_corpus` then runs one tracker per video over its
parts in order, one part at a time, and gives exactly the ids
``video_scores`` gives for the same frames. The vectors stay in the parts:
about 1.4 kB per face row. What a result then does with the ids (``persons=``,
rows for missing people) is :func:`transforemotion.engine.persons.persons_by_video`'s.
"""

from __future__ import annotations

from typing import List, Optional, Sequence

import numpy as np

from ..engine import Rows
from ..faces.tracking import DESCRIPTOR_SIZE, NO_PERSON, PersonTracker, track_rows

__all__ = ["APPEARANCE_COLUMNS", "appearance_arrays", "corpus_person_ids"]

# The part's columns for the tracker (a leading underscore: not result columns, never shown).
APPEARANCE_COLUMN = "_appearance"
FRAME_SIZE_COLUMNS = ("_frame_height", "_frame_width")
APPEARANCE_COLUMNS = (APPEARANCE_COLUMN,) + FRAME_SIZE_COLUMNS
# What the tracker reads of each row of a part.
_TRACKED = ("frame", "x", "y", "width", "height", "confidence")


def appearance_arrays(rows: Rows) -> dict:
    """The part's tracker columns (Arrow arrays) for a video unit's rows: each face's appearance
    vector as float16 bytes (null where no face was scored), and the frame's height and width."""
    import pyarrow as pa

    looks = rows.appearance
    found = np.isfinite(looks[:, 0])
    raw = [looks[i].astype("<f2").tobytes() if found[i] else None for i in range(len(looks))]
    return {APPEARANCE_COLUMN: pa.array(raw, type=pa.binary(2 * DESCRIPTOR_SIZE)),
            FRAME_SIZE_COLUMNS[0]: pa.array(rows.frame_size[:, 0], type=pa.int32()),
            FRAME_SIZE_COLUMNS[1]: pa.array(rows.frame_size[:, 1], type=pa.int32())}


def _video_of(unit_id: str) -> Optional[str]:
    """A video unit's video ("v-<hash>" of "v-<hash>-00003"); None for an image batch."""
    return unit_id.rsplit("-", 1)[0] if unit_id.startswith("v-") else None


def _segment(unit_id: str) -> int:
    tail = unit_id.rsplit("-", 1)[1]
    return int(tail) if tail.isdigit() else 0


def corpus_person_ids(folder, unit_ids: Sequence[str], unit_size: int) -> np.ndarray:
    """Person ids of every row of the finished parts of ``unit_ids``, in that order (the order of
    ``CorpusFolder.read_parts``): one tracker per video, over its parts in order, one part in memory at
    a time. Image rows get :data:`NO_PERSON`. A part scored before parts stored appearance is tracked
    on motion alone; a unit missing from the middle of a video counts as ``unit_size`` frames unseen."""
    import pyarrow.parquet as pq

    finished = folder.finished_parts()
    out: List[np.ndarray] = []
    tracker, video, next_segment = None, None, 0
    for unit in unit_ids:
        if unit not in finished:
            continue
        path = folder.part_path(unit)
        this_video = _video_of(unit)
        if this_video is None:
            out.append(np.full(pq.ParquetFile(path).metadata.num_rows, NO_PERSON, np.int64))
            continue
        if this_video != video:
            tracker, video, next_segment = PersonTracker(), this_video, 0
        for _ in range((_segment(unit) - next_segment) * unit_size):
            tracker.update(np.zeros((0, 4)))  # frames of an unfinished unit: time passes for the tracker
        next_segment = _segment(unit) + 1
        out.append(_track_part(pq.read_table(path), tracker))
    return np.concatenate(out) if out else np.zeros(0, np.int64)


def _track_part(part, tracker: PersonTracker) -> np.ndarray:
    names = set(part.column_names)
    columns = {name: np.array([np.nan if v is None else v for v in part.column(name).to_pylist()], float)
               for name in _TRACKED}
    boxes = np.stack([columns["x"], columns["y"], columns["x"] + columns["width"] - 1,
                      columns["y"] + columns["height"] - 1], axis=1)
    looks, frame_size = None, None
    if set(APPEARANCE_COLUMNS) <= names:
        raw = part.column(APPEARANCE_COLUMN).to_pylist()
        looks = np.full((len(raw), DESCRIPTOR_SIZE), np.nan, np.float32)
        for i, blob in enumerate(raw):
            if blob is not None:
                looks[i] = np.frombuffer(blob, "<f2")
        height = np.asarray(part.column(FRAME_SIZE_COLUMNS[0]).to_pylist())
        width = np.asarray(part.column(FRAME_SIZE_COLUMNS[1]).to_pylist())
        known = np.flatnonzero(height > 0)
        frame_size = (int(height[known[0]]), int(width[known[0]])) if len(known) else None
    return track_rows(columns["frame"], boxes, columns["confidence"], looks, frame_size, tracker=tracker)
