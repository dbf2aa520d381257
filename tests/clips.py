"""Synthetic videos of real faces that move, cross, leave and come back, with the truth of who is where.

The faces are photos from scikit-image's ``lfw_subset`` (Labeled Faces in the
Wild: 25x25 grey pictures of different people, shipped in the wheel), each
with a little of its own edge repeated around it (the detector needs some
context around a face) and enlarged to about 100 pixels. They are pasted on
a smooth background along paths, later ones in front of earlier ones, and the
clip is written with OpenCV's VideoWriter (Motion-JPEG in AVI, which every
OpenCV build writes and reads) and read back, so the detector sees decoded,
compressed frames as it would in a real video.

Nothing is downloaded and no picture is stored in the repository.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

# Three faces that our detector finds at every size used here and that are
# different people: lfw_subset pictures 0, 2 and 5.
FACES = (0, 2, 5)
FACE_SIDE = 100
WIDTH, HEIGHT = 640, 360

Path = Callable[[int], Optional[Tuple[float, float]]]  # frame -> face centre, or None when absent


@dataclass
class Clip:
    path: str
    frames: int
    # boxes[f] = {person: (x1, y1, x2, y2)} of the faces drawn (wholly or partly) in frame f
    boxes: List[Dict[int, Tuple[float, float, float, float]]]


def face_tile(index: int, side: int = FACE_SIDE) -> np.ndarray:
    """lfw_subset picture ``index`` as an RGB face of ``side`` pixels with a border of its own edge."""
    from skimage import data

    grey = np.round(data.lfw_subset()[index] * 255).astype(np.uint8)
    grey = cv2.copyMakeBorder(grey, 6, 6, 6, 6, cv2.BORDER_REPLICATE)
    grey = cv2.resize(grey, (side, side), interpolation=cv2.INTER_CUBIC)
    return np.repeat(grey[:, :, None], 3, axis=2)


def background(width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """A smooth warm-to-cool gradient, like a lit wall."""
    x = np.linspace(0, 1, width)[None, :, None]
    y = np.linspace(0, 1, height)[:, None, None]
    colour = np.array([120, 100, 80]) * (1 - x) + np.array([70, 90, 120]) * x
    return np.clip(colour * (0.8 + 0.3 * y), 0, 255).astype(np.uint8)


def _paste(frame: np.ndarray, tile: np.ndarray, cx: float, cy: float):
    """Paste ``tile`` centred at (cx, cy), cut at the frame's edges; the box drawn, or None if off-frame."""
    side = tile.shape[0]
    x1, y1 = int(round(cx - side / 2)), int(round(cy - side / 2))
    fx1, fy1 = max(x1, 0), max(y1, 0)
    fx2, fy2 = min(x1 + side, frame.shape[1]), min(y1 + side, frame.shape[0])
    if fx2 <= fx1 or fy2 <= fy1:
        return None
    frame[fy1:fy2, fx1:fx2] = tile[fy1 - y1:fy2 - y1, fx1 - x1:fx2 - x1]
    return (fx1, fy1, fx2 - 1, fy2 - 1)


def make_clip(path: str, paths: Sequence[Path], frames: int, faces: Sequence[int] = FACES,
              side: int = FACE_SIDE, fps: float = 25.0) -> Clip:
    """Write a clip in which person ``k`` (face ``faces[k]``) follows ``paths[k]``."""
    tiles = [face_tile(faces[k], side) for k in range(len(paths))]
    base = background()
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (WIDTH, HEIGHT))
    assert writer.isOpened(), "OpenCV cannot write test videos here"
    truth = []
    for f in range(frames):
        frame = base.copy()
        drawn = {}
        for k, where in enumerate(paths):
            centre = where(f)
            if centre is not None:
                box = _paste(frame, tiles[k], *centre)
                if box is not None:
                    drawn[k] = box
        truth.append(drawn)
        writer.write(np.ascontiguousarray(frame[:, :, ::-1]))
    writer.release()
    return Clip(str(path), frames, truth)


def read_clip(clip: Clip, step: int = 1) -> List[Tuple[int, np.ndarray]]:
    """Frames 0, step, 2*step, ... of the clip as written and decoded, RGB, with their numbers."""
    capture = cv2.VideoCapture(clip.path)
    out, index = [], 0
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        if index % step == 0:
            out.append((index, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))
        index += 1
    capture.release()
    assert len(out) == len(range(0, clip.frames, step)), "OpenCV decoded fewer frames than were written"
    return out


