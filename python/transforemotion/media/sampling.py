"""Which frames of a video to score: pure arithmetic on frame counts, rates and seconds.

Nothing here opens a file. The numbers a caller gives (``nframes``,
``start``, ``end``, ``uniform``, ``ffreq``) are checked once, when a
:class:`FrameSampling` is made, and the frames are chosen from the
header's frame count and rate (:func:`sample_frame_indices`). Frame lists
are lazy (:class:`FrameIndices`), so a large request costs no memory until
frames are read. Whether those frames really exist is checked against the
file by :func:`transforemotion.media.decoding.choose_frames`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence as SequenceABC
from typing import Iterator, Optional, Tuple

from dataclasses import dataclass, replace

import numpy as np

from ..core.checks import check_count, check_flag, check_seconds
from ..core.errors import ArgumentError
from ..core.options import check_fields, option

from ..core.messages import arg, value, warn

__all__ = ["FrameSampling", "TooFewFramesError", "DEFAULT_NFRAMES", "FrameIndices", "MAX_FRAMES", "frames_to_score",
           "sample_frame_indices", "frames_and_note"]

# The most frames one call scores: every frame of 90 hours at 30 frames per
# second, and a result table of a few GB. Far above any study's request; it
# keeps a typo or a lying header from asking for billions of rows.
MAX_FRAMES = 10_000_000


class TooFewFramesError(ArgumentError):
    """The video (or the part chosen) is too short for the frames asked for: the sampling must change."""


class FrameIndices(SequenceABC):
    """Evenly spaced frame indices, computed on demand like ``range``.

    Equal to any list, tuple or range with the same items, so
    ``sample_frame_indices(...) == [0, 15, 30]`` reads as expected, while a
    request for millions of frames costs no memory until it is read.
    """

    __slots__ = ("_range",)

    def __init__(self, start: int, stop: int, step: int = 1):
        self._range = range(start, stop, step)

    def __len__(self) -> int:
        return len(self._range)

    def __getitem__(self, item):
        if isinstance(item, slice):
            part = self._range[item]
            return FrameIndices(part.start, part.stop, part.step)
        return self._range[item]

    def __iter__(self) -> Iterator[int]:
        return iter(self._range)

    def __reversed__(self) -> Iterator[int]:
        return reversed(self._range)

    def __contains__(self, index) -> bool:
        return index in self._range

    def index(self, value, start=0, stop=None):  # range's, in constant time
        position = self._range.index(value)
        if position < start or (stop is not None and position >= stop):
            raise ArgumentError(f"{value} is not in the frame indices")
        return position

    def count(self, value) -> int:
        return self._range.count(value)

    @property
    def step(self) -> int:
        return self._range.step

    def __eq__(self, other) -> bool:
        if isinstance(other, FrameIndices):
            return self._range == other._range
        if isinstance(other, range):
            return self._range == other
        if isinstance(other, (list, tuple)):
            return len(other) == len(self._range) and all(a == b for a, b in zip(self._range, other))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._range)

    def __repr__(self) -> str:
        if len(self._range) <= 10:
            return f"FrameIndices({list(self._range)})"
        return f"FrameIndices(range({self._range.start}, {self._range.stop}, {self._range.step}))"


class _DefaultFrameCount(int):
    """transforEmotion's default of 100 frames, told apart from an explicit ``nframes=100``.

    Left at the default, a short clip is scored on the frames it has (up to
    100) instead of being refused; an explicit count that cannot be met is
    an error.
    """


DEFAULT_NFRAMES = _DefaultFrameCount(100)


def _frame_count(name: str, given) -> Optional[int]:
    # None, or transforEmotion's default left as it is, stands for "as many as fit, up to 100" (frames_and_note).
    if given is None or given is DEFAULT_NFRAMES:
        return None
    return check_count(name, given, 1, MAX_FRAMES)


def _end_seconds(name: str, given) -> float:
    return check_seconds(name, given, allow_end_marker=True)


@dataclass(frozen=True)
class FrameSampling:
    """Which frames of a video to score: transforEmotion's ``nframes``, ``start``, ``end``, ``uniform``, ``ffreq``.

    Built once from a call's arguments (:func:`~transforemotion.core.options.pick`),
    which checks every number before anything is read; whatever takes a
    ``FrameSampling`` trusts it. ``nframes=None`` means "left at its
    default": up to 100, as many as the range has room for.
    """

    nframes: Optional[int] = option(
        None, "how many frames to score (default: up to 100, as many as the video has room for; an N the video "
              "cannot supply is an error)", check=_frame_count, cli=dict(type=int, metavar="N"),
        public_default=DEFAULT_NFRAMES)
    start: float = option(0, "score from here", check=check_seconds, cli=dict(type=float, metavar="SECONDS"))
    end: float = option(-1, "score up to here; -1: the end", check=_end_seconds,
                        cli=dict(type=float, metavar="SECONDS"))
    uniform: bool = option(False, "spread the frames evenly instead of every --ffreq", check=check_flag,
                           cli=dict(action="store_true"))
    ffreq: int = option(15, "take every N-th frame", check=check_count, cli=dict(type=int, metavar="N"))

    def __post_init__(self):
        check_fields(self)
        if self.end != -1 and self.end <= self.start:
            raise ArgumentError(f"{arg('end')} ({self.end:g} s) must be after {arg('start')} ({self.start:g} s), or "
                                f"{value(-1)} for the end of the video.")

    @property
    def requested(self) -> int:
        """The number of frames asked for (100 when left at its default)."""
        return int(DEFAULT_NFRAMES) if self.nframes is None else self.nframes


def _check_video_numbers(total_frames, fps) -> Tuple[int, float]:
    """The video's own numbers, from its header: a frame count and a frame rate."""
    if isinstance(total_frames, bool) or not isinstance(total_frames, (int, np.integer)) or total_frames < 0:
        raise ArgumentError(f"The video's frame count must be a whole number, 0 or more; got {total_frames!r}.")
    if isinstance(fps, bool) or not isinstance(fps, (int, float, np.integer, np.floating)) \
            or not math.isfinite(fps) or fps <= 0:
        raise ArgumentError(f"The video's frame rate must be a positive number of frames per second; got {fps!r}.")
    return int(total_frames), float(fps)


