"""People, not positions: a stable ``person`` id for each face through a video.

With ``face_selection="all"`` every sampled frame gives one row per face, and
the ``face`` column is the face's left-to-right rank *in that frame*: when two
people swap sides, "face 0" jumps from one to the other. :class:`PersonTracker`
follows faces from sampled frame to sampled frame and numbers the people
instead: 0 for the first person seen, 1 for the next, and so on (people
first seen in the same frame are numbered left to right).

How a face is followed
----------------------
The tracker is online (each frame is decided when it arrives, never revised)
and works like SORT/ByteTrack with an appearance model for re-identification:

- Motion. Each person's box (centre, and the logarithm of width and height)
  follows a constant-velocity filter in units of *sampled* frames, so with
  frames sampled every 15 video frames a face may move far between samples;
  what counts is that it keeps moving the way it was moving. A face matches
  a person if its centre is within ``max_distance`` box sizes of where that
  person was predicted to be (the tolerance grows by ``distance_growth`` for
  every sampled frame the person was missed) and its size within a factor of
  ``max_size_change``; the closer, and the more the boxes overlap (IoU), the
  better the match.
- Two stages, as in ByteTrack. Confident faces (``high_confidence``) are
  matched first, with motion and appearance; the less confident ones (often a
  face half hidden behind another) are then matched on motion alone to the
  people left over, so that a person partly hidden while two people cross
  keeps their id without a half-hidden face spoiling their appearance model.
- Appearance (optional). Each face may come with an embedding vector: the
  cheap model-independent :func:`face_descriptor` below, or any other vector,
  such as a CLIP image embedding; the tracker L2-normalises it. A person's
  appearance is a running average of their unhidden, confident faces. It
  helps choose between people when motion alone is ambiguous, vetoes a match
  that moves plausibly but looks like someone else, and re-identifies a person
  who was missed for a while or left the picture and came back. A person seen
  in the previous frame whom motion places elsewhere is re-identified only on
  near-certain appearance (``reidentify_seen``): such a jump happens at a cut
  to another shot, where the new face is more often someone else.
- Self-calibration. Whether two vectors are "similar" depends on the
  embedding (and, for our descriptor, on the video: two grey faces look more
  alike than a red and a blue jumper). The tracker therefore learns the scale
  from the video itself: similarities of faces that motion alone attributes
  without doubt are known "same person" values, and those between people seen
  in the same frame are known "different person" values. Similarities are
  measured against these (``appearance_prior`` until enough have been seen),
  and if the two overlap, appearance is not used at all (see
  :attr:`PersonTracker.appearance_reliable`).

Matching in each stage is an optimal assignment (Hungarian method, from
``scipy.optimize.linear_sum_assignment``) over the pairs that pass the gates.

What it can and cannot do
-------------------------
- Ids are per video (per tracker): person 3 of one video has nothing to do
  with person 3 of another, and nothing is recognised across videos.
- Ids are never reused or revised; a person the tracker fails to recognise
  gets a new id. People who cross, are hidden for a few sampled frames
  (``max_predict_frames``), or leave and come back while appearance
  embeddings are given (within ``max_lost_frames`` sampled frames, and while
  they are among the ``max_lost_tracks`` most recently lost people), keep
  their id.
- Without embeddings only motion links faces: a person who leaves the
  picture, or is missed for more than ``max_predict_frames`` sampled frames,
  comes back with a new id.
- Motion assumes samples close enough in time that a face moves about
  ``max_distance`` face sizes or less (beyond what its last movement
  predicts) from one sampled frame to the next. With sparse samples (say,
  ``uniform=True`` over a long video) motion says little and only appearance
  links faces; with the cheap descriptor that is reliable for clearly
  different-looking people only (different hair, skin, clothing colours or
  face texture), not for telling look-alikes apart.
- At a cut between camera shots, a face that lands where another person's
  face was (within ``max_distance``) and looks like them can take that
  person's id; the appearance veto lowers but cannot remove this risk. The
  tracker is not told about cuts.
- Appearance is only as good as the vectors: the cheap descriptor sees
  texture and colour, and two people in the same light with similar hair can
  look alike to it. A random-weight test model's CLIP embeddings barely tell
  faces apart (cosines of different LFW faces up to 0.999 against at least
  0.993 for the same face); the self-calibration makes the most of what
  separation a video shows, and turns appearance off where there is none.
- An unmatched face with low confidence also gets a new id (every face row
  needs a person), so detector false positives become short-lived people;
  :func:`most_seen_persons` drops them.

Memory
------
Bounded whatever the video's length: the tracker keeps the people matched in
the last frame, plus at most ``max_lost_tracks`` people not seen in it (those
lost longest are forgotten first), each forgotten after ``max_lost_frames``
sampled frames unseen (people without an appearance vector, or seen only
once, after ``max_predict_frames``). Each person is a few numbers plus one
embedding vector. The self-calibration keeps the last ``CALIBRATION_SAMPLES``
values of each kind. So at most (faces in the current frame +
``max_lost_tracks``) people are stored; with the defaults and two or three
faces per frame, a few dozen vectors. Time: well under a millisecond a frame
for a few faces (bench/bench_tracking.py), against tens of milliseconds for
finding the faces.

Helpers for the scoring layer
-----------------------------
:func:`track_rows` runs a tracker over score rows (one row per face, rows of
one frame together); :func:`most_seen_persons` keeps the ``persons=N`` people
seen most often; :func:`person_gaps` lists the sampled frames between a
person's first and last appearance where they have no row;
:func:`check_person_names` and :func:`name_persons` turn ids into names.
"""

