"""Saved video frames: ``save_frames=True`` writes each sampled frame as a JPEG and reports what failed."""

from __future__ import annotations

import os
from typing import List, Optional

import cv2
import numpy as np

from ..core.files import atomic_write
from ..core.messages import arg, warn

__all__ = ["FrameSaver", "frame_file_name"]


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
