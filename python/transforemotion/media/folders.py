"""What is in a folder: the image and video files a call will read, found safely.

This is the one place that lists folders, for every caller (the scoring
functions, the corpus planner, evaluation, the command line). A folder is a
hostile place: a link that points to itself, a loop of links, a named pipe,
a sub-folder without permission, a file deleted while the run goes on.
None of them stops a listing:

- an entry whose kind cannot be learned (a link to itself, a loop of
  links) is listed as a file, so the reader reports it as unreadable (a row
  of missing values, a line in ``failures.csv``) instead of the listing
  failing as a whole;
- special files (named pipes, sockets, devices) are listed too; the reader
  refuses them without opening them;
- linked sub-folders are followed, but each real folder is entered once, so
  a link back to a parent cannot make the walk endless;
- a sub-folder that cannot be read is skipped with one warning naming it;
- a file that disappears after the listing is the reader's "not found".

The file-name extensions we read are defined here once as well (R asks for
them through :func:`transforemotion._bridge.media_extensions`).
"""

from __future__ import annotations

import os
import re
from typing import Iterator, List, Optional, Set, Tuple

from ..core.errors import ArgumentError, InputNotFoundError
from ..core.messages import arg, value, warn

__all__ = ["IMAGE_EXTENSIONS", "IMAGE_FILE_EXTENSIONS", "VIDEO_EXTENSIONS", "DEFAULT_IMAGE_PATTERN", "extension_pattern",
           "check_folder", "list_image_files", "list_files", "list_subfolders"]

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
        raise ArgumentError(f"{arg('dir')} must be the path of a folder; got {value(dir)}.")
    try:
        os.stat(dir)
    except FileNotFoundError:
        raise InputNotFoundError(f"Folder not found: {dir}") from None
    except OSError as exc:  # a loop of links, a parent without permission
        raise ArgumentError(f"{dir} cannot be read ({exc.strerror or exc}).") from None
    if not os.path.isdir(dir):
        raise ArgumentError(f"{dir} is a file, not a folder. {advice_for_a_file}".rstrip())
    return dir


def _is_folder(entry: os.DirEntry) -> bool:
    """Whether ``entry`` is a folder (following links); False when that cannot be learned (a link loop)."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def _folder_id(path: str) -> Optional[Tuple[int, int]]:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _entries(folder: str, problems: Optional[List[str]]) -> List[os.DirEntry]:
    """The entries of ``folder``; when it cannot be read, an error (``problems`` None) or a note there."""
    try:
        with os.scandir(folder) as it:
            return list(it)
    except OSError as exc:  # no permission, removed meanwhile, not a folder after all
        if problems is None:
            raise ArgumentError(f"{folder} cannot be read ({exc.strerror or exc}). Check that it is a folder you "
                                "may read.") from None
        problems.append(f"{folder} ({exc.strerror or exc})")
        return []


def _walk(top: str, recursive: bool, problems: List[str]) -> Iterator[Tuple[str, str]]:
    """(path, name) of every entry under ``top`` that is not a folder; folders entered once each."""
    seen: Set[Tuple[int, int]] = set()
    pending = [top]
    while pending:
        folder = pending.pop()
        ident = _folder_id(folder)
        if ident is not None:
            if ident in seen:
                continue  # a link back to a folder already listed
            seen.add(ident)
        subfolders = []
        for entry in _entries(folder, problems if folder != top else None):
            if _is_folder(entry):
                subfolders.append(entry.path)
            else:
                yield entry.path, entry.name
        if recursive:
            pending.extend(sorted(subfolders, reverse=True))


def list_files(dir: str, pattern: str, recursive: bool = False) -> Tuple[List[str], List[str]]:
    """Paths under ``dir`` whose file name matches ``pattern`` (case-insensitive), sorted; and the
    sub-folders that could not be read, each with the reason (see the module's notes).

    Every matching entry that is not a folder is listed, including ones that
    are not regular files (a named pipe, a broken or looping link): the
    caller's check of each file reports them, so that none is dropped
    silently.
    """
    check_folder(dir, "For single images use image_scores().")
    try:
        # Camera files are often .JPG: match regardless of case.
        regex = re.compile(pattern, re.IGNORECASE)
    except (re.error, TypeError) as exc:
        raise ArgumentError(f"{arg('pattern', pattern)} is not a valid regular expression ({exc}).") from None
    problems: List[str] = []
    found = sorted(path for path, name in _walk(dir, recursive, problems) if regex.search(name))
    return found, problems


def list_image_files(dir: str, pattern: str, recursive: bool = False) -> List[str]:
    """:func:`list_files`'s paths; a warning names the sub-folders that could not be read."""
    found, problems = list_files(dir, pattern, recursive)
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        warn(f"{len(problems)} folder(s) under {dir} could not be read, so their files were not looked at: {shown}.")
    return found


def list_subfolders(dir: str) -> List[str]:
    """Names of the folders directly in ``dir`` (links to folders included), sorted; hidden ones (".name")
    left out. Entries whose kind cannot be learned are not folders."""
    return sorted(entry.name for entry in _entries(dir, None)
                  if not entry.name.startswith(".") and _is_folder(entry))