from __future__ import annotations

import math
import numbers
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

from .selection import crop_face
from ..core.errors import ArgumentError
from ..core.messages import arg, value, warn

__all__ = [
    "PersonTracker",
    "face_descriptor",
    "track_rows",
    "most_seen_persons",
    "person_gaps",
    "check_person_names",
    "name_persons",
    "NO_PERSON",
]

# The person id of a row without a face.
NO_PERSON = -1

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
# Infeasible pairs in the assignment cost matrix.
_FORBIDDEN = 1e6


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
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


def _state(boxes: np.ndarray) -> np.ndarray:
    """Boxes as filter states: centre x, centre y, log width, log height."""
    w = np.maximum(boxes[:, 2] - boxes[:, 0], 1.0)
    h = np.maximum(boxes[:, 3] - boxes[:, 1], 1.0)
    return np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2, np.log(w), np.log(h)], axis=1)


def _boxes(states: np.ndarray) -> np.ndarray:
    w, h = np.exp(states[:, 2]), np.exp(states[:, 3])
    return np.stack([states[:, 0] - w / 2, states[:, 1] - h / 2, states[:, 0] + w / 2, states[:, 1] + h / 2], axis=1)


class _Track:
    __slots__ = ("id", "x", "v", "last", "hits", "feature")

    def __init__(self, pid: int, x: np.ndarray, frame: int, feature: Optional[np.ndarray]):
        self.id = pid
        self.x = x
        self.v = np.zeros(4)
        self.last = frame
        self.hits = 1
        self.feature = feature


class _Ring:
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


def _number(name: str, given, low: float, high: float = math.inf, integer: bool = False):
    ok = isinstance(given, numbers.Real) and not isinstance(given, bool) and math.isfinite(float(given))
    if integer:
        ok = ok and float(given) == int(given)
    if not ok or not low <= given <= high:
        kind = "a whole number" if integer else "a number"
        bounds = [f"at least {value(low)}"] if low > -math.inf else []
        bounds += [f"at most {value(high)}"] if high < math.inf else []
        within = f" {' and '.join(bounds)}" if bounds else ""
        raise ArgumentError(f"{arg(name)} must be {kind}{' of' if bounds else ''}{within}; got {value(given)}.")
    return int(given) if integer else float(given)


