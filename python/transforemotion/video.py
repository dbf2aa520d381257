"""Video input: which frames to take, fetching a video, and decoding it in order.

Frames are decoded straight into memory, in file order: unwanted frames are
skipped with ``grab()`` (no colour conversion, no copy) and the decoder seeks
only when the next wanted frame is far ahead, because seeking restarts
decoding at the previous key frame and costs more than it saves for short
gaps. Nothing is written to disk unless the caller asks for it.

The frame count in a video's header is not trusted blindly: a truncated,
damaged or crafted file can claim far more frames than it holds.
:func:`choose_frames` checks that the last wanted frame exists before any
work is done (see there). Frame lists are lazy (:class:`FrameIndices`), so a
large request costs no memory until frames are read.

A URL is downloaded by :func:`downloaded_video`, under a name it creates
itself; it never overwrites or removes a file it did not create.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Sequence as SequenceABC
from typing import Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from .checks import check_count, check_seconds
from .downloads import URL_TIMEOUT_SECONDS, download, is_url
from .files import move_without_overwriting
from .media import check_local_file
from .messages import arg, value, warn
from .quiet_ffmpeg import open_capture, quiet_ffmpeg

__all__ = [
    "check_sampling_arguments",
    "DEFAULT_NFRAMES",
    "FrameIndices",
    "MAX_FRAMES",
    "choose_frames",
    "frames_to_score",
    "sample_frame_indices",
    "open_video",
    "read_frames",
    "downloaded_video",
    "check_video_name",
    "VIDEO_EXTENSIONS",
]

VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".ogv")

# Seek instead of grabbing when the next wanted frame is more than this many
# frames ahead. Typical encoders put a key frame every 1-10 s (25-300 frames);
# below this gap, decoding forward is cheaper than seeking back to a key frame.
SEEK_GAP = 300

# A download stops at this size, or after this long; a longer recording should
# be downloaded once and passed as a file. An hour is 8 GB at 2.4 MB/s.
MAX_VIDEO_BYTES = 8 * 1024 ** 3
VIDEO_DOWNLOAD_SECONDS = 3600

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
            raise ValueError(f"{value} is not in the frame indices")
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
        raise ValueError(f"{arg('end')} ({end:g} s) must be after {arg('start')} ({start:g} s), or "
                         f"{value(-1)} for the end of the video.")
    return nframes, start, end, ffreq


def _check_sampling(total_frames, fps, nframes, start, end, ffreq) -> Tuple[int, float, int, float, float, int]:
    """Every number sampling uses, checked: the video's own, and the user's."""
    if isinstance(total_frames, bool) or not isinstance(total_frames, (int, np.integer)) or total_frames < 0:
        raise ValueError(f"The video's frame count must be a whole number, 0 or more; got {total_frames!r}.")
    if isinstance(fps, bool) or not isinstance(fps, (int, float, np.integer, np.floating)) \
            or not math.isfinite(fps) or fps <= 0:
        raise ValueError(f"The video's frame rate must be a positive number of frames per second; got {fps!r}.")
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
        raise ValueError(f"{arg('start')} ({start:g} s) is at or after the end of the video, which is "
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
    if available < nframes:
        where = f"between {start:g} s and {'the end' if end == -1 else f'{end:g} s'}" if cut else "in the video"
        raise ValueError(
            f"The video has {max(available, 0)} frames {where} ({fps:.3g} frames per second), but "
            f"{arg('nframes', nframes)} frames were asked for. Ask for fewer frames or a longer range."
        )
    if uniform:
        step = math.ceil(available / nframes)
        return FrameIndices(first, min(last, first + nframes * step), step)
    needed = (nframes - 1) * ffreq + 1
    if needed > available:
        raise ValueError(
            f"The range has {available} frames, but {arg('nframes', nframes)} frames every {arg('ffreq', ffreq)} "
            f"frames need {needed}. Lower {arg('nframes')} or {arg('ffreq')}, or use {arg('uniform', True)} to "
            "spread the frames over the range."
        )
    return FrameIndices(first, first + nframes * ffreq, ffreq)


class _DefaultFrameCount(int):
    """transforEmotion's default of 100 frames, told apart from an explicit ``nframes=100``.

    Left at the default, a short clip is scored on the frames it has (up to
    100) instead of being refused; an explicit count that cannot be met is
    an error.
    """


DEFAULT_NFRAMES = _DefaultFrameCount(100)


def _frames_and_note(total_frames, fps, nframes, start, end, uniform, ffreq) -> Tuple[FrameIndices, Optional[str]]:
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
    indices, note = _frames_and_note(total_frames, fps, nframes, start, end, uniform, ffreq)
    if note:
        warn(note)
    return indices


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


def choose_frames(path: str, total_frames: int, fps: float, nframes: Optional[int] = None, start: float = 0,
                  end: float = -1, uniform: bool = False, ffreq: int = 15) -> FrameIndices:
    """:func:`frames_to_score`, checked against the frames the file really holds.

    A video's header can claim more frames than the file holds (a truncated
    or damaged file, or a crafted one), and the indices are computed from
    the header. So before anything is decoded, a second reader of ``path``
    seeks to the last wanted frame. When it is there (every sound file),
    the indices are those of :func:`frames_to_score`; the check costs one
    seek. When it is not, the number of frames that really decode, M, is
    found by seeking (about 2 * log2(M) seeks; this trusts the decoder's
    seeking, which FFmpeg does exactly for the usual containers), and:

    - a request for more frames than the file holds (``nframes`` > M), or
      for a ``start`` past its last frame, is a ValueError that gives both
      counts;
    - with ``uniform`` or the default ``nframes`` (None), the frames are
      chosen among the M real ones instead, with one warning that gives both
      counts;
    - with an explicit ``nframes`` taken every ``ffreq`` frames (at most M
      of them), the indices stay those transforEmotion reads: the frames
      past the end get missing values when read (:func:`read_frames`).

    So the number of rows never exceeds the frames the file holds, and a
    lying header cannot make a run loop over billions of missing frames.

    Raises:
        ValueError: the arguments, as in :func:`sample_frame_indices`; or
            the file holds too few frames for the request.
    """
    indices, note = _frames_and_note(total_frames, fps, nframes, start, end, uniform, ffreq)
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
        raise ValueError(f"{header}. Check the file, or convert it again.")
    if indices[0] >= held:
        raise ValueError(f"{header}; {arg('start')} ({start:g} s) is past the last of them, at "
                         f"{(held - 1) / fps:.3g} s.")
    if uniform or nframes is None:
        try:
            indices, note = _frames_and_note(held, fps, nframes, start, end, uniform, ffreq)
        except ValueError as exc:
            raise ValueError(f"{header}. {exc}") from None
        warn(f"{header}; the frames were chosen among the {held} that exist." + (f" {note}" if note else ""))
        return indices
    if nframes > held:
        raise ValueError(f"{header}, fewer than the {arg('nframes', nframes)} asked for. Ask for at most {held} "
                         "frames.")
    return indices


def open_video(path: str) -> Tuple[cv2.VideoCapture, int, float]:
    """Open a local video file. Returns (capture, frame count, frames per second)."""
    check_local_file(path, what="video")
    capture = open_capture(path)
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


def _url_suffix(url: str) -> str:
    suffix = os.path.splitext(urllib.parse.urlsplit(url).path)[1].lower()
    return suffix if suffix in VIDEO_EXTENSIONS else ".mp4"


def _run_bounded(command: List[str], seconds: float) -> Tuple[Optional[int], str, str]:
    """Run ``command``; kill it (and what it started) after ``seconds``. Returns (exit code or None, out, err)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                               text=True, encoding="utf-8", errors="replace", start_new_session=os.name == "posix")
    try:
        out, err = process.communicate(timeout=seconds)
        return process.returncode, out, err
    except subprocess.TimeoutExpired:
        if os.name == "posix":
            with contextlib.suppress(OSError):
                os.killpg(process.pid, signal.SIGKILL)
        process.kill()
        process.communicate()
        return None, "", ""