def _frame_at(seconds: float, fps: float, total_frames: int) -> int:
    """The frame shown at ``seconds``, at most ``total_frames`` (no overflow for huge times)."""
    position = seconds * fps
    return total_frames if position >= total_frames else int(position)


def _frame_range(total_frames: int, fps: float, start: float, end: float) -> Tuple[bool, int, int]:
    """(cut, first, last): the range [first, last) that ``start`` and ``end`` select."""
    cut = not (start == 0 and end == -1)
    first = _frame_at(start, fps, total_frames) if cut else 0
    last = total_frames if end == -1 else _frame_at(end, fps, total_frames)
    if cut and first >= total_frames:
        raise ArgumentError(f"{arg('start')} ({start:g} s) is at or after the end of the video, which is "
                         f"{total_frames / fps:.3g} s long ({total_frames} frames at {fps:.3g} frames per second).")
    return cut, first, last


def sample_frame_indices(
    total_frames: int,
    fps: float,
    nframes: int = 100,
    start: float = 0,
    end: float = -1,
    uniform: bool = False,
    ffreq: int = 15,
) -> FrameIndices:
    """The frame indices transforEmotion reads for the same arguments.

    - Without ``start``/``end`` (0 and -1): frame ``i * ffreq`` for
      ``i < nframes``; with ``uniform``, the step is
      ``ceil(total_frames / nframes)`` instead of ``ffreq``.
    - With ``start``/``end`` in seconds: the range is
      ``[int(start * fps), int(end * fps))`` (``end = -1``: to the last frame;
      an ``end`` past the last frame means the last frame)
      and the frames are ``first + i * step`` with the same step rule, the
      total being the range's length.

    The result is a :class:`FrameIndices` (lazy, like ``range``; equal to
    the list of the same indices). This is arithmetic on the header's frame
    count only; :func:`choose_frames` also checks the file.

    Where transforEmotion differs, we choose the answer a researcher expects,
    keeping its indices whenever it would have succeeded:
    - it refused ``start > 0`` with ``end = -1``; here that means "to the end";
    - it checked ``ffreq * nframes`` even when ``uniform`` ignores ``ffreq``;
      here ``uniform`` only needs ``nframes`` frames in the range;
    - for a cut range shorter than ``nframes`` it silently returned fewer
      frames, and with ``ffreq`` it read past ``end``; here both are a
      ``ValueError`` that says how many frames there are and were asked for;
    - with ``uniform`` the rounded-up step can run past the range for the last
      few frames; transforEmotion failed to read those and dropped them, and
      so do we (the caller warns).

    Raises:
        ValueError: invalid arguments (not a whole number of frames, more
            than :data:`MAX_FRAMES`, seconds that are negative, infinite or
            missing, ``start`` past the end of the video), or a range too
            short for the request.
    """
    if nframes is None or nframes is DEFAULT_NFRAMES:
        nframes = int(DEFAULT_NFRAMES)
    return _indices(*_check_video_numbers(total_frames, fps), FrameSampling(nframes, start, end, uniform, ffreq))


