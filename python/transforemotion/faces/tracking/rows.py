"""The tracker run over score rows: :func:`track_rows` gives each row (one per face, the rows of one
sampled frame together) its person id. What a result does with the ids (``persons=``, the rows of
missing people, ``person_names=``) is the engine's (:mod:`transforemotion.engine.persons`)."""

from __future__ import annotations

from typing import Optional

import numpy as np

from ...core.errors import ArgumentError
from ...core.messages import arg
from .tracker import PersonTracker

__all__ = ["NO_PERSON", "track_rows"]

# The person id of a row without a face.
NO_PERSON = -1


def track_rows(frames, boxes, confidence=None, embeddings=None, frame_size=None,
               tracker: Optional[PersonTracker] = None) -> np.ndarray:
    """Person ids for score rows: one row per face, the rows of one sampled frame next to each other.

    Args:
        frames: (rows,) the sampled frame of each row (any values; a change
            of value starts the next frame, so rows must be in frame order).
        boxes: (rows, 4) face boxes; NaN rows are frames without a face
            (they get :data:`NO_PERSON` and still count as a frame).
        confidence, embeddings: per row, as for :meth:`PersonTracker.update`
            (rows without a face may hold anything).
        frame_size: (height, width) of the video's frames.
        tracker: a :class:`PersonTracker` to use (for other options).

    Returns:
        int64 array (rows,) of person ids.
    """
    frames = np.asarray(frames)
    boxes = np.asarray(boxes, dtype=np.float64)
    if frames.ndim != 1 or boxes.ndim != 2 or len(boxes) != len(frames) or boxes.shape[1] < 4:
        raise ArgumentError(f"{arg('frames')} and {arg('boxes')} must have one value and one box (x1, y1, x2, y2) "
                         f"per row; got shapes {frames.shape} and {boxes.shape}.")
    boxes = boxes[:, :4]
    tracker = tracker or PersonTracker()
    person = np.full(len(frames), NO_PERSON, dtype=np.int64)
    confidence = None if confidence is None else np.asarray(confidence, dtype=np.float64).reshape(-1)
    embeddings = None if embeddings is None else np.asarray(embeddings, dtype=np.float64)
    start = 0
    while start < len(frames):
        stop = start + 1
        while stop < len(frames) and frames[stop] == frames[start]:
            stop += 1
        rows = np.arange(start, stop)
        rows = rows[np.all(np.isfinite(boxes[rows]), axis=1)]
        person[rows] = tracker.update(boxes[rows], None if confidence is None else confidence[rows],
                                      None if embeddings is None else embeddings[rows], frame_size)
        start = stop
    return person
