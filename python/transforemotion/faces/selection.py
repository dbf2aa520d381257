"""Which faces to score, and the part of the picture each one is scored on.

``face_selection`` chooses among the detector's boxes: the largest, the
leftmost or rightmost (by the box centre), every face (``"all"``, left to
right), or none (the whole picture is scored and no face is looked for).
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from ..core.errors import ArgumentError
from .mtcnn_opencv import detect_faces

__all__ = ["FACE_SELECTIONS", "FACE_PADDING", "select_face", "crop_face", "find_faces_for", "choose_faces",
           "faces_to_score"]

# "all" scores every face (one row each); "none" the whole picture.
FACE_SELECTIONS = ("largest", "left", "right", "all", "none")

# Margin added around a detected face on every side, as a share of the box's
# longer side: CLIP was trained on loosely framed pictures, and a crop that
# cuts through the chin or the brow loses expression cues.
FACE_PADDING = 0.2

def select_face(boxes: np.ndarray, face_selection: str) -> Optional[np.ndarray]:
    """Pick one box: the largest by area, or the one whose centre is leftmost or rightmost."""
    if len(boxes) == 0:
        return None
    if face_selection == "largest":
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        return boxes[int(np.argmax(area))]
    centre = (boxes[:, 0] + boxes[:, 2]) / 2
    if face_selection == "left":
        return boxes[int(np.argmin(centre))]
    if face_selection == "right":
        return boxes[int(np.argmax(centre))]
    raise ArgumentError(f"select_face chooses one face: largest, left or right; got {face_selection!r}")


def crop_face(image: np.ndarray, box: np.ndarray, padding: float = FACE_PADDING) -> np.ndarray:
    """The box widened by ``padding`` on every side, clamped to the image."""
    height, width = image.shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box[:4])
    margin = padding * max(x2 - x1, y2 - y1)
    left = int(max(0, np.floor(x1 - margin)))
    top = int(max(0, np.floor(y1 - margin)))
    right = int(min(width, np.ceil(x2 + margin) + 1))
    bottom = int(min(height, np.ceil(y2 + margin) + 1))
    return image[top:bottom, left:right]


def find_faces_for(image: np.ndarray, face_selection: str) -> np.ndarray:
    """The faces among which ``face_selection`` chooses: those the full search finds.

    Every selection searches fully, so that ``"largest"`` scores exactly the
    largest face ``"all"`` finds, with the same box. (A quick first search for
    large faces only, with coarser pyramid steps, used to run for
    ``"largest"``: it found the same face with another box, and now and then a
    face the full search rejects; issue 27.)
    """
    return detect_faces(image)


def choose_faces(image: np.ndarray, face_selection: str) -> np.ndarray:
    """The faces to score, shape (n, 5) as from :func:`detect_faces`.

    ``"all"``: every face, ordered left to right by the box centre (the
    order of the result's ``face`` column). Otherwise at most one face.
    ``"none"`` has no faces to choose: the caller scores the whole picture.
    """
    found = detect_faces(image) if face_selection == "all" else find_faces_for(image, face_selection)
    return faces_to_score(found, face_selection)


def faces_to_score(boxes: np.ndarray, face_selection: str) -> np.ndarray:
    """From the faces a search found (as :func:`find_faces_for` searches), the ones to score, shape (n, 5):
    every face left to right by the box centre for ``"all"``, else the one face chosen (or none)."""
    if face_selection == "all":
        return boxes[np.argsort((boxes[:, 0] + boxes[:, 2]) / 2, kind="stable")]
    chosen = select_face(boxes, face_selection)
    return np.zeros((0, 5)) if chosen is None else chosen[None, :]