def _indices(total_frames: int, fps: float, sampling: FrameSampling) -> FrameIndices:
    nframes, start, end, uniform, ffreq = (sampling.requested, sampling.start, sampling.end, sampling.uniform,
                                           sampling.ffreq)
    cut, first, last = _frame_range(total_frames, fps, start, end)
    available = last - first
    where = f"between {start:g} s and {'the end' if end == -1 else f'{end:g} s'}" if cut else "in the video"
    if uniform:
        if available < nframes:
            raise TooFewFramesError(
                f"The video has {max(available, 0)} frames {where} ({fps:.3g} frames per second), but "
                f"{arg('nframes', nframes)} frames were asked for. Ask for fewer frames or a longer range."
            )
        step = math.ceil(available / nframes)
        return FrameIndices(first, min(last, first + nframes * step), step)
    needed = (nframes - 1) * ffreq + 1
    if needed > available:
        raise TooFewFramesError(_too_few_frames(nframes, ffreq, needed, max(available, 0), where, fps))
    return FrameIndices(first, first + nframes * ffreq, ffreq)


def _too_few_frames(nframes: int, ffreq: int, needed: int, available: int, where: str, fps: float) -> str:
    """The message for frames every ``ffreq`` that run past the range: it shows that ffreq multiplies the need."""
    fit = (available - 1) // ffreq + 1 if available else 0
    has = "the video has" if where == "in the video" else f"the part {where} has"
    taken = f"{arg('nframes', nframes)} frames, one every {arg('ffreq', ffreq)} frames, need"
    lower = f"Lower {arg('nframes')} (at most {fit} fit" + (f" every {ffreq} frames) or {arg('ffreq')}"
                                                           if ffreq > 1 else ")")
    need = (f"{taken} ({nframes} - 1) × {ffreq} + 1 = {needed} frames" if ffreq > 1
            else f"{arg('nframes', nframes)} frames were asked for")
    return (f"{need}; {has} {available} frames ({available / fps:.3g} s at {fps:.3g} frames per second). {lower}; leave "
            f"out {arg('nframes')} to score the frames that fit (up to {int(DEFAULT_NFRAMES)}); or use "
            f"{arg('uniform', True)} to spread {nframes} frames over the range.")




def frames_and_note(total_frames, fps, sampling: FrameSampling) -> Tuple[FrameIndices, Optional[str]]:
    """:func:`frames_to_score`'s indices, and the warning it would give (or None)."""
    total_frames, fps = _check_video_numbers(total_frames, fps)
    if sampling.nframes is not None:
        return _indices(total_frames, fps, sampling), None
    _, first, last = _frame_range(total_frames, fps, sampling.start, sampling.end)
    available = last - first
    ffreq = sampling.ffreq
    fit = available if sampling.uniform else (available - 1) // ffreq + 1
    if 0 < fit < DEFAULT_NFRAMES:
        how = "spread evenly over them" if sampling.uniform else f"every {ffreq}th frame ({arg('ffreq', ffreq)})"
        note = (f"The video has {available} frames in the chosen range, too few for {int(DEFAULT_NFRAMES)} frames "
                f"{how}, so the {fit} frames it has room for are scored. Give {arg('nframes')} to ask for an exact "
                "number of frames (an error if the video is too short).")
        return _indices(total_frames, fps, replace(sampling, nframes=fit)), note
    return _indices(total_frames, fps, sampling), None


def frames_to_score(total_frames: int, fps: float, nframes: Optional[int], start: float = 0, end: float = -1,
                    uniform: bool = False, ffreq: int = 15) -> FrameIndices:
    """The frames ``video_scores`` scores: :func:`sample_frame_indices`, except that
    ``nframes=None`` (the caller left it at its default) means "up to 100, as many as the range has room for", with
    one warning when that is fewer."""
    indices, note = frames_and_note(total_frames, fps, FrameSampling(nframes, start, end, uniform, ffreq))
    if note:
        warn(note)
    return indices
