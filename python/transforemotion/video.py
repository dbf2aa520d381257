"""Video input: which frames to take, fetching a video, and decoding it in order.

Frames are decoded straight into memory, in file order: unwanted frames are
skipped with ``grab()`` (no colour conversion, no copy) and the decoder seeks
only when the next wanted frame is far ahead, because seeking restarts
decoding at the previous key frame and costs more than it saves for short
gaps. Nothing is written to disk unless the caller asks for it.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
import urllib.parse
from typing import Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from .media import check_local_file, download, is_url
from .messages import arg, warn

__all__ = [
    "DEFAULT_NFRAMES",
    "frames_to_score",
    "sample_frame_indices",
    "open_video",
    "read_frames",
    "fetch_video",
    "check_video_name",
    "VIDEO_EXTENSIONS",
]

VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".ogv")

# Seek instead of grabbing when the next wanted frame is more than this many
# frames ahead. Typical encoders put a key frame every 1-10 s (25-300 frames);
# below this gap, decoding forward is cheaper than seeking back to a key frame.
SEEK_GAP = 300

# A download stops at this size; a longer recording should be downloaded once
# and passed as a file.
MAX_VIDEO_BYTES = 8 * 1024 ** 3


def sample_frame_indices(
    total_frames: int,
    fps: float,
    nframes: int = 100,
    start: float = 0,
    end: float = -1,
    uniform: bool = False,
    ffreq: int = 15,
) -> List[int]:
    """The frame indices transforEmotion reads for the same arguments.

    - Without ``start``/``end`` (0 and -1): frame ``i * ffreq`` for
      ``i < nframes``; with ``uniform``, the step is
      ``ceil(total_frames / nframes)`` instead of ``ffreq``.
    - With ``start``/``end`` in seconds: the range is
      ``[int(start * fps), int(end * fps))`` (``end = -1``: to the last frame)
      and the frames are ``first + i * step`` with the same step rule, the
      total being the range's length.

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
        ValueError: invalid arguments, or a range too short for the request.
    """
    if isinstance(nframes, bool) or not isinstance(nframes, (int, np.integer)) or nframes < 1:
        raise ValueError(f"nframes must be a whole number of frames, at least 1; got {nframes!r}.")
    if isinstance(ffreq, bool) or not isinstance(ffreq, (int, np.integer)) or ffreq < 1:
        raise ValueError(f"ffreq must be a whole number of frames, at least 1; got {ffreq!r}.")
    for name, value in (("start", start), ("end", end)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or math.isnan(value):
            raise ValueError(f"{name} must be a number of seconds; got {value!r}.")
    if start < 0:
        raise ValueError(f"start must be 0 or more seconds; got {start}.")
    if end != -1 and end <= start:
        raise ValueError(f"end ({end} s) must be after start ({start} s), or -1 for the end of the video.")
    nframes, ffreq = int(nframes), int(ffreq)

    cut = not (start == 0 and end == -1)
    first = int(start * fps) if cut else 0
    last = total_frames if end == -1 else min(int(end * fps), total_frames)
    available = last - first
    if available < nframes:
        where = f"between {start} s and {'the end' if end == -1 else f'{end} s'}" if cut else "in the video"
        raise ValueError(
            f"The video has {max(available, 0)} frames {where} ({fps:.3g} frames per second), but nframes={nframes} "
            "frames were asked for. Ask for fewer frames or a longer range."
        )
    if uniform:
        step = math.ceil(available / nframes)
        return [first + i * step for i in range(nframes) if first + i * step < last]
    step = ffreq
    needed = (nframes - 1) * step + 1
    if needed > available:
        raise ValueError(
            f"The range has {available} frames, but nframes={nframes} frames every ffreq={ffreq} frames need "
            f"{needed}. Lower nframes or ffreq, or use uniform=True to spread the frames over the range."
        )
    return [first + i * step for i in range(nframes)]


class _DefaultFrameCount(int):
    """transforEmotion's default of 100 frames, told apart from an explicit ``nframes=100``.

    Left at the default, a short clip is scored on the frames it has (up to
    100) instead of being refused; an explicit count that cannot be met is
    an error.
    """


DEFAULT_NFRAMES = _DefaultFrameCount(100)


def frames_to_score(total_frames: int, fps: float, nframes: Optional[int], start: float = 0, end: float = -1,
                    uniform: bool = False, ffreq: int = 15) -> List[int]:
    """The frames ``video_scores`` scores: :func:`sample_frame_indices`, except that
    ``nframes=None`` (the caller left it at its default) means "up to 100, as
    many as the range has room for", with one warning when that is fewer."""
    if nframes is not None:
        return sample_frame_indices(total_frames, fps, nframes, start, end, uniform, ffreq)
    cut = not (start == 0 and end == -1)
    first = int(start * fps) if cut else 0
    last = total_frames if end == -1 else min(int(end * fps), total_frames)
    available = last - first
    fit = available if uniform else (available - 1) // ffreq + 1
    if 0 < fit < DEFAULT_NFRAMES:
        how = "spread evenly over them" if uniform else f"every {ffreq}th frame ({arg('ffreq', ffreq)})"
        warn(f"The video has {available} frames in the chosen range, too few for {int(DEFAULT_NFRAMES)} frames "
             f"{how}, so the {fit} frames it has room for are scored. Give {arg('nframes')} to ask for an exact "
             "number of frames (an error if the video is too short).")
        return sample_frame_indices(total_frames, fps, fit, start, end, uniform, ffreq)
    return sample_frame_indices(total_frames, fps, int(DEFAULT_NFRAMES), start, end, uniform, ffreq)


