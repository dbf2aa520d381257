"""The tracker: :class:`PersonTracker` gives each face of a sampled frame a person id.

How it works, and what it can and cannot do, is told in the package's
docstring (:mod:`transforemotion.faces.tracking`).
"""

from __future__ import annotations

import math
from typing import List, Optional, Tuple

import numpy as np

from ...core.errors import ArgumentError
from ...core.messages import arg, value
from .assignment import linear_sum_assignment
from .config import TrackerConfig
from .tracks import (CALIBRATION_MIN, CALIBRATION_SAMPLES, FIRST_MOVE_TOLERANCE, FORBIDDEN, HIDDEN_IOU, MAX_GROWTH,
                     MISSED_FRAME_COST, NEGATIVES_PER_FRAME, POSITION_GAIN, RECALIBRATE_EVERY, VELOCITY_FIRST,
                     VELOCITY_GAIN, Ring, Track, box_iou, box_states, state_boxes)

__all__ = ["PersonTracker"]


class PersonTracker:
    """Stable person ids for the faces of a video, one sampled frame at a time.

    Args:
        config: the tracker's options (:class:`TrackerConfig`, checked when made); None: the defaults.

    Call :meth:`update` once per sampled frame, in order, including frames
    without faces (with zero boxes), so that time passes for the tracker.
    """

    def __init__(self, config: Optional[TrackerConfig] = None):
        if config is not None and not isinstance(config, TrackerConfig):
            raise ArgumentError(f"{arg('config')} must be a TrackerConfig, for example "
                                f"TrackerConfig(max_lost_tracks=16); got {value(config)}.")
        self.config = config or TrackerConfig()
        self._tracks: List[Track] = []
        self._frame = -1
        self._next_id = 0
        self._dim: Optional[int] = None
        self._same = Ring(CALIBRATION_SAMPLES)
        self._different = Ring(CALIBRATION_SAMPLES)
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
        different, same = self.config.appearance_prior
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

    def _motion(self, tracks: List[Track], gaps: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """Motion cost of each track and box (0: where predicted), NaN where the gates forbid the pair."""
        gaps = gaps.astype(np.float64)
        predicted = np.stack([t.x for t in tracks]) + np.stack([t.v for t in tracks]) * gaps[:, None]
        det = box_states(boxes)
        size = np.exp((predicted[:, 2] + predicted[:, 3]) / 2)
        distance = np.hypot(det[None, :, 0] - predicted[:, None, 0], det[None, :, 1] - predicted[:, None, 1])
        distance /= size[:, None]
        # Before a person's second face their velocity is unknown, so the first move may be larger.
        unknown = np.array([t.hits == 1 for t in tracks])
        config = self.config
        tolerance = (config.max_distance * np.where(unknown, FIRST_MOVE_TOLERANCE, 1.0)
                     + config.distance_growth * (gaps - 1))
        growth = np.abs((det[None, :, 2] + det[None, :, 3]) / 2 - (predicted[:, None, 2] + predicted[:, None, 3]) / 2)
        allowed = (distance <= tolerance[:, None]) & (growth <= math.log(self.config.max_size_change))
        # Distance counts in face sizes whatever the gap (the gap widens the gate, not the liking), and each
        # sampled frame a person was missed costs a little: where a face could continue either a person seen
        # a moment ago or one hidden for a while, as when two people cross, it continues the one just seen.
        cost = np.minimum(1 - box_iou(state_boxes(predicted), boxes), distance / self.config.max_distance)
        cost += MISSED_FRAME_COST * (gaps[:, None] - 1)
        return np.where(allowed, cost, np.nan)

    def _assign(self, cost: np.ndarray) -> List[Tuple[int, int]]:
        """Optimal pairs (row, column) among the finite entries of ``cost``."""
        if cost.size == 0 or not np.isfinite(cost).any():
            return []
        filled = np.where(np.isfinite(cost), cost, FORBIDDEN)
        rows, cols = linear_sum_assignment(filled)
        return [(r, c) for r, c in zip(rows, cols) if np.isfinite(cost[r, c])]

    def _predictable(self, track: Track, gap: int, frame_size) -> bool:
        """Whether motion still says where the person is: missed for at most max_predict_frames, and
        (when the frame size is known) some of the predicted box still in the picture."""
        if gap > self.config.max_predict_frames:
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
        confident = confidence >= self.config.high_confidence
        hidden = np.zeros(n, dtype=bool)
        if n > 1:
            overlap = box_iou(boxes, boxes)
            np.fill_diagonal(overlap, 0)
            hidden = overlap.max(axis=1) > HIDDEN_IOU

        # Cosine similarity of each stored person's appearance with each face (NaN: no appearance).
        similarity = None
        known = [k for k, t in enumerate(tracks) if t.feature is not None]
        if embeddings is not None and known:
            similarity = np.full((len(tracks), n), np.nan)
            # einsum, not BLAS: BLAS picks its kernel by processor, and the last bits it rounds differently feed
            # the learned calibration, so the same video could get other ids on another machine.
            similarity[known] = np.einsum("ij,kj->ik", np.stack([tracks[k].feature for k in known]), embeddings)
        score = self._appearance(similarity) if similarity is not None and self.appearance_reliable else None

        owner = np.full(n, -1)  # index into tracks, -1 for none yet
        how = [""] * n
        taken = np.zeros(len(tracks), dtype=bool)
        unambiguous = self._match_on_motion(boxes, gaps, predictable, confident, score, owner, how, taken)
        if score is not None:
            self._match_on_appearance(gaps, predictable, confident, score, owner, how, taken)
        if similarity is not None:
            self._learn_scale(similarity, owner, how, confident & ~hidden & unambiguous, confident & ~hidden, gaps)
        ids = self._record(boxes, embeddings, gaps, owner, how, confident & ~hidden, hidden)
        self._forget()
        return ids

    def _match_on_motion(self, boxes, gaps, predictable, confident, score, owner, how, taken) -> np.ndarray:
        """Stages 1 and 2: confident faces with motion and appearance, then the others with motion alone.
        Fills ``owner``, ``how`` and ``taken``; returns which faces motion alone allowed to one person only."""
        tracks = self._tracks
        unambiguous = np.zeros(len(boxes), dtype=bool)
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
                    unlike = 1 - np.clip(np.nan_to_num(looks, nan=1.0), 0, 1)
                    cost = motion + self.config.appearance_weight * unlike
                    cost[looks < self.config.veto] = np.nan
            for r, c in self._assign(cost):
                owner[faces[c]] = rows[r]
                taken[rows[r]] = True
                how[faces[c]] = "motion"
        return unambiguous

    def _match_on_appearance(self, gaps, predictable, confident, score, owner, how, taken) -> None:
        """Stage 3: confident faces left over against everyone not matched yet, by appearance."""
        rows = np.flatnonzero(~taken & (gaps > 0) & np.isfinite(score[:, 0]))
        faces = np.flatnonzero(confident & (owner < 0))
        if not len(rows) or not len(faces):
            return
        looks = score[np.ix_(rows, faces)]
        # Someone seen in the previous frame, and by motion still in the picture, cannot have jumped
        # to a face that motion rules out, unless the camera cut to another shot: such a face is more
        # likely another person who looks alike (as at the cut from one speaker to the other).
        required = np.where((gaps[rows] == 1) & predictable[rows], self.config.reidentify_seen,
                            self.config.reidentify)
        for r, c in self._assign(np.where(looks >= required[:, None], 1 - looks, np.nan)):
            owner[faces[c]] = rows[r]
            taken[rows[r]] = True
            how[faces[c]] = "appearance"

    def _record(self, boxes, embeddings, gaps, owner, how, learn, hidden) -> np.ndarray:
        """New people (numbered left to right) and the updates of those matched; the ids of the faces.
        ``learn``: faces whose appearance goes into their person's (confident and not hidden)."""
        n = len(boxes)
        states = box_states(boxes)
        matched = owner.copy()
        new = np.flatnonzero(owner < 0)
        for i in new[np.argsort(states[new, 0], kind="stable")]:
            feature = embeddings[i].copy() if embeddings is not None and not hidden[i] else None
            self._tracks.append(Track(self._next_id, states[i], self._frame, feature))
            self._next_id += 1
            owner[i] = len(self._tracks) - 1
            how[i] = "new"
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
            if embeddings is not None and learn[i]:
                if track.feature is None:
                    track.feature = embeddings[i].copy()
                else:
                    mixed = self.config.smoothing * track.feature + (1 - self.config.smoothing) * embeddings[i]
                    track.feature = mixed / max(np.linalg.norm(mixed), 1e-12)
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
        if len(self._tracks) <= self.config.max_lost_tracks and all(
                frame - t.last <= self.config.max_predict_frames or (frame - t.last <= self.config.max_lost_frames
                                                              and t.feature is not None and t.hits > 1)
                for t in self._tracks):
            return  # nothing to forget: the common case, checked without building lists
        kept, lost = [], []
        for track in self._tracks:
            gap = self._frame - track.last
            if gap == 0:
                kept.append(track)
            elif gap <= self.config.max_predict_frames or (
                    track.feature is not None and track.hits > 1 and gap <= self.config.max_lost_frames):
                lost.append(track)
        lost.sort(key=lambda t: t.last, reverse=True)
        self._tracks = kept + lost[: self.config.max_lost_tracks]

