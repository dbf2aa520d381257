"""Writing the files a researcher will look at: saved frames, output tables, kept downloads.

Everything user-visible is written here, so that three promises hold in one
place:

- a file that could not be written is reported, never silently missing
  (``cv2.imwrite`` only returns False; :class:`FrameSaver` turns that into
  a warning that says how many, why, and what to do);
- a file is either complete or absent: it is written under a temporary name
  in the same folder and renamed at the end (:func:`atomic_write`), so an
  interrupted run never leaves half a table or half a frame behind;
- an existing file is never replaced by a download
  (:func:`move_without_overwriting`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from typing import IO, Iterator, List, Optional

import cv2
import numpy as np

from .messages import arg, warn

__all__ = ["FrameSaver", "atomic_write", "check_output_path", "frame_file_name", "move_without_overwriting"]


def check_output_path(path: str, name: str = "output") -> str:
    """Refuse an output file that cannot be written, before any work is done.

    ``name`` is the argument that holds the path; messages spell it for the
    caller (``output=`` in Python and R, ``--output`` in a shell).

    Returns the path unchanged. Raises ValueError when it is empty or not
    text, is an existing folder, or its folder does not exist or is a file.
    An existing file is fine: it will be replaced (atomically) at the end.
    """
    if not isinstance(path, str) or not path.strip():
        raise ValueError(f"{arg(name)} must be the path of a file to write; got {path!r}.")
    if os.path.isdir(path):
        raise ValueError(f"{arg(name, path)} is a folder; give a file name inside it, for example "
                         f"{arg(name, os.path.join(path, 'scores.csv'))}.")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.exists(folder):
        raise ValueError(f"{arg(name, path)}: the folder {folder} does not exist. Create it first, or choose a file "
                         "in a folder that exists.")
    if not os.path.isdir(folder):
        raise ValueError(f"{arg(name, path)}: {folder} is a file, not a folder, so nothing can be written inside it.")
    return path


def _temporary_name(folder: str) -> str:
    # Short and fixed in length, so that it fits wherever the final name fits;
    # a leading dot keeps it out of most file listings while it exists.
    return os.path.join(folder, f".te-{secrets.token_hex(6)}.tmp")


@contextlib.contextmanager
def atomic_write(path: str, mode: str = "w", encoding: Optional[str] = "utf-8", newline: Optional[str] = None,
                 durable: bool = True) -> Iterator[IO]:
    """Open ``path`` for writing so that it appears complete or not at all.

    The ``with`` block writes to a new temporary file in the same folder;
    when the block ends normally the file is flushed (and, with ``durable``,
    synced to disk) and renamed over ``path`` with :func:`os.replace`. When
    the block raises, the temporary file is removed and ``path`` is left as
    it was. ``mode`` is ``"w"`` (text, with ``encoding`` and ``newline``) or
    ``"wb"``. The new file gets the usual permissions (those of ``open``,
    after the umask), not the private ones of :func:`tempfile.mkstemp`.

    Raises OSError when the folder cannot be written or ``path`` is a folder.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write mode must be 'w' or 'wb'; got {mode!r}.")
    folder = os.path.dirname(os.path.abspath(path))
    while True:
        temporary = _temporary_name(folder)
        try:
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            break
        except FileExistsError:  # another writer drew the same name; draw again
            continue
    try:
        try:
            if mode == "wb":
                stream = os.fdopen(handle, "wb")
            else:
                stream = os.fdopen(handle, "w", encoding=encoding, newline=newline)
        except BaseException:
            os.close(handle)
            raise
        with stream:
            yield stream
            stream.flush()
            if durable:
                os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise


def move_without_overwriting(source: str, target: str) -> None:
    """Rename ``source`` to ``target``, raising FileExistsError if ``target`` exists.

    A hard link is made first (the system refuses it when the target exists,
    so no other program can slip a file in between a check and the rename),
    then the source name is removed. Where links are not supported (FAT
    drives, some network shares) the target is checked and the file renamed.
    """
    try:
        os.link(source, target)
    except FileExistsError:
        raise
    except (OSError, AttributeError, NotImplementedError):
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), target) from None
        os.rename(source, target)
        return
    os.remove(source)


def frame_file_name(video_name: str, row: int) -> str:
    """The name transforEmotion gives a saved frame: ``{video_name}-frame-{row}.jpg``."""
    return f"{video_name}-frame-{row}.jpg"


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