def open_video(path: str) -> Tuple[cv2.VideoCapture, int, float]:
    """Open a local video file. Returns (capture, frame count, frames per second)."""
    check_local_file(path, what="video")
    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        capture.release()
        raise ValueError(f"{path} could not be opened as a video (unknown format or damaged file).")
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
    if total <= 0:
        capture.release()
        raise ValueError(f"{path} contains no video frames that can be read.")
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


_NAME_PATTERN = re.compile(r"^[^/\\:\x00]+$")


def check_video_name(video_name: str) -> str:
    """``video_name`` becomes part of file names in ``save_dir``: no folders, no ``..``."""
    if (
        not isinstance(video_name, str)
        or not video_name.strip()
        or not _NAME_PATTERN.match(video_name)
        or video_name in (".", "..")
        or ".." in video_name
    ):
        raise ValueError(
            f"video_name must be a plain file name without folders or '..' (it names files inside save_dir); "
            f"got {video_name!r}."
        )
    return video_name


def _download_with_ytdlp(url: str, save_dir: str, video_name: str) -> str:
    try:
        import yt_dlp
    except ImportError:
        raise ImportError(
            f"{url} is a web page, not a video file. Videos from YouTube and similar sites need the optional "
            "'youtube' extra: pip install 'transforemotion[youtube]' (it installs yt-dlp)."
        ) from None
    options = {
        "format": "best[ext=mp4]/best",
        "outtmpl": os.path.join(save_dir, f"{video_name}.%(ext)s"),
        "paths": {"home": save_dir, "temp": save_dir},
        "quiet": True,
        "noprogress": True,
        "noplaylist": True,
    }
    try:
        with yt_dlp.YoutubeDL(options) as ydl:
            info = ydl.extract_info(url, download=True)
            path = ydl.prepare_filename(info)
    except Exception as exc:  # noqa: BLE001 - yt-dlp raises many types; the user needs the message
        raise ValueError(f"Could not download the video at {url}: {exc}") from None
    return path


def fetch_video(url: str, save_dir: str, video_name: str) -> str:
    """Download ``url`` into ``save_dir`` and return the file's path.

    A direct link to a video file is streamed to disk; a web page (YouTube and
    others) goes through yt-dlp. A partial download is removed on failure.
    """
    if not is_url(url):
        raise ValueError(f"Only http:// and https:// video URLs are supported; got {url!r}.")
    suffix = os.path.splitext(urllib.parse.urlsplit(url).path)[1].lower()
    suffix = suffix if suffix in VIDEO_EXTENSIONS else ".mp4"
    target = os.path.join(save_dir, f"{video_name}{suffix}")
    # Download under a temporary name in save_dir, then rename, so that an
    # interrupted download never looks like a finished video.
    handle, partial = tempfile.mkstemp(prefix=f".{video_name}-", suffix=".part", dir=save_dir)
    os.close(handle)
    try:
        with open(partial, "wb") as out:
            is_page = download(url, out, MAX_VIDEO_BYTES, refuse_html=True) is None
        if is_page:
            os.remove(partial)
            return _download_with_ytdlp(url, save_dir, video_name)
        shutil.move(partial, target)
        return target
    finally:
        if os.path.exists(partial):
            os.remove(partial)
