"""Two detectors behind one interface: the OpenCV cascade, and the same cascade in torch for batches of frames.

Both find the same faces (tests/faces/test_mtcnn_torch.py holds them to the
same count per picture and boxes matched at IoU >= 0.9). ``"opencv"`` runs
one picture at a time on the CPU and scales with threads (the stream's
``face_workers``); ``"torch"`` searches many frames at once on the model's
device, which is what keeps a GPU busy. ``"auto"`` takes torch on a CUDA
GPU and OpenCV elsewhere, where it is the faster of the two
(bench/bench_faces_torch.py).
"""

from __future__ import annotations

from typing import List, Optional, Sequence

import numpy as np

from ..core.checks import check_choice
from .mtcnn_opencv import MIN_FACE_SIZE, detect_faces as detect_faces_opencv
from .selection import choose_faces, faces_to_score

__all__ = ["FACE_BACKENDS", "resolve_face_backend", "detect_faces", "detect_faces_batch", "choose_faces_batch"]

FACE_BACKENDS = ("auto", "opencv", "torch")


def resolve_face_backend(backend: str = "auto", device_type: str = "cpu") -> str:
    """``"opencv"`` or ``"torch"``: the backend asked for, or for ``"auto"`` the faster one on this device."""
    check_choice("face_backend", backend, FACE_BACKENDS)
    if backend != "auto":
        return backend
    return "torch" if device_type == "cuda" else "opencv"


def _torch_detector(device: Optional[str]):
    from .mtcnn_torch import torch_mtcnn

    return torch_mtcnn(device)


def detect_faces(image: np.ndarray, min_face_size: float = MIN_FACE_SIZE, backend: str = "opencv",
                 device: Optional[str] = None) -> np.ndarray:
    """Faces in one RGB picture, shape (n, 5): x1, y1, x2, y2 (inclusive pixels) and confidence.

    ``backend``: ``"opencv"``, ``"torch"`` (on ``device``), or ``"auto"``.
    """
    return detect_faces_batch([image], min_face_size, backend, device)[0]


def detect_faces_batch(images: Sequence[np.ndarray], min_face_size: float = MIN_FACE_SIZE, backend: str = "auto",
                       device: Optional[str] = None) -> List[np.ndarray]:
    """Faces in each of many pictures; the torch backend searches pictures of one size together."""
    chosen = _backend_for(backend, device)
    if chosen == "torch":
        return list(_torch_detector(device).detect(list(images), min_face_size=min_face_size))
    return [detect_faces_opencv(image, min_face_size=min_face_size) for image in images]


def choose_faces_batch(images: Sequence[np.ndarray], face_selection: str, backend: str = "auto",
                       device: Optional[str] = None) -> List[np.ndarray]:
    """:func:`~transforemotion.faces.selection.choose_faces` for many pictures at once."""
    chosen = _backend_for(backend, device)
    if chosen == "opencv":
        return [choose_faces(image, face_selection) for image in images]
    found = _torch_detector(device).find_faces_for(list(images), face_selection)
    return [faces_to_score(boxes, face_selection) for boxes in found]


def _backend_for(backend: str, device: Optional[str]) -> str:
    if backend != "auto":
        return resolve_face_backend(backend)
    from ..models import select_device

    return resolve_face_backend("auto", select_device(device).type)
