"""Which frames of a video to score: pure arithmetic on frame counts, rates and seconds.

Nothing here opens a file. The numbers a caller gives (``nframes``,
``start``, ``end``, ``ffreq``) are checked once
(:func:`check_sampling_arguments`), and the frames are chosen from the
header's frame count and rate (:func:`sample_frame_indices`). Frame lists
are lazy (:class:`FrameIndices`), so a large request costs no memory until
frames are read. Whether those frames really exist is checked against the
file by :func:`transforemotion.media.decoding.choose_frames`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence as SequenceABC
from typing import Iterator, Optional, Tuple

from ..core.errors import ArgumentError
from ..core.checks import check_count, check_seconds
import numpy as np

from ..core.messages import arg, value, warn

__all__ = ["check_sampling_arguments", "DEFAULT_NFRAMES", "FrameIndices", "MAX_FRAMES", "frames_to_score",
           "sample_frame_indices", "frames_and_note"]

# The most frames one call scores: every frame of 90 hours at 30 frames per
# second, and a result table of a few GB. Far above any study's request; it
# keeps a typo or a lying header from asking for billions of rows.
MAX_FRAMES = 10_000_000


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


def check_sampling_arguments(nframes, start, end, ffreq) -> Tuple[Optional[int], float, float, int]:
    """The user's sampling numbers, checked before anything is read: whole counts, finite seconds.

    ``nframes=None`` stands for "left at its default" (see :func:`frames_to_score`).
    """
    if nframes is not None:
        nframes = check_count("nframes", nframes, 1, MAX_FRAMES)
    ffreq = check_count("ffreq", ffreq)
    start = check_seconds("start", start)
    end = check_seconds("end", end, allow_end_marker=True)
    if end != -1 and end <= start:
        raise ArgumentError(f"{arg('end')} ({end:g} s) must be after {arg('start')} ({start:g} s), or "
                         f"{value(-1)} for the end of the video.")
    return nframes, start, end, ffreq


def _check_sampling(total_frames, fps, nframes, start, end, ffreq) -> Tuple[int, float, int, float, float, int]:
    """Every number sampling uses, checked: the video's own, and the user's."""
    if isinstance(total_frames, bool) or not isinstance(total_frames, (int, np.integer)) or total_frames < 0:
        raise ArgumentError(f"The video's frame count must be a whole number, 0 or more; got {total_frames!r}.")
    if isinstance(fps, bool) or not isinstance(fps, (int, float, np.integer, np.floating)) \
            or not math.isfinite(fps) or fps <= 0:
        raise ArgumentError(f"The video's frame rate must be a positive number of frames per second; got {fps!r}.")
    nframes, start, end, ffreq = check_sampling_arguments(nframes, start, end, ffreq)
    return int(total_frames), float(fps), nframes, start, end, ffreq


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
    total_frames, fps, nframes, start, end, ffreq = _check_sampling(total_frames, fps, nframes, start, end, ffreq)
    cut, first, last = _frame_range(total_frames, fps, start, end)
    available = last - first
    where = f"between {start:g} s and {'the end' if end == -1 else f'{end:g} s'}" if cut else "in the video"
    if uniform:
        if available < nframes:
            raise ArgumentError(
                f"The video has {max(available, 0)} frames {where} ({fps:.3g} frames per second), but "
                f"{arg('nframes', nframes)} frames were asked for. Ask for fewer frames or a longer range."
            )
        step = math.ceil(available / nframes)
        return FrameIndices(first, min(last, first + nframes * step), step)
    needed = (nframes - 1) * ffreq + 1
    if needed > available:
        raise ArgumentError(_too_few_frames(nframes, ffreq, needed, max(available, 0), where, fps))
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


class _DefaultFrameCount(int):
    """transforEmotion's default of 100 frames, told apart from an explicit ``nframes=100``.

    Left at the default, a short clip is scored on the frames it has (up to
    100) instead of being refused; an explicit count that cannot be met is
    an error.
    """


DEFAULT_NFRAMES = _DefaultFrameCount(100)


def frames_and_note(total_frames, fps, nframes, start, end, uniform, ffreq) -> Tuple[FrameIndices, Optional[str]]:
    """:func:`frames_to_score`'s indices, and the warning it would give (or None)."""
    total_frames, fps, nframes, start, end, ffreq = _check_sampling(total_frames, fps, nframes, start, end, ffreq)
    if nframes is not None:
        return sample_frame_indices(total_frames, fps, nframes, start, end, uniform, ffreq), None
    _, first, last = _frame_range(total_frames, fps, start, end)
    available = last - first
    fit = available if uniform else (available - 1) // ffreq + 1
    if 0 < fit < DEFAULT_NFRAMES:
        how = "spread evenly over them" if uniform else f"every {ffreq}th frame ({arg('ffreq', ffreq)})"
        note = (f"The video has {available} frames in the chosen range, too few for {int(DEFAULT_NFRAMES)} frames "
                f"{how}, so the {fit} frames it has room for are scored. Give {arg('nframes')} to ask for an exact "
                "number of frames (an error if the video is too short).")
        return sample_frame_indices(total_frames, fps, fit, start, end, uniform, ffreq), note
    return sample_frame_indices(total_frames, fps, int(DEFAULT_NFRAMES), start, end, uniform, ffreq), None


def frames_to_score(total_frames: int, fps: float, nframes: Optional[int], start: float = 0, end: float = -1,
                    uniform: bool = False, ffreq: int = 15) -> FrameIndices:
    """The frames ``video_scores`` scores: :func:`sample_frame_indices`, except that
    ``nframes=None`` (the caller left it at its default) means "up to 100, as
    many as the range has room for", with one warning when that is fewer."""
    indices, note = frames_and_note(total_frames, fps, nframes, start, end, uniform, ffreq)
    if note:
        warn(note)
    return indices
