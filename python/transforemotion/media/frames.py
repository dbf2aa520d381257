"""Saved video frames: ``save_frames=True`` writes each sampled frame as a JPEG and reports what failed."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from typing import List, Optional

import cv2
import numpy as np

from dataclasses import dataclass

from ..core.checks import check_flag, check_text
from ..core.errors import ArgumentError
from ..core.files import atomic_write
from ..core.messages import arg, value, warn
from ..core.options import check_fields, option
from .fetching import check_video_name

__all__ = ["FrameSaver", "frame_file_name", "check_frame_folder"]

# What POSIX promises at least, and what common file systems allow, in one file name (bytes).
_DEFAULT_NAME_MAX = 255


def frame_file_name(video_name: str, row: int) -> str:
    """The name transforEmotion gives a saved frame: ``{video_name}-frame-{row}.jpg``."""
    return f"{video_name}-frame-{row}.jpg"


def _name_max(folder: str) -> int:
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (AttributeError, ValueError, OSError):  # Windows has no pathconf
        return _DEFAULT_NAME_MAX


def _refuse_folder(save_dir: str, reason: str) -> ArgumentError:
    return ArgumentError(f"{arg('save_dir', save_dir)} cannot take the frames: {reason}. No frame was scored; "
                         f"choose a {arg('save_dir')} you can write to, or leave out {arg('save_frames', True)}.")


def _existing_ancestor(path: str, save_dir: str) -> str:
    """The nearest folder above (or at) ``path`` that exists; an error when a file is in the way."""
    current = path
    while True:
        try:
            info = os.stat(current)
        except (FileNotFoundError, NotADirectoryError):
            parent = os.path.dirname(current)
            if parent == current:
                raise _refuse_folder(save_dir, "none of its parent folders exists") from None
            current = parent
            continue
        except OSError as exc:  # a loop of links, a name too long, no permission to look
            raise _refuse_folder(save_dir, f"{current}: {exc.strerror or exc}") from None
        if not stat.S_ISDIR(info.st_mode):
            raise _refuse_folder(save_dir, f"{current} is a file, not a folder")
        return current


def _folder(name, given):
    given = os.fspath(given) if isinstance(given, os.PathLike) else given
    return check_text(name, given, "a folder path")


@dataclass(frozen=True)
class SavedFiles:
    """What a video call writes, and where: transforEmotion's ``save_video``, ``save_frames``, ``save_dir``,
    ``video_name``, each checked once on construction."""

    save_video: bool = option(False, "keep a downloaded video in --save-dir", check=check_flag,
                              cli=dict(action="store_true"))
    save_frames: bool = option(False, "write the sampled frames as NAME-frame-I.jpg in --save-dir", check=check_flag,
                               cli=dict(action="store_true"))
    save_dir: str = option("temp/", "the only folder anything is written to (made only when something is written)",
                           check=_folder, cli=dict(metavar="FOLDER"))
    video_name: str = option("temp", "base name of saved files", check=lambda name, given: check_video_name(given),
                             cli=dict(metavar="NAME"))

    def __post_init__(self):
        check_fields(self)


def check_frame_folder(save_dir: str, video_name: str, frames: int) -> None:
    """Refuse, before any work, a ``save_dir`` or ``video_name`` that cannot take ``frames`` saved frames.

    Checks what can be known in advance: no file stands where a folder must
    be, the folder can be made and written to (tried with a probe file, and
    any folder made for it removed again, so nothing is left when nothing is
    saved), and the longest frame file name fits the file system. A failure
    during the run (a full disk) is still reported by :meth:`FrameSaver.finish`.
    """
    path = os.path.abspath(save_dir)
    existing = _existing_ancestor(path, save_dir)
    longest = frame_file_name(video_name, max(int(frames) - 1, 0))
    limit = _name_max(existing)
    if len(os.fsencode(longest)) > limit:
        raise ArgumentError(
            f"{arg('video_name')} is too long to name the frames: {value(longest[:30] + '...')} would be "
            f"{len(os.fsencode(longest))} bytes, more than the {limit} this file system allows in a file name. No "
            f"frame was scored; choose a shorter {arg('video_name')}.")
    made = []
    folder = path
    while folder != existing:
        made.append(folder)
        folder = os.path.dirname(folder)
    try:
        os.makedirs(path, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=".te-probe-", dir=path)
        os.close(handle)
        os.remove(probe)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        raise _refuse_folder(save_dir, f"the folder could not be made or written to ({where}"
                                       f"{exc.strerror or exc})") from None
    finally:
        for created in made:  # deepest first; the frames make it again on the first save
            with contextlib.suppress(OSError):
                os.rmdir(created)


class FrameSaver:
    """Saves sampled video frames as JPEG files and reports the ones that could not be written.

    ``save_dir`` is created on the first :meth:`save` (so that a run that
    saves nothing creates nothing). A frame that cannot be written — a file
    name too long for the file system, a folder in the way, a folder without
    write permission, a full disk — does not stop the run: it is recorded,
    and :meth:`finish` issues one warning that says how many frames are
    missing, the first reason, and what to do. Each frame is written
    atomically (complete or absent).

    Example:
        >>> saver = FrameSaver("out", "clip")  # doctest: +SKIP
        >>> saver.save(0, rgb_frame)  # doctest: +SKIP
        True
        >>> saver.finish()  # doctest: +SKIP
        1
    """

    def __init__(self, save_dir: str, video_name: str, quality: int = 95):
        self.save_dir = save_dir
        self.video_name = video_name
        self.quality = int(quality)
        self.written: List[str] = []
        self.failed: List[int] = []
        self.first_error: Optional[str] = None
        self._folder_error: Optional[str] = None
        self._folder_ready = False

    def _prepare_folder(self) -> bool:
        if self._folder_ready:
            return True
        if self._folder_error is None:
            try:
                os.makedirs(self.save_dir, exist_ok=True)
                self._folder_ready = True
            except OSError as exc:
                # Tried once: every later frame would fail for the same reason.
                self._folder_error = f"the folder could not be created: {exc.strerror or exc}"
        return self._folder_ready

    def _record_failure(self, row: int, reason: str) -> bool:
        self.failed.append(row)
        if self.first_error is None:
            self.first_error = reason
        return False

    def save(self, row: int, rgb: np.ndarray) -> bool:
        """Write frame ``row`` (an RGB uint8 array); True when the file was written."""
        if not self._prepare_folder():
            return self._record_failure(row, self._folder_error)
        path = os.path.join(self.save_dir, frame_file_name(self.video_name, row))
        ok, encoded = cv2.imencode(".jpg", np.ascontiguousarray(rgb[:, :, ::-1]),
                                   [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if not ok:
            return self._record_failure(row, f"frame {row} could not be encoded as JPEG")
        try:
            with atomic_write(path, "wb", durable=False) as fh:
                fh.write(encoded.tobytes())
        except OSError as exc:
            return self._record_failure(row, f"{path}: {exc.strerror or exc}")
        self.written.append(path)
        return True

    def finish(self) -> int:
        """Warn once if any frame could not be written; returns how many were written."""
        if self.failed:
            attempted = len(self.failed) + len(self.written)
            warn(
                f"{len(self.failed)} of {attempted} frames could not be saved in {self.save_dir} "
                f"(first reason: {self.first_error}). The scores are complete; only the picture files are "
                f"missing. To keep the frames, choose a {arg('save_dir')} you can write to, and a shorter "
                f"{arg('video_name')} if the file names are too long."
            )
        return len(self.written)

    def __enter__(self) -> "FrameSaver":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.finish()