class PersonTracker:
    """Stable person ids for the faces of a video, one sampled frame at a time.

    Args:
        high_confidence: faces at least this confident are matched first and
            with appearance; the others on motion alone (ByteTrack's two
            stages). Our detector keeps faces from 0.7, real faces score
            mostly above 0.9.
        max_distance: how far a face may be from where a person was predicted
            to be, in face sizes (the geometric mean of the box's width and
            height), one sampled frame after the person was last seen.
        distance_growth: added to ``max_distance`` for each further sampled
            frame the person was missed.
        max_size_change: how much a face may grow or shrink between sampled
            frames (a factor) and still be the same person on motion alone.
        max_predict_frames: for how many sampled frames a missed person is
            still looked for where motion predicts them.
        max_lost_frames: for how many sampled frames a person no longer seen
            is remembered for re-identification by appearance.
        max_lost_tracks: at most this many people not seen in the current
            frame are remembered (those lost longest are forgotten first).
        appearance_weight: weight of appearance against motion when both
            could explain a match (0: motion decides alone, appearance only
            vetoes and re-identifies).
        appearance_prior: (different, same): the similarity (cosine) below
            which most pairs of different people lie, and above which most
            faces of the same person lie, used until the video itself has
            shown enough of each. The default suits :func:`face_descriptor`;
            for other embeddings give values measured for them.
        reidentify: how sure appearance must be to give a returning person
            their old id, on the calibrated scale (0: as similar as the most
            similar different people usually are; 1: as similar as the same
            person's faces in consecutive frames usually are).
        reidentify_seen: the same for a person seen in the previous frame
            and predicted to be still in the picture, but elsewhere: a jump
            that only a cut to another shot explains, which must be backed by
            appearance as sure as from one frame to the next.
        veto: a match that motion allows is refused when appearance falls
            below this on the same scale. Low by default: half-hidden faces
            look unlike their person, and a stricter veto (0) split people
            who crossed in the test clips into new ids; cuts are caught
            mostly by the motion gates and ``reidentify_seen`` instead.
        smoothing: how much of a person's appearance is kept at each update
            (the rest comes from the new face).

    Call :meth:`update` once per sampled frame, in order, including frames
    without faces (with zero boxes), so that time passes for the tracker.
    """

    def __init__(self, high_confidence: float = 0.9, max_distance: float = 1.0, distance_growth: float = 0.25,
                 max_size_change: float = 1.5, max_predict_frames: int = 10, max_lost_frames: int = 1000,
                 max_lost_tracks: int = 32, appearance_weight: float = 1.0,
                 appearance_prior: Tuple[float, float] = (0.80, 0.90), reidentify: float = 0.5,
                 reidentify_seen: float = 1.0, veto: float = -1.0, smoothing: float = 0.9):
        self.high_confidence = _number("high_confidence", high_confidence, 0.0, 1.0)
        self.max_distance = _number("max_distance", max_distance, 1e-6)
        self.distance_growth = _number("distance_growth", distance_growth, 0.0)
        self.max_size_change = _number("max_size_change", max_size_change, 1.0)
        self.max_predict_frames = _number("max_predict_frames", max_predict_frames, 1, integer=True)
        self.max_lost_frames = _number("max_lost_frames", max_lost_frames, self.max_predict_frames, integer=True)
        self.max_lost_tracks = _number("max_lost_tracks", max_lost_tracks, 0, integer=True)
        self.appearance_weight = _number("appearance_weight", appearance_weight, 0.0)
        if (not isinstance(appearance_prior, (tuple, list)) or len(appearance_prior) != 2):
            raise ArgumentError(f"{arg('appearance_prior')} must be two similarities (different, same) with "
                             f"different < same, for example {value((0.8, 0.9))}; got {value(appearance_prior)}.")
        different = _number("appearance_prior", appearance_prior[0], -1.0, 1.0)
        same = _number("appearance_prior", appearance_prior[1], -1.0, 1.0)
        if not different < same:
            raise ArgumentError(f"{arg('appearance_prior')} must be (different, same) with different < same; "
                             f"got {value(tuple(appearance_prior))}.")
        self.appearance_prior = (different, same)
        self.reidentify = _number("reidentify", reidentify, -math.inf)
        self.reidentify_seen = _number("reidentify_seen", reidentify_seen, -math.inf)
        self.veto = _number("veto", veto, -math.inf)
        self.smoothing = _number("smoothing", smoothing, 0.0, 1.0)
        self._tracks: List[_Track] = []
        self._frame = -1
        self._next_id = 0
        self._dim: Optional[int] = None
        self._same = _Ring(CALIBRATION_SAMPLES)
        self._different = _Ring(CALIBRATION_SAMPLES)
        self._scale: Optional[Tuple[float, float]] = None
        self._calibrated_at = 0

    # -- state ----------------------------------------------------------------
    @property
    def stored_tracks(self) -> int:
        """How many people the tracker holds in memory now."""
        return len(self._tracks)

    @property
    def persons_seen(self) -> int:
        """How many ids have been given out."""
        return self._next_id

    def appearance_scale(self) -> Tuple[float, float]:
        """(different, same): the calibrated similarities that map to 0 and 1 on the scale of
        ``reidentify`` and ``veto``; the prior where the video has not shown enough yet."""
        if self._scale is None:
            self._scale = self._calibrate()
        return self._scale

    def _calibrate(self) -> Tuple[float, float]:
        different, same = self.appearance_prior
        seen_same, seen_different = self._same.filled(), self._different.filled()
        if len(seen_same) >= CALIBRATION_MIN:
            same = float(np.percentile(seen_same, 10))
        if len(seen_different) >= CALIBRATION_MIN:
            different = float(np.percentile(seen_different, 90))
        return different, same

    @property
    def appearance_reliable(self) -> bool:
        """False when faces of the same person have been no more alike than faces of
        different people: appearance is then ignored."""
        different, same = self.appearance_scale()
        return same - different > 1e-3

    # -- checks ---------------------------------------------------------------
    def _check(self, boxes, confidence, embeddings, frame_size):
        b = np.asarray(boxes, dtype=np.float64)
        if b.size == 0:
            b = b.reshape(0, 4)
        if b.ndim != 2 or b.shape[1] < 4:
            raise ArgumentError(f"{arg('boxes')} must have one row of x1, y1, x2, y2 per face (shape (n, 4)); "
                             f"got shape {b.shape}.")
        b = b[:, :4]
        n = len(b)
        if not np.all(np.isfinite(b)) or np.any(b[:, 2] < b[:, 0]) or np.any(b[:, 3] < b[:, 1]):
            raise ArgumentError(f"{arg('boxes')} must be finite x1, y1, x2, y2 with x2 >= x1 and y2 >= y1; pass "
                             f"frames without a face as zero rows. Got {value(b.tolist())}.")
        if confidence is None:
            c = np.ones(n)
        else:
            c = np.asarray(confidence, dtype=np.float64).reshape(-1)
            if len(c) != n or not np.all(np.isfinite(c)):
                raise ArgumentError(f"{arg('confidence')} must hold one finite value per box ({n}); "
                                 f"got {value(np.asarray(confidence).tolist())}.")
        e = None
        if embeddings is not None:
            e = np.asarray(embeddings, dtype=np.float64)
            if n == 0 and e.size == 0:
                e = None
            elif e.ndim != 2 or len(e) != n or not np.all(np.isfinite(e)):
                raise ArgumentError(f"{arg('embeddings')} must be a finite array with one row per box, shape "
                                 f"({n}, d); got shape {e.shape}.")
            else:
                if self._dim is not None and e.shape[1] != self._dim:
                    raise ArgumentError(f"{arg('embeddings')} must keep the same length in every frame: earlier "
                                     f"{self._dim}, now {e.shape[1]}. Use one kind of embedding per video.")
                self._dim = e.shape[1]
                norms = np.linalg.norm(e, axis=1, keepdims=True)
                if np.any(norms == 0):
                    raise ArgumentError(f"{arg('embeddings')} has a row of zeros, which has no direction to "
                                     f"compare; pass {value(None)} for frames without embeddings.")
                e = e / norms
        return b, c, e, None if frame_size is None else self._check_frame_size(frame_size)

    @staticmethod
    def _check_frame_size(frame_size) -> Tuple[float, float]:
        try:
            height, width = (float(v) for v in frame_size)
        except (TypeError, ValueError):
            height = width = float("nan")
        if not (math.isfinite(height) and math.isfinite(width) and height > 0 and width > 0):
            raise ArgumentError(f"{arg('frame_size')} must be (height, width) in pixels; got {value(frame_size)}.")
        return height, width

    # -- matching ---------------------------------------------------------------
    def _appearance(self, similarity: np.ndarray) -> np.ndarray:
        different, same = self.appearance_scale()
        return (similarity - different) / max(same - different, 1e-6)

    def _motion(self, tracks: List[_Track], gaps: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """Motion cost of each track and box (0: where predicted), NaN where the gates forbid the pair."""
        gaps = gaps.astype(np.float64)
        predicted = np.stack([t.x for t in tracks]) + np.stack([t.v for t in tracks]) * gaps[:, None]
        det = _state(boxes)
        size = np.exp((predicted[:, 2] + predicted[:, 3]) / 2)
        distance = np.hypot(det[None, :, 0] - predicted[:, None, 0], det[None, :, 1] - predicted[:, None, 1])
        distance /= size[:, None]
        # Before a person's second face their velocity is unknown, so the first move may be larger.
        unknown = np.array([t.hits == 1 for t in tracks])
        tolerance = self.max_distance * np.where(unknown, FIRST_MOVE_TOLERANCE, 1.0) + self.distance_growth * (gaps - 1)
        growth = np.abs((det[None, :, 2] + det[None, :, 3]) / 2 - (predicted[:, None, 2] + predicted[:, None, 3]) / 2)
        allowed = (distance <= tolerance[:, None]) & (growth <= math.log(self.max_size_change))
        # Distance counts in face sizes whatever the gap (the gap widens the gate, not the liking), and each
        # sampled frame a person was missed costs a little: where a face could continue either a person seen
        # a moment ago or one hidden for a while, as when two people cross, it continues the one just seen.
        cost = np.minimum(1 - _iou(_boxes(predicted), boxes), distance / self.max_distance)
        cost += MISSED_FRAME_COST * (gaps[:, None] - 1)
        return np.where(allowed, cost, np.nan)

    def _assign(self, cost: np.ndarray) -> List[Tuple[int, int]]:
        """Optimal pairs (row, column) among the finite entries of ``cost``."""
        if cost.size == 0 or not np.isfinite(cost).any():
            return []
        filled = np.where(np.isfinite(cost), cost, _FORBIDDEN)
        rows, cols = linear_sum_assignment(filled)
        return [(r, c) for r, c in zip(rows, cols) if np.isfinite(cost[r, c])]

    def _predictable(self, track: _Track, gap: int, frame_size) -> bool:
        """Whether motion still says where the person is: missed for at most max_predict_frames, and
        (when the frame size is known) some of the predicted box still in the picture."""
        if gap > self.max_predict_frames:
            return False
        if frame_size is None:
            return True
        cx, cy, lw, lh = (float(v) for v in track.x + track.v * gap)
        half_w, half_h = math.exp(lw) / 2, math.exp(lh) / 2
        height, width = frame_size
        return cx + half_w > 0 and cx - half_w < width and cy + half_h > 0 and cy - half_h < height

    # -- the update -----------------------------------------------------------
    def update(self, boxes, confidence=None, embeddings=None, frame_size=None) -> np.ndarray:
        """The person id of each face of the next sampled frame.

        Args:
            boxes: (n, 4) x1, y1, x2, y2 in pixels (extra columns, such as a
                fifth with the confidence, are ignored); n may be 0.
            confidence: (n,) detector confidence; None: all confident.
            embeddings: (n, d) appearance vectors, or None. Use one kind per
                video: :func:`face_descriptor`, or for example CLIP image
                embeddings (with a matching ``appearance_prior``).
            frame_size: (height, width) of the frame; lets the tracker tell a
                person who walked out of the picture from one hidden in it.

        Returns:
            int64 array (n,): person ids, in the order of ``boxes``.
        """
        if len(boxes) == 0 and (confidence is None or len(confidence) == 0) and (
                embeddings is None or len(embeddings) == 0):
            # A frame without faces (most frames of many videos): only time passes.
            if frame_size is not None:
                self._check_frame_size(frame_size)
            self._frame += 1
            self._forget()
            return np.zeros(0, dtype=np.int64)
        boxes, confidence, embeddings, frame_size = self._check(boxes, confidence, embeddings, frame_size)
        self._frame += 1
        n = len(boxes)
        if n == 0:
            self._forget()
            return np.zeros(0, dtype=np.int64)
        tracks = self._tracks
        gaps = np.array([self._frame - t.last for t in tracks], dtype=np.int64)
        predictable = np.array([self._predictable(t, g, frame_size) for t, g in zip(tracks, gaps)], dtype=bool)
        owner = np.full(n, -1)  # index into tracks, -1 for none yet
        how = [""] * n
        taken = np.zeros(len(tracks), dtype=bool)
        confident = confidence >= self.high_confidence
        hidden = np.zeros(n, dtype=bool)
        if n > 1:
            overlap = _iou(boxes, boxes)
            np.fill_diagonal(overlap, 0)
            hidden = overlap.max(axis=1) > HIDDEN_IOU

        # Cosine similarity of each stored person's appearance with each face (NaN: no appearance).
        similarity = None
        known = [k for k, t in enumerate(tracks) if t.feature is not None]
        if embeddings is not None and known:
            similarity = np.full((len(tracks), n), np.nan)
            similarity[known] = np.stack([tracks[k].feature for k in known]) @ embeddings.T
        score = self._appearance(similarity) if similarity is not None and self.appearance_reliable else None

        # Stages 1 and 2: confident faces with motion and appearance, then the others with motion alone.
        unambiguous = np.zeros(n, dtype=bool)
        for stage, wanted in ((1, confident), (2, ~confident)):
            rows = np.flatnonzero(predictable & ~taken)
            faces = np.flatnonzero(wanted & (owner < 0))
            if not len(rows) or not len(faces):
                continue
            motion = self._motion([tracks[k] for k in rows], gaps[rows], boxes[faces])
            cost = motion
            if stage == 1:
                allowed = np.isfinite(motion)
                single = allowed & (allowed.sum(axis=1, keepdims=True) == 1) & (allowed.sum(axis=0) == 1)
                unambiguous[faces[single.any(axis=0)]] = True
                if score is not None:
                    looks = score[np.ix_(rows, faces)]
                    cost = motion + self.appearance_weight * (1 - np.clip(np.nan_to_num(looks, nan=1.0), 0, 1))
                    cost[looks < self.veto] = np.nan
            for r, c in self._assign(cost):
                owner[faces[c]] = rows[r]
                taken[rows[r]] = True
                how[faces[c]] = "motion"

        # Stage 3: confident faces left over against everyone not matched yet, by appearance.
        if score is not None:
            rows = np.flatnonzero(~taken & (gaps > 0) & np.isfinite(score[:, 0]))
            faces = np.flatnonzero(confident & (owner < 0))
            if len(rows) and len(faces):
                looks = score[np.ix_(rows, faces)]
                # Someone seen in the previous frame, and by motion still in the picture, cannot have jumped
                # to a face that motion rules out, unless the camera cut to another shot: such a face is more
                # likely another person who looks alike (as at the cut from one speaker to the other).
                required = np.where((gaps[rows] == 1) & predictable[rows], self.reidentify_seen, self.reidentify)
                for r, c in self._assign(np.where(looks >= required[:, None], 1 - looks, np.nan)):
                    owner[faces[c]] = rows[r]
                    taken[rows[r]] = True
                    how[faces[c]] = "appearance"

        if similarity is not None:
            self._learn_scale(similarity, owner, how, confident & ~hidden & unambiguous, confident & ~hidden, gaps)

        # New people, numbered left to right.
        states = _state(boxes)
        matched = owner.copy()
        new = np.flatnonzero(owner < 0)
        for i in new[np.argsort(states[new, 0], kind="stable")]:
            feature = embeddings[i].copy() if embeddings is not None and not hidden[i] else None
            self._tracks.append(_Track(self._next_id, states[i], self._frame, feature))
            self._next_id += 1
            owner[i] = len(self._tracks) - 1
            how[i] = "new"

        # Updates of the people matched.
        ids = np.empty(n, dtype=np.int64)
        for i in range(n):
            track = self._tracks[owner[i]]
            ids[i] = track.id
            if matched[i] < 0:
                continue
            gap = int(gaps[owner[i]])
            if how[i] == "motion":
                predicted = track.x + track.v * gap
                residual = states[i] - predicted
                if track.hits == 1:  # the first movement seen is the velocity's first estimate
                    track.v = (states[i] - track.x) / gap * VELOCITY_FIRST
                    track.x = states[i]
                else:
                    track.x = predicted + POSITION_GAIN * residual
                    track.v = track.v + VELOCITY_GAIN * residual / gap
                track.v[2:] = np.clip(track.v[2:], -MAX_GROWTH, MAX_GROWTH)
            else:  # re-identified after an unpredictable absence: start moving afresh
                track.x = states[i]
                track.v = np.zeros(4)
            track.last = self._frame
            track.hits += 1
            if embeddings is not None and confident[i] and not hidden[i]:
                if track.feature is None:
                    track.feature = embeddings[i].copy()
                else:
                    mixed = self.smoothing * track.feature + (1 - self.smoothing) * embeddings[i]
                    track.feature = mixed / max(np.linalg.norm(mixed), 1e-12)

        self._forget()
        return ids

    def _learn_scale(self, similarity, owner, how, sure, clear, gaps) -> None:
        """Calibration: faces that motion alone gives to one person without doubt, seen in the previous
        frame, are "same person" values; a face against the other people matched in the same frame are
        "different people" values (compared as re-identification compares: a face against a person's
        running appearance)."""
        same = [similarity[owner[i], i] for i in np.flatnonzero(sure & (owner >= 0))
                if how[i] == "motion" and gaps[owner[i]] == 1 and np.isfinite(similarity[owner[i], i])]
        self._same.add(same)
        clear = np.flatnonzero(clear & (owner >= 0))
        different = []
        for i in clear:
            for j in clear:
                if i != j and len(different) < NEGATIVES_PER_FRAME and np.isfinite(similarity[owner[j], i]):
                    different.append(similarity[owner[j], i])
        self._different.add(different)
        total = self._same.count + self._different.count
        if total != self._calibrated_at and (total < 4 * CALIBRATION_MIN
                                             or total - self._calibrated_at >= RECALIBRATE_EVERY):
            self._scale = None
            self._calibrated_at = total

    def _forget(self) -> None:
        frame = self._frame
        if len(self._tracks) <= self.max_lost_tracks and all(
                frame - t.last <= self.max_predict_frames or (frame - t.last <= self.max_lost_frames
                                                              and t.feature is not None and t.hits > 1)
                for t in self._tracks):
            return  # nothing to forget: the common case, checked without building lists
        kept, lost = [], []
        for track in self._tracks:
            gap = self._frame - track.last
            if gap == 0:
                kept.append(track)
            elif gap <= self.max_predict_frames or (
                    track.feature is not None and track.hits > 1 and gap <= self.max_lost_frames):
                lost.append(track)
        lost.sort(key=lambda t: t.last, reverse=True)
        self._tracks = kept + lost[: self.max_lost_tracks]


# -- appearance descriptor -----------------------------------------------------------------------------------

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


# -- helpers for score rows ----------------------------------------------------------------------------------

def track_rows(frames, boxes, confidence=None, embeddings=None, frame_size=None,
               tracker: Optional[PersonTracker] = None) -> np.ndarray:
    """Person ids for score rows: one row per face, the rows of one sampled frame next to each other.

    Args:
        frames: (rows,) the sampled frame of each row (any values; a change
            of value starts the next frame, so rows must be in frame order).
        boxes: (rows, 4) face boxes; NaN rows are frames without a face
            (they get :data:`NO_PERSON` and still count as a frame).
        confidence, embeddings: per row, as for :meth:`PersonTracker.update`
            (rows without a face may hold anything).
        frame_size: (height, width) of the video's frames.
        tracker: a :class:`PersonTracker` to use (for other options).

    Returns:
        int64 array (rows,) of person ids.
    """
    frames = np.asarray(frames)
    boxes = np.asarray(boxes, dtype=np.float64)
    if frames.ndim != 1 or boxes.ndim != 2 or len(boxes) != len(frames) or boxes.shape[1] < 4:
        raise ArgumentError(f"{arg('frames')} and {arg('boxes')} must have one value and one box (x1, y1, x2, y2) "
                         f"per row; got shapes {frames.shape} and {boxes.shape}.")
    boxes = boxes[:, :4]
    tracker = tracker or PersonTracker()
    person = np.full(len(frames), NO_PERSON, dtype=np.int64)
    confidence = None if confidence is None else np.asarray(confidence, dtype=np.float64).reshape(-1)
    embeddings = None if embeddings is None else np.asarray(embeddings, dtype=np.float64)
    start = 0
    while start < len(frames):
        stop = start + 1
        while stop < len(frames) and frames[stop] == frames[start]:
            stop += 1
        rows = np.arange(start, stop)
        rows = rows[np.all(np.isfinite(boxes[rows]), axis=1)]
        person[rows] = tracker.update(boxes[rows], None if confidence is None else confidence[rows],
                                      None if embeddings is None else embeddings[rows], frame_size)
        start = stop
    return person


def _person_array(name: str, person_ids) -> np.ndarray:
    ids = np.asarray(person_ids)
    if ids.ndim != 1 or (ids.size and not np.issubdtype(ids.dtype, np.integer)):
        raise ArgumentError(f"{arg(name)} must be a list of whole-number person ids; got {value(ids.tolist())}.")
    return ids.astype(np.int64)


def most_seen_persons(person_ids, n) -> np.ndarray:
    """The ``n`` people with the most rows, in order of their ids (first appearance).

    Ties go to the person seen first. Rows without a person (:data:`NO_PERSON`)
    do not count. Fewer than ``n`` ids come back when fewer people were seen.
    Use it for a ``persons=N`` option: ``keep = np.isin(person, most_seen_persons(person, 2))``
    drops the passers-by of a two-person study.
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ArgumentError(f"{arg('persons')} must be a whole number of people to keep, at least 1, for example "
                         f"{value(2)} for a dyad; got {value(n)}.")
    ids = _person_array("person_ids", person_ids)
    ids = ids[ids != NO_PERSON]
    if not ids.size:
        return np.zeros(0, dtype=np.int64)
    people, counts = np.unique(ids, return_counts=True)
    order = np.lexsort((people, -counts))  # most rows first, then the lower id
    return np.sort(people[order[: int(n)]])


def person_gaps(frames, person_ids, sampled=None) -> Dict[int, np.ndarray]:
    """For each person, the sampled frames between their first and last row where they have no row.

    Args:
        frames: (rows,) the sampled frame (number or position) of each row.
        person_ids: (rows,) the person of each row (:data:`NO_PERSON` rows are ignored).
        sampled: every sampled frame, in order; by default the distinct
            values of ``frames`` (every sampled frame has at least one row
            in ``video_scores`` output, a missing-value row where no face was found).

    Returns:
        {person id: sorted array of the frames to fill with missing-value rows}.
        People without gaps map to empty arrays.
    """
    frames = np.asarray(frames)
    ids = _person_array("person_ids", person_ids)
    if len(frames) != len(ids):
        raise ArgumentError(f"{arg('frames')} and {arg('person_ids')} must have one value per row; got "
                         f"{len(frames)} and {len(ids)}.")
    universe = np.unique(frames) if sampled is None else np.asarray(sampled)
    if sampled is not None and np.any(universe[1:] <= universe[:-1]):
        raise ArgumentError(f"{arg('sampled')} must list each sampled frame once, in increasing order.")
    if sampled is not None and not np.all(np.isin(frames, universe)):
        raise ArgumentError(f"Every frame of a row must be among {arg('sampled')}; missing: "
                         f"{value(np.setdiff1d(frames, universe).tolist()[:10])}.")
    gaps = {}
    for person in np.unique(ids[ids != NO_PERSON]):
        seen = np.unique(frames[ids == person])
        span = universe[(universe >= seen[0]) & (universe <= seen[-1])]
        gaps[int(person)] = span[~np.isin(span, seen)]
    return gaps


def check_person_names(person_names: Union[Mapping[int, str], Sequence[str]]) -> Dict[int, str]:
    """``person_names`` as {id: name}: a list or tuple (the first name for person 0, ...) or a dict
    from ids to names. Names must be non-empty, distinct texts. Check before scoring, so that a
    mistake is found before a long video is scored."""
    example = value(["left chair", "right chair"])
    if isinstance(person_names, Mapping):
        items = list(person_names.items())
        for key, _ in items:
            if isinstance(key, bool) or not isinstance(key, numbers.Integral) or key < 0:
                raise ArgumentError(f"{arg('person_names')} maps person ids (0, 1, ...) to names; "
                                 f"{value(key)} is not a person id.")
        named = {int(k): v for k, v in items}
    elif isinstance(person_names, (list, tuple)):
        named = dict(enumerate(person_names))
    else:
        raise ArgumentError(f"{arg('person_names')} must be a list of names (the first for person 0, ...), for "
                         f"example {example}, or a mapping from person ids to names; got {value(person_names)}.")
    if not named:
        raise ArgumentError(f"{arg('person_names')} is empty; give at least one name, for example {example}.")
    for pid, name in named.items():
        if not isinstance(name, str) or not name.strip():
            raise ArgumentError(f"{arg('person_names')} must hold non-empty texts; person {pid} has {value(name)}.")
    seen: set = set()
    repeated = [name for name in named.values() if name in seen or seen.add(name)]
    if repeated:
        raise ArgumentError(f"{arg('person_names')} must name each person differently; repeated: "
                         f"{', '.join(value(r) for r in dict.fromkeys(repeated))}.")
    return named


def name_persons(person_ids, person_names: Union[Mapping[int, str], Sequence[str]]) -> List[Optional[str]]:
    """Each row's person as a name (None for rows without a person).

    A person without a name keeps their id as text (``"3"``), and names of
    ids that never occur are ignored; both with one warning, so that a long
    run is not lost to a miscount of the people in a video.
    """
    named = check_person_names(person_names)
    ids = _person_array("person_ids", person_ids)
    present = [int(p) for p in np.unique(ids[ids != NO_PERSON])]
    unnamed = [p for p in present if p not in named]
    unused = [p for p in named if p not in present]
    if unnamed or unused:
        parts = []
        if unnamed:
            parts.append(f"person(s) {', '.join(map(str, unnamed))} have no name in {arg('person_names')} and "
                         f"keep their number")
        if unused:
            parts.append(f"name(s) for person(s) {', '.join(map(str, unused))} were given but those ids do not "
                         f"occur")
        warn("; ".join(parts) + f". The video has {len(present)} person(s): {', '.join(map(str, present))}. "
             f"Use {arg('persons')} to keep only the people seen most often.")
    return [None if p == NO_PERSON else named.get(int(p), str(int(p))) for p in ids]
