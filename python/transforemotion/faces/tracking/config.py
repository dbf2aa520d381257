"""The tracker's knobs, in one frozen, checked object: :class:`TrackerConfig`.

As open_clip passes a ``PreprocessCfg`` rather than its fields, the tracker
takes one ``TrackerConfig``; each field is checked when the config is made,
so a tracker never holds an option it did not accept.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields
from typing import Tuple

from ...core.errors import ArgumentError
from ...core.messages import arg, value

__all__ = ["TrackerConfig", "check_option"]


@dataclass(frozen=True)
class TrackerConfig:
    """How :class:`~transforemotion.faces.tracking.PersonTracker` follows faces; the defaults suit our
    detector and :func:`~transforemotion.faces.tracking.face_descriptor`.

    Attributes:
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
            is remembered for re-identification by appearance (at least
            ``max_predict_frames``).
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

    >>> TrackerConfig(max_lost_tracks=16).max_lost_tracks
    16
    """

    high_confidence: float = 0.9
    max_distance: float = 1.0
    distance_growth: float = 0.25
    max_size_change: float = 1.5
    max_predict_frames: int = 10
    max_lost_frames: int = 1000
    max_lost_tracks: int = 32
    appearance_weight: float = 1.0
    appearance_prior: Tuple[float, float] = (0.80, 0.90)
    reidentify: float = 0.5
    reidentify_seen: float = 1.0
    veto: float = -1.0
    smoothing: float = 0.9

    def __post_init__(self):
        # Each field's (low, high, whole number), checked in the order of the fields.
        bounds = {"high_confidence": (0.0, 1.0, False), "max_distance": (1e-6, math.inf, False),
                  "distance_growth": (0.0, math.inf, False), "max_size_change": (1.0, math.inf, False),
                  "max_predict_frames": (1, math.inf, True), "max_lost_frames": (None, math.inf, True),
                  "max_lost_tracks": (0, math.inf, True), "appearance_weight": (0.0, math.inf, False),
                  "reidentify": (-math.inf, math.inf, False), "reidentify_seen": (-math.inf, math.inf, False),
                  "veto": (-math.inf, math.inf, False), "smoothing": (0.0, 1.0, False)}
        for field in fields(self):
            if field.name == "appearance_prior":
                checked = _check_prior(self.appearance_prior)
            else:
                low, high, integer = bounds[field.name]
                low = self.max_predict_frames if low is None else low  # remembered at least as long as predicted
                checked = check_option(field.name, getattr(self, field.name), low, high, integer)
            object.__setattr__(self, field.name, checked)


def _check_prior(prior) -> Tuple[float, float]:
    if not isinstance(prior, (tuple, list)) or len(prior) != 2:
        raise ArgumentError(f"{arg('appearance_prior')} must be two similarities (different, same) with "
                            f"different < same, for example {value((0.8, 0.9))}; got {value(prior)}.")
    different = check_option("appearance_prior", prior[0], -1.0, 1.0)
    same = check_option("appearance_prior", prior[1], -1.0, 1.0)
    if not different < same:
        raise ArgumentError(f"{arg('appearance_prior')} must be (different, same) with different < same; "
                            f"got {value(tuple(prior))}.")
    return different, same


def check_option(name: str, given, low: float, high: float = math.inf, integer: bool = False):
    """``given`` as a float (or int), if it is a finite number within [low, high]; else an error naming it."""
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