def _line(f, f0, f1, a, b):
    """Position at frame f moving from a (at f0) to b (at f1)."""
    share = min(max((f - f0) / (f1 - f0), 0.0), 1.0)
    return a + (b - a) * share


def two_people(path: str) -> Clip:
    """Person 0 starts on the left and person 1 on the right; they walk past each other (person 1
    in front, hiding most of person 0's face for a moment) and swap sides; person 0 then walks out
    of the picture to the right, stays out for a while, and comes back. 144 frames (every second
    frame sampled: 72 samples, about 20 pixels of movement per sample)."""

    def first(f):
        if f < 80:
            return (_line(f, 0, 80, 110, 530), 165.0)
        if f < 96:
            return (_line(f, 80, 96, 530, 760), 165.0)  # out of the picture from frame ~91
        if f < 112:
            return None
        return (_line(f, 112, 128, 760, 520), 165.0)

    def second(f):
        return (_line(f, 0, 80, 530, 110), 195.0 + 10 * np.sin(f / 9))

    return make_clip(path, [first, second], 144)


def three_people(path: str) -> Clip:
    """Persons 0 and 1 cross as in :func:`two_people` (but stay); person 2 walks in from the left
    once they have passed each other and crosses person 1 (in front of them), then stops in the middle.
    120 frames."""

    def first(f):
        return (_line(f, 0, 60, 110, 530), 130.0)

    def second(f):
        return (_line(f, 0, 60, 530, 110), 170.0)

    def third(f):
        if f < 62:
            return None
        return (_line(f, 62, 110, -60, 330), 200.0)

    return make_clip(path, [first, second, third], 120)


def a_passer_by(path: str) -> Clip:
    """A dyad and a passer-by seen between them: person 0 sits on the left and person 1 (the passer-by)
    on the right from the start, person 1 leaves after frame 14 and person 2 sits down in the middle
    from frame 10 to the end. 60 frames; the two seen longest are persons 0 and 2."""
    return make_clip(path, [lambda f: (140.0, 170.0),
                            lambda f: (510.0, 150.0) if f < 15 else None,
                            lambda f: (330.0, 190.0) if f >= 10 else None], 60)


def truth_of(boxes: np.ndarray, drawn: Dict[int, Tuple[float, float, float, float]], min_iou: float = 0.3):
    """The person whose visible face each detected box covers best (IoU >= min_iou), or -1.

    Faces are drawn in the order of ``drawn`` (a later one in front), so a face is compared with the part of
    it that is not hidden: where one face hides most of another, the box found there is the one in front,
    whatever its exact size (issue 27: compared with the whole drawn squares, the box of the face in front
    was given to the hidden person under OpenCV 5.1, whose boxes sit a few pixels higher).
    """
    people = list(drawn)
    out = np.full(len(boxes), -1)
    if not people or not len(boxes):
        return out
    corners = np.array([drawn[p] for p in people] + [b[:4] for b in boxes], dtype=np.float64)
    x0, y0 = np.floor(corners[:, :2].min(axis=0)).astype(int)
    x1, y1 = np.ceil(corners[:, 2:].max(axis=0)).astype(int) + 1
    owner = np.full((y1 - y0, x1 - x0), -1)  # who is seen at each pixel of the region, painted in order
    for k, p in enumerate(people):
        a, b, c, d = (int(v) for v in drawn[p])
        owner[b - y0:d + 1 - y0, a - x0:c + 1 - x0] = k
    visible = np.array([np.sum(owner == k) for k in range(len(people))], dtype=np.float64)
    for i, box in enumerate(boxes):
        # the pixels whose centres lie in the box (its corners are inclusive pixel numbers)
        a, b = int(np.ceil(box[0] - 0.5)), int(np.ceil(box[1] - 0.5))
        c, d = int(np.floor(box[2] + 0.5)), int(np.floor(box[3] + 0.5))
        inside = owner[max(b - y0, 0):d + 1 - y0, max(a - x0, 0):c + 1 - x0]
        inter = np.array([np.sum(inside == k) for k in range(len(people))], dtype=np.float64)
        overlap = inter / (inside.size + visible - inter)
        best = int(overlap.argmax())
        if overlap[best] >= min_iou:
            out[i] = people[best]
    return out