def _download_with_ytdlp(url: str, folder: str, max_bytes: int, max_seconds: float, started: float) -> str:
    """Download the video on a web page into ``folder`` (ours alone) with yt-dlp; return its path.

    yt-dlp runs in a child process so that the time limit holds whatever it
    does (a slow server, a stuck extractor): the process is killed when the
    time is up. ``--ignore-config`` keeps a user's yt-dlp settings (another
    output folder, say) from changing where the file goes. ``max_seconds``
    counts from ``started`` (a ``time.monotonic()`` value).
    """
    try:
        __import__("yt_dlp")
    except ImportError:
        raise ImportError(
            f"{url} is a web page, not a video file. Videos from YouTube and similar sites need the optional "
            "'youtube' extra: pip install 'transforemotion[youtube]' (it installs yt-dlp)."
        ) from None
    command = [
        sys.executable, "-m", "yt_dlp", "--ignore-config", "--no-playlist", "--no-warnings", "--no-progress",
        "--format", "best[ext=mp4]/best",
        "--output", os.path.join(folder, "video.%(ext)s"),
        "--max-filesize", str(int(max_bytes)),
        "--socket-timeout", str(URL_TIMEOUT_SECONDS),
        "--print", "after_move:filepath",
        "--", url,
    ]
    code, out, err = _run_bounded(command, max(0.1, max_seconds - (time.monotonic() - started)))
    if code is None:
        raise ValueError(f"Downloading the video at {url} took longer than {max_seconds:g} s, so it was stopped. "
                         "Download it yourself and pass the file.")
    if code != 0:
        errors = [line for line in err.splitlines() if line.startswith("ERROR:")] or err.strip().splitlines()[-1:]
        reason = errors[-1].replace("ERROR:", "", 1).strip() if errors else f"yt-dlp exited with status {code}"
        raise ValueError(f"Could not download the video at {url}: {reason}")
    printed = [line.strip() for line in out.splitlines() if line.strip()]
    path = printed[-1] if printed else ""
    if not os.path.isfile(path):
        # yt-dlp skips, without an error, a video above --max-filesize.
        raise ValueError(f"yt-dlp found a video at {url} but saved no file; it may be larger than the "
                         f"{max_bytes / 1e6:,.0f} MB limit. Download it yourself and pass the file.")
    return path


