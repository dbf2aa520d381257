"""A cheap appearance vector for each face, independent of the scoring model: :func:`face_descriptor`."""

from __future__ import annotations

import math

import cv2
import numpy as np

from ...core.errors import ArgumentError
from ...core.messages import arg, value
from ..selection import crop_face

__all__ = ["face_descriptor", "DESCRIPTOR_SIZE"]


def _uniform_patterns() -> np.ndarray:
    """Code of each 8-neighbour local binary pattern: the 58 with at most two 0/1 changes
    around the circle get their own code, all others share code 58."""
    table = np.full(256, 58, dtype=np.uint8)
    code = 0
    for pattern in range(256):
        bits = [(pattern >> k) & 1 for k in range(8)]
        if sum(bits[k] != bits[(k + 1) % 8] for k in range(8)) <= 2:
            table[pattern] = code
            code += 1
    return table


_UNIFORM = _uniform_patterns()
# Face texture: a GRID x GRID grid of LBP histograms over the face resized to TEXTURE_SIDE pixels.
GRID = 3
TEXTURE_SIDE = 48
# The cosine of two descriptors is this much texture similarity plus the rest colour similarity.
TEXTURE_WEIGHT = 0.7
# Colour: a hue x saturation x value histogram of the padded face crop (face, hair, a little clothing).
COLOUR_BINS = (12, 4, 4)
# The length of a descriptor: GRID * GRID histograms of 59 patterns, then the colour histogram.
DESCRIPTOR_SIZE = GRID * GRID * 59 + COLOUR_BINS[0] * COLOUR_BINS[1] * COLOUR_BINS[2]


def face_descriptor(image: np.ndarray, box) -> np.ndarray:
    """A cheap appearance vector of one face, independent of any model (unit length, 723 values).

    Half of it is face texture: histograms of uniform local binary patterns
    (the classic face-recognition feature of Ahonen et al., 2004) in a 3x3
    grid over the face box, which tolerate lighting changes; half is colour:
    a hue-saturation-value histogram of the padded face crop as scored, which
    sees hair and skin tone and tolerates turns of the head. Histograms are
    square-rooted, so the cosine of two descriptors is the Bhattacharyya
    similarity of their histograms.

    Why not the scoring model's embedding: a random-weight test model's
    embeddings barely separate different people, and real models differ in
    how they space faces; this descriptor behaves the same whatever model
    scores the faces, and costs about a millisecond a face.
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ArgumentError(f"{arg('image')} must be an RGB uint8 array of shape (height, width, 3); got "
                         f"{image.dtype} of shape {image.shape}.")
    box = np.asarray(box, dtype=np.float64).reshape(-1)
    height, width = image.shape[:2]
    x1, y1 = max(int(round(box[0])), 0), max(int(round(box[1])), 0)
    x2, y2 = min(int(round(box[2])), width - 1), min(int(round(box[3])), height - 1)
    if x2 < x1 or y2 < y1:
        raise ArgumentError(f"{arg('box')} {value(box[:4].tolist())} lies outside the picture of "
                         f"{width}x{height} pixels.")
    face = cv2.cvtColor(np.ascontiguousarray(image[y1:y2 + 1, x1:x2 + 1]), cv2.COLOR_RGB2GRAY)
    grey = cv2.resize(face, (TEXTURE_SIDE + 2, TEXTURE_SIDE + 2), interpolation=cv2.INTER_AREA).astype(np.int16)
    centre = grey[1:-1, 1:-1]
    pattern = np.zeros(centre.shape, dtype=np.uint8)
    neighbours = (grey[:-2, :-2], grey[:-2, 1:-1], grey[:-2, 2:], grey[1:-1, 2:],
                  grey[2:, 2:], grey[2:, 1:-1], grey[2:, :-2], grey[1:-1, :-2])
    for bit, neighbour in enumerate(neighbours):
        pattern |= (neighbour >= centre).astype(np.uint8) << bit
    codes = _UNIFORM[pattern]
    cell = TEXTURE_SIDE // GRID
    cells = codes.reshape(GRID, cell, GRID, cell).transpose(0, 2, 1, 3).reshape(GRID * GRID, -1)
    texture = np.concatenate([np.bincount(c, minlength=59) for c in cells]).astype(np.float64)
    hsv = cv2.cvtColor(np.ascontiguousarray(crop_face(image, box)), cv2.COLOR_RGB2HSV)
    colour = cv2.calcHist([hsv], [0, 1, 2], None, list(COLOUR_BINS), [0, 180, 0, 256, 0, 256]).ravel()
    parts = []
    for histogram, weight in ((texture, TEXTURE_WEIGHT), (colour.astype(np.float64), 1 - TEXTURE_WEIGHT)):
        root = np.sqrt(histogram)
        parts.append(root * math.sqrt(weight) / max(np.linalg.norm(root), 1e-12))
    return np.concatenate(parts).astype(np.float32)

