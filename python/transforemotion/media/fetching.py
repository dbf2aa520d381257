"""Fetching a video from a URL into the caller's ``save_dir``: a plain file link, or a web page through yt-dlp.

A URL is downloaded by :func:`downloaded_video`, under a name it creates
itself; it never overwrites or removes a file it did not create, and it
removes the folders it made when nothing is kept.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from typing import Iterator, List, Optional, Tuple

from ..core.errors import ArgumentError, MissingPackageError
from ..core.files import move_without_overwriting
from ..core.messages import arg, value
from .folders import VIDEO_EXTENSIONS
from .http import URL_TIMEOUT_SECONDS, download, is_url

__all__ = ["downloaded_video", "check_video_name", "MAX_VIDEO_BYTES", "VIDEO_DOWNLOAD_SECONDS"]

# A download stops at this size, or after this long; a longer recording should
# be downloaded once and passed as a file. An hour is 8 GB at 2.4 MB/s.
MAX_VIDEO_BYTES = 8 * 1024 ** 3
VIDEO_DOWNLOAD_SECONDS = 3600

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
        raise ArgumentError(
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
        raise MissingPackageError(
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
        raise ArgumentError(f"Downloading the video at {url} took longer than {max_seconds:g} s, so it was stopped. "
                         "Download it yourself and pass the file.")
    if code != 0:
        errors = [line for line in err.splitlines() if line.startswith("ERROR:")] or err.strip().splitlines()[-1:]
        reason = errors[-1].replace("ERROR:", "", 1).strip() if errors else f"yt-dlp exited with status {code}"
        raise ArgumentError(f"Could not download the video at {url}: {reason}")
    printed = [line.strip() for line in out.splitlines() if line.strip()]
    path = printed[-1] if printed else ""
    if not os.path.isfile(path):
        # yt-dlp skips, without an error, a video above --max-filesize.
        raise ArgumentError(f"yt-dlp found a video at {url} but saved no file; it may be larger than the "
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
        raise ArgumentError(f"{url} returned an empty response, not a video.")
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
    ``max_seconds`` in all, see :func:`transforemotion.media.http.download`);
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
        raise ArgumentError(f"Only http:// and https:// video URLs are supported; got {url!r}.")
    check_video_name(video_name)
    if not isinstance(save_dir, str) or not save_dir.strip():
        raise ArgumentError(f"{arg('save_dir')} must be a folder path; got {save_dir!r}.")
    if not isinstance(keep, bool):
        raise ArgumentError(f"{arg('save_video')} must be {value(True)} or {value(False)}; got {value(keep)}.")
    if os.path.exists(save_dir) and not os.path.isdir(save_dir):
        raise ArgumentError(f"{arg('save_dir', save_dir)} is a file, not a folder.")
    if keep:
        planned = os.path.join(save_dir, video_name + _url_suffix(url))
        if os.path.lexists(planned):
            raise _existing_file_error(planned, before=True)
    try:
        created = _make_folders(save_dir)
    except OSError as exc:
        raise ArgumentError(f"{arg('save_dir', save_dir)} could not be created ({exc.strerror or exc}).") from None
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