def _download_into(url: str, folder: str, max_bytes: int, max_seconds: float) -> str:
    """Download ``url`` into ``folder`` (ours alone): a video file directly, a web page through yt-dlp."""
    started = time.monotonic()
    path = os.path.join(folder, "video" + _url_suffix(url))
    with open(path, "wb") as out:
        written = download(url, out, max_bytes, refuse_html=True, max_seconds=max_seconds)
    if written is None:
        os.remove(path)
        return _download_with_ytdlp(url, folder, max_bytes, max_seconds, started)
    if written == 0:
        raise ValueError(f"{url} returned an empty response, not a video.")
    return path


def _make_folders(folder: str) -> List[str]:
    """Create ``folder`` and any missing parents; return the ones created, outermost first."""
    missing = []
    current = os.path.abspath(folder)
    while not os.path.exists(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    created = []
    for path in reversed(missing):
        try:
            os.mkdir(path)
        except FileExistsError:  # made meanwhile by someone else: not ours to remove
            continue
        created.append(path)
    return created


def _remove_if_empty(created: List[str]) -> None:
    for path in reversed(created):
        try:
            os.rmdir(path)  # only succeeds on an empty folder
        except OSError:
            return


def _existing_file_error(target: str, before: bool) -> ValueError:
    when = "Nothing was downloaded." if before else "The download was discarded."
    return ValueError(
        f"{target} already exists, and keeping the download ({arg('save_video', True)}) would overwrite it. "
        f"{when} Pass another {arg('video_name')} (it names the file), another {arg('save_dir')}, or move the "
        "file away."
    )


@contextlib.contextmanager
def downloaded_video(url: str, save_dir: str = "temp/", video_name: str = "temp", keep: bool = False,
                     max_bytes: int = MAX_VIDEO_BYTES, max_seconds: float = VIDEO_DOWNLOAD_SECONDS) -> Iterator[str]:
    """Download a video for the length of a ``with`` block; yields the local path.

    A direct link to a video file is streamed (within ``max_bytes`` and
    ``max_seconds`` in all, see :func:`transforemotion.downloads.download`);
    a web page (YouTube and others) goes through yt-dlp, run as a child
    process that is killed when ``max_seconds`` are up, with its own
    ``--max-filesize`` (its network requests follow its own rules). Either
    way the download is written inside a new hidden folder
    ``save_dir/.transforemotion-download-*`` that this function creates, so
    it can never collide with a file of the user's.

    - ``keep=False`` (``save_video=False``): the path yielded is inside that
      folder, which is removed when the block ends, whatever happens.
    - ``keep=True``: once downloaded, the file is moved to
      ``save_dir/{video_name}{ext}`` (the extension from the URL, or
      yt-dlp's) and kept. An existing file of that name is never
      overwritten: when it exists, a ValueError names it before anything is
      downloaded (for a web page the extension is known only afterwards;
      then the download is discarded with the same error).
    - ``save_dir`` is created if needed; a folder this function created is
      removed again at the end if it is empty (a failed download, nothing
      kept, no frames saved in it).

    Close any reader of the file before the block ends (Windows cannot
    remove an open file).

    Raises:
        ValueError: an invalid argument, an existing file in the way, or a
            download that fails or exceeds the limits (nothing is left behind).
        ImportError: a web page while yt-dlp is not installed.
    """
    if not is_url(url):
        raise ValueError(f"Only http:// and https:// video URLs are supported; got {url!r}.")
    check_video_name(video_name)
    if not isinstance(save_dir, str) or not save_dir.strip():
        raise ValueError(f"{arg('save_dir')} must be a folder path; got {save_dir!r}.")
    if not isinstance(keep, bool):
        raise ValueError(f"{arg('save_video')} must be {value(True)} or {value(False)}; got {value(keep)}.")
    if os.path.exists(save_dir) and not os.path.isdir(save_dir):
        raise ValueError(f"{arg('save_dir', save_dir)} is a file, not a folder.")
    if keep:
        planned = os.path.join(save_dir, video_name + _url_suffix(url))
        if os.path.lexists(planned):
            raise _existing_file_error(planned, before=True)
    try:
        created = _make_folders(save_dir)
    except OSError as exc:
        raise ValueError(f"{arg('save_dir', save_dir)} could not be created ({exc.strerror or exc}).") from None
    work = None
    try:
        work = tempfile.mkdtemp(prefix=".transforemotion-download-", dir=save_dir)
        path = _download_into(url, work, max_bytes, max_seconds)
        if keep:
            target = os.path.join(save_dir, video_name + os.path.splitext(path)[1])
            try:
                move_without_overwriting(path, target)
            except FileExistsError:
                raise _existing_file_error(target, before=False) from None
            path = target
        yield path
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
        _remove_if_empty(created)
