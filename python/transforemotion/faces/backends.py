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

import os
from typing import List, Optional, Sequence

import numpy as np

from ..core.checks import check_choice
from ..core.errors import ArgumentError
from ..core.messages import arg
from .mtcnn_opencv import MIN_FACE_SIZE, detect_faces as detect_faces_opencv
from .selection import choose_faces, faces_to_score

__all__ = ["FACE_BACKENDS", "resolve_face_backend", "check_pictures", "detect_faces", "detect_faces_batch",
           "choose_faces_batch"]

FACE_BACKENDS = ("auto", "opencv", "torch")


def resolve_face_backend(backend: str = "auto", device_type: str = "cpu") -> str:
    """``"opencv"`` or ``"torch"``: the backend asked for, or for ``"auto"`` the faster one on this device."""
    check_choice("face_backend", backend, FACE_BACKENDS)
    if backend != "auto":
        return backend
    return "torch" if device_type == "cuda" else "opencv"


def check_pictures(images, name: str = "images") -> List[np.ndarray]:
    """``images`` as a list of pictures, each checked to be what both detectors take: 8-bit RGB, (height, width, 3).

    The networks were trained on 8-bit values: a float picture in [0, 1] or a 16-bit one is not refused by
    OpenCV but finds other faces (none, or false ones), so neither backend takes one.
    """
    if isinstance(images, np.ndarray):
        pictures = list(images) if images.ndim == 4 else [images]
    elif isinstance(images, Sequence) and not isinstance(images, (str, bytes)):
        pictures = list(images)
    else:
        pictures = [images]
    for k, picture in enumerate(pictures):
        if isinstance(picture, np.ndarray) and picture.ndim == 3 and picture.shape[2] == 3 \
                and picture.dtype == np.uint8:
            continue
        which = arg(name) + ("" if len(pictures) == 1 else f" (picture {k + 1} of {len(pictures)})")
        got, hint = _what_and_how(picture)
        raise ArgumentError(f"{which} must be an 8-bit RGB picture, a uint8 array of shape (height, width, 3); "
                            f"got {got}: {hint}.")
    return pictures


def _what_and_how(picture):
    """What a refused picture is, and how to make an 8-bit RGB one of it."""
    load = "transforemotion.media.load_image(path)"
    if isinstance(picture, (str, bytes, os.PathLike)):
        return f"a file name ({picture!r})", f"read the file first with {load}"
    if not isinstance(picture, np.ndarray):
        return f"a {type(picture).__name__}", f"pass a NumPy array, or a file read with {load}"
    got = f"a {picture.dtype} array of shape {picture.shape}"
    if picture.ndim == 2 or (picture.ndim == 3 and picture.shape[2] in (1, 4)):
        return got, "give a grey picture three channels with np.stack([grey] * 3, axis=-1); drop an alpha " \
                    f"channel with picture[..., :3]; or read the file with {load}"
    if picture.ndim != 3 or picture.shape[2] != 3:
        return got, f"pass one picture (height, width, 3), or read the file with {load}"
    if np.issubdtype(picture.dtype, np.floating):
        return got, "convert a float picture in [0, 1] with (picture * 255).round().astype(np.uint8)"
    return got, ("convert a 16-bit picture with (picture // 257).astype(np.uint8), or read the file with "
                 f"{load}, which gives 8 bits")


def _torch_detector(device: Optional[str]):
    from .mtcnn_torch import torch_mtcnn

    return torch_mtcnn(device)


def detect_faces(image: np.ndarray, min_face_size: float = MIN_FACE_SIZE, backend: str = "opencv",
                 device: Optional[str] = None) -> np.ndarray:
    """Faces in one RGB picture, shape (n, 5): x1, y1, x2, y2 (inclusive pixels) and confidence.

    ``backend``: ``"opencv"``, ``"torch"`` (on ``device``), or ``"auto"``.
    """
    return detect_faces_batch(check_pictures(image, "image"), min_face_size, backend, device)[0]


def detect_faces_batch(images: Sequence[np.ndarray], min_face_size: float = MIN_FACE_SIZE, backend: str = "auto",
                       device: Optional[str] = None) -> List[np.ndarray]:
    """Faces in each of many pictures; the torch backend searches pictures of one size together."""
    images = check_pictures(images)
    chosen = _backend_for(backend, device)
    if chosen == "torch":
        return list(_torch_detector(device).detect(images, min_face_size=min_face_size))
    return [detect_faces_opencv(image, min_face_size=min_face_size) for image in images]


def choose_faces_batch(images: Sequence[np.ndarray], face_selection: str, backend: str = "auto",
                       device: Optional[str] = None) -> List[np.ndarray]:
    """:func:`~transforemotion.faces.selection.choose_faces` for many pictures at once."""
    images = check_pictures(images)
    chosen = _backend_for(backend, device)
    if chosen == "opencv":
        return [choose_faces(image, face_selection) for image in images]
    found = _torch_detector(device).find_faces_for(images, face_selection)
    return [faces_to_score(boxes, face_selection) for boxes in found]


def _backend_for(backend: str, device: Optional[str]) -> str:
    if backend != "auto":
        return resolve_face_backend(backend)
    from ..models import select_device

    return resolve_face_backend("auto", select_device(device).type)
