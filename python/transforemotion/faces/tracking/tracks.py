"""What the tracker keeps of each person, and the geometry of boxes it works in.

Boxes are x1, y1, x2, y2 in pixels; a person's motion state is the box's
centre and the logarithm of its width and height (a face that comes closer
grows by a factor, not by pixels).
"""

from __future__ import annotations

from typing import Optional

import numpy as np

__all__ = ["Track", "Ring", "box_iou", "box_states", "state_boxes"]

# Values of each kind (same person / different people) kept for calibration.
CALIBRATION_SAMPLES = 256
# Values needed of a kind before it replaces the prior.
CALIBRATION_MIN = 8
# Percentiles cost more than the rest of an update: they are recomputed while the first values come in,
# then after every RECALIBRATE_EVERY new values.
RECALIBRATE_EVERY = 16
# Different-person pairs recorded per frame, so that a crowd does not flush the buffer at once.
NEGATIVES_PER_FRAME = 12
# Two faces overlapping more than this hide each other: their appearance is
# not learned from, and their similarities are not used for calibration.
HIDDEN_IOU = 0.2
# The motion filter (an alpha-beta filter on centre x, y and log width, height): how much of the
# difference between where a face was predicted and where it is found goes into the position, and
# into the velocity. Detector boxes jitter in size by some 10 % from frame to frame, so a size
# velocity learned as fast as a position velocity turns that jitter into predicted growth: the
# size learns its velocity slowly, and at most MAX_GROWTH (log scale, per sampled frame).
POSITION_GAIN = np.array([0.7, 0.7, 0.7, 0.7])
VELOCITY_GAIN = np.array([0.3, 0.3, 0.05, 0.05])
VELOCITY_FIRST = np.array([1.0, 1.0, 0.0, 0.0])
MAX_GROWTH = 0.1
# How much farther than max_distance a person's first move may go (their velocity is not known yet).
FIRST_MOVE_TOLERANCE = 1.5
# Motion cost of each sampled frame a person was missed (a face size's distance costs 1).
MISSED_FRAME_COST = 0.1
# Infeasible pairs in the assignment cost matrix: dearer than any set of allowed pairs, so the
# assignment takes as many allowed pairs as it can, then the cheapest.
FORBIDDEN = 1e6


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box in ``a`` with every box in ``b`` (x1, y1, x2, y2, continuous)."""
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def box_states(boxes: np.ndarray) -> np.ndarray:
    """Boxes as filter states: centre x, centre y, log width, log height."""
    w = np.maximum(boxes[:, 2] - boxes[:, 0], 1.0)
    h = np.maximum(boxes[:, 3] - boxes[:, 1], 1.0)
    return np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2, np.log(w), np.log(h)], axis=1)


def state_boxes(states: np.ndarray) -> np.ndarray:
    w, h = np.exp(states[:, 2]), np.exp(states[:, 3])
    return np.stack([states[:, 0] - w / 2, states[:, 1] - h / 2, states[:, 0] + w / 2, states[:, 1] + h / 2], axis=1)


class Track:
    """One person as the tracker remembers them: the id, the motion state ``x`` and velocity ``v`` (per
    sampled frame), the frame last seen, how many times seen, and the running appearance vector."""

    __slots__ = ("id", "x", "v", "last", "hits", "feature")

    def __init__(self, pid: int, x: np.ndarray, frame: int, feature: Optional[np.ndarray]):
        self.id = pid
        self.x = x
        self.v = np.zeros(4)
        self.last = frame
        self.hits = 1
        self.feature = feature


class Ring:
    """The last ``size`` values added."""

    def __init__(self, size: int):
        self.values = np.zeros(size)
        self.count = 0

    def add(self, values) -> None:
        for v in values:
            self.values[self.count % len(self.values)] = v
            self.count += 1

    def filled(self) -> np.ndarray:
        return self.values[: min(self.count, len(self.values))]
