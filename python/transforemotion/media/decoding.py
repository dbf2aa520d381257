"""Decoding the chosen frames of a video, in file order, after checking that they exist.

Frames are decoded straight into memory, in file order: unwanted frames are
skipped with ``grab()`` (no colour conversion, no copy) and the decoder seeks
only when the next wanted frame is far ahead, because seeking restarts
decoding at the previous key frame and costs more than it saves for short
gaps. Nothing is written to disk.

The frame count in a video's header is not trusted blindly: a truncated,
damaged or crafted file can claim far more frames than it holds.
:func:`choose_frames` checks that the last wanted frame exists before any
work is done (see there).
"""

from __future__ import annotations

import math
from typing import Iterator, Optional, Sequence, Tuple

import cv2
import numpy as np

from ..core.errors import ArgumentError
from ..core.messages import arg, function, warn
from .images import check_local_file, is_picture_name
from .quiet_ffmpeg import open_capture, quiet_ffmpeg
from .sampling import FrameIndices, FrameSampling, TooFewFramesError, frames_and_note

__all__ = ["choose_frames", "open_video", "read_frames", "SEEK_GAP"]

# Seek instead of grabbing when the next wanted frame is more than this many
# frames ahead. Typical encoders put a key frame every 1-10 s (25-300 frames);
# below this gap, decoding forward is cheaper than seeking back to a key frame.
SEEK_GAP = 300

def _decodes(capture: cv2.VideoCapture, index: int) -> bool:
    """Whether frame ``index`` can be reached and decoded (one seek)."""
    capture.set(cv2.CAP_PROP_POS_FRAMES, float(index))
    return bool(capture.grab())


def _frames_held(capture: cv2.VideoCapture, below: int) -> int:
    """How many frames (from the first) decode, knowing that frame ``below`` does not.

    Frames 0, 1, 3, 7, 15... are tried until one fails, then the gap is
    bisected: about 2 * log2(result) seeks, none of them far past the real
    end (a header may claim 10**12 frames).
    """
    low, high = 0, below  # frames [0, low) decode; frame `high` does not
    index = 0
    while index < high:
        if not _decodes(capture, index):
            high = index
            break
        low = index + 1
        index = 2 * index + 1
    while low < high:
        middle = (low + high) // 2
        if _decodes(capture, middle):
            low = middle + 1
        else:
            high = middle
    return low


def choose_frames(path: str, total_frames: int, fps: float, sampling: FrameSampling) -> FrameIndices:
    """:func:`frames_to_score`, checked against the frames the file really holds.

    A video's header can claim more frames than the file holds (a truncated
    or damaged file, or a crafted one), and the indices are computed from
    the header. So before anything is decoded, a second reader of ``path``
    seeks to the last wanted frame. When it is there (every sound file),
    the indices are those of :func:`frames_to_score`; the check costs one
    seek. When it is not, the number of frames that really decode, M, is
    found by seeking (about 2 * log2(M) seeks; this trusts the decoder's
    seeking, which FFmpeg does exactly for the usual containers), and:

    - a file in which no frame decodes, or a ``start`` past its last
      decodable frame, is a ValueError that gives both counts;
    - with ``uniform`` or the default ``nframes`` (``sampling.nframes`` None), the frames are
      chosen among the M real ones instead, with one warning that gives both
      counts (``uniform`` with ``nframes`` > M is a ValueError: M frames
      cannot be spread as ``nframes``);
    - with an explicit ``nframes`` taken every ``ffreq`` frames, the indices
      stay those transforEmotion reads, however many of them lie past the
      damage: the frames that decode are scored and the rest get missing
      values when read (:func:`read_frames`), and the caller warns once
      with the count. This is the README's rule for truncated files, the
      same for ``video_scores`` and a corpus.

    A lying header cannot make a run loop over billions of missing frames:
    the rows are at most ``nframes`` (itself at most ``MAX_FRAMES``), and
    reading stops decoding at the first frame that fails.

    Raises:
        ValueError: the range is too short for the request (as in
            :func:`sample_frame_indices`); or the file holds no frame, or none in the range.
    """
    indices, note = frames_and_note(total_frames, fps, sampling)
    probe = open_capture(path)
    try:
        with quiet_ffmpeg():  # seeking past the end of a damaged file makes FFmpeg talk
            whole = not probe.isOpened() or _decodes(probe, indices[-1])
            held = 0 if whole else _frames_held(probe, indices[-1])
        if whole:
            # (A file the probe cannot open is reported by the reader that follows.)
            if note:
                warn(note)
            return indices
    finally:
        probe.release()
    header = (f"{path} says in its header that it has {total_frames} frames, but only {held} can be decoded "
              "(the file is truncated or damaged, or its header is wrong)")
    if held == 0:
        raise ArgumentError(f"{header}. Check the file, or convert it again.")
    if indices[0] >= held:
        raise ArgumentError(f"{header}; {arg('start')} ({sampling.start:g} s) is past the last of them, at "
                         f"{(held - 1) / fps:.3g} s.")
    if sampling.uniform or sampling.nframes is None:
        try:
            indices, note = frames_and_note(held, fps, sampling)
        except ValueError as exc:
            raise (TooFewFramesError if isinstance(exc, TooFewFramesError) else ArgumentError)(
                f"{header}. {exc}") from None
        warn(f"{header}; the frames were chosen among the {held} that exist." + (f" {note}" if note else ""))
        return indices
    return indices


def open_video(path: str) -> Tuple[cv2.VideoCapture, int, float]:
    """Open a local video file. Returns (capture, frame count, frames per second)."""
    check_local_file(path, what="video")
    if is_picture_name(path):
        # OpenCV would open it as a video of one frame (or report a damaged header for a file that is no picture).
        raise ArgumentError(f"{path} is a picture, not a video: use {function('image_scores')} for it.")
    capture = open_capture(path)
    if not capture.isOpened():
        capture.release()
        raise ArgumentError(f"{path} could not be opened as a video (unknown format or damaged file).")
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
    if total <= 0:
        capture.release()
        raise ArgumentError(f"{path} contains no video frames that can be read.")
    if not math.isfinite(fps) or fps <= 0:
        fps = 25.0  # some containers do not record a rate; times are then approximate
    return capture, total, fps


def read_frames(capture: cv2.VideoCapture, indices: Sequence[int]) -> Iterator[Tuple[int, Optional[np.ndarray]]]:
    """Yield (row, RGB frame) for each wanted index, in order; None where a frame cannot be decoded.

    Once the decoder fails (a truncated or damaged file), every later frame is
    None: reading on would only fail again, or hang on some files.
    """
    position = 0  # index of the frame the next grab() returns
    broken = False
    for row, index in enumerate(indices):
        if broken:
            yield row, None
            continue
        if index - position > SEEK_GAP or index < position:
            capture.set(cv2.CAP_PROP_POS_FRAMES, index)
            position = index
        while position < index:
            if not capture.grab():
                broken = True
                break
            position += 1
        ok, frame = (False, None) if broken else capture.read()
        if not ok or frame is None:
            broken = True
            yield row, None
            continue
        position += 1
        yield row, cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
