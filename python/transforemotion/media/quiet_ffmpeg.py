"""Keep FFmpeg's own log lines out of the user's terminal while OpenCV opens or probes a video.

Opening a damaged file makes FFmpeg (inside OpenCV) print lines such as
``[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55d6377f3b00] moov atom not found`` straight to
the process's standard error, beside the clear message we give for the same
file. OpenCV offers no per-call switch: ``OPENCV_FFMPEG_LOGLEVEL`` is read once,
when its FFmpeg backend first opens a file (OpenCV 4.x and 5.0), so it cannot be
set afterwards from a library, and ``cv2.utils.logging`` governs OpenCV's
messages, not FFmpeg's.

So :func:`quiet_ffmpeg` points file descriptor 2 at a temporary file for the
few milliseconds of the open or the probe, then puts it back and writes out
again whatever was caught there except FFmpeg's lines (they start with
``[name @ 0x...]``). Output of other threads in that window is delayed, not
lost. Users who want FFmpeg's log set ``OPENCV_FFMPEG_LOGLEVEL`` (or
``OPENCV_FFMPEG_DEBUG``), and then nothing is hidden.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading
from typing import Iterator

import cv2

__all__ = ["quiet_ffmpeg", "open_capture", "FFMPEG_LINE"]

# "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55d6377f3b00] moov atom not found": FFmpeg's context prefix.
FFMPEG_LINE = re.compile(rb"^\[[^\]\r\n]* @ (?:0x)?[0-9a-fA-F]+\] ")

_LOCK = threading.RLock()  # one redirect at a time; a nested use inside it changes nothing
_depth = 0


def _user_wants_the_log() -> bool:
    return bool(os.environ.get("OPENCV_FFMPEG_LOGLEVEL") or os.environ.get("OPENCV_FFMPEG_DEBUG"))


def _flush_python_streams() -> None:
    # What Python has buffered for stderr belongs before the window, on the real stream.
    for stream in (sys.stderr, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass


@contextlib.contextmanager
def quiet_ffmpeg() -> Iterator[None]:
    """Within the block, FFmpeg's log lines on standard error are dropped; the rest of what
    reaches standard error is written out when the block ends."""
    global _depth
    if _user_wants_the_log():
        yield
        return
    with _LOCK:
        if _depth:
            _depth += 1
            try:
                yield
            finally:
                _depth -= 1
            return
        try:
            saved = os.dup(2)
        except OSError:  # no standard error to guard (a closed descriptor)
            yield
            return
        caught = tempfile.TemporaryFile()
        try:
            _flush_python_streams()
            os.dup2(caught.fileno(), 2)
            _depth = 1
            try:
                yield
            finally:
                _depth = 0
                _flush_python_streams()
                os.dup2(saved, 2)
                caught.seek(0)
                kept = [line for line in caught.read().splitlines(keepends=True) if not FFMPEG_LINE.match(line)]
                if kept:
                    os.write(2, b"".join(kept))
        finally:
            os.close(saved)
            caught.close()


def open_capture(path: str) -> "cv2.VideoCapture":
    """``cv2.VideoCapture(path)``, without FFmpeg's log lines when the file is damaged."""
    with quiet_ffmpeg():
        return cv2.VideoCapture(path)
