"""What is in a folder: the image and video files a call will read, found safely.

The file-name extensions we read are defined here once, for every caller
(the scoring functions, the corpus planner, evaluation, and R, which asks
for them through :func:`transforemotion.media.extensions`).
"""

from __future__ import annotations

import os
import re
from typing import List

from ..core.errors import ArgumentError, InputNotFoundError
from ..core.messages import arg

__all__ = ["IMAGE_EXTENSIONS", "IMAGE_FILE_EXTENSIONS", "VIDEO_EXTENSIONS", "DEFAULT_IMAGE_PATTERN", "extension_pattern", "check_folder",
           "list_image_files"]

# Files an image folder is scanned for by default (transforEmotion's list); others are read when named.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")
# Every image file read by its extension alone where a call must tell images from videos by name
# (vad_scores' input_type = "auto", after transforEmotion's list; .tif added).
IMAGE_FILE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tiff", ".tif", ".webp")
VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".ogv")


def extension_pattern(extensions) -> str:
    """A case-insensitive regular expression for file names ending in one of ``extensions``."""
    return r"\.(" + "|".join(re.escape(e.lstrip(".")) for e in extensions) + ")$"


DEFAULT_IMAGE_PATTERN = extension_pattern(IMAGE_EXTENSIONS)


def check_folder(dir, advice_for_a_file: str = "") -> str:
    """``dir`` is an existing folder, or the error says what it is instead."""
    if not isinstance(dir, str) or not dir:
        raise ArgumentError(f"{arg('dir')} must be the path of a folder; got {dir!r}.")
    if not os.path.exists(dir):
        raise InputNotFoundError(f"Folder not found: {dir}")
    if not os.path.isdir(dir):
        raise ArgumentError(f"{dir} is a file, not a folder. {advice_for_a_file}".rstrip())
    return dir


def list_image_files(dir: str, pattern: str, recursive: bool = False) -> List[str]:
    """Paths under ``dir`` whose file name matches ``pattern`` (case-insensitive), sorted.

    Every matching entry that is not a folder is listed, including ones that
    are not regular files (a named pipe, a broken link): the caller's check
    of each file then reports them, so that none is dropped silently.
    """
    check_folder(dir, "For single images use image_scores().")
    try:
        # Camera files are often .JPG: match regardless of case.
        regex = re.compile(pattern, re.IGNORECASE)
    except (re.error, TypeError) as exc:
        raise ArgumentError(f"{arg('pattern', pattern)} is not a valid regular expression ({exc}).") from None
    found = []
    if recursive:
        # os.walk lists everything that is not a folder (pipes and broken links included) among the files.
        for root, dirs, files in os.walk(dir):
            dirs.sort()
            found.extend(os.path.join(root, f) for f in files if regex.search(f))
    else:
        with os.scandir(dir) as entries:
            found = [entry.path for entry in entries if regex.search(entry.name) and not entry.is_dir()]
    return sorted(found)
