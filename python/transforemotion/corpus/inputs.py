"""What a corpus is made of: its sources (videos and images), and the units of work they split into.

``score_corpus`` accepts a folder, a list of paths, or a manifest file (CSV
or Parquet with a ``path`` column and optional ``id``, ``start``, ``end``).
All three become the same list of :class:`Source`; :func:`plan_units` then
cuts it into :class:`Unit` items, each small enough to be lost to a crash
without regret and scored by any worker: a batch of images, or a run of
consecutive sampled frames of one video.

A unit's id is derived from what it contains (the source's name and range,
the segment number; the names in an image batch), never from its position,
so adding a file to the corpus does not rename the finished units of the
others.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import warnings
from dataclasses import dataclass, field, replace
from typing import Dict, List, Optional, Sequence, Tuple

import cv2

from ..core.checks import check_seconds, is_missing
from ..core.errors import ArgumentError, InputNotFoundError
from ..core.messages import arg, function, value, warn
from ..media import (IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, FrameSampling, TooFewFramesError, choose_frames,
                     extension_pattern, is_url, list_image_files, open_video)

__all__ = ["Source", "Unit", "read_sources", "plan_units", "MANIFEST_EXTENSIONS", "IMAGE_EXTENSIONS"]

# The image files image_scores_dir() picks by default; anything else in a list is read as a video.
MANIFEST_EXTENSIONS = (".csv", ".parquet", ".pq")
_MEDIA_PATTERN = extension_pattern(IMAGE_EXTENSIONS + VIDEO_EXTENSIONS)


@dataclass(frozen=True)
class Source:
    """One input: ``name`` is what the result's first column shows, ``path`` where it is read."""

    name: str
    path: str
    kind: str  # "video" or "image"
    start: float = 0.0
    end: float = -1.0


@dataclass(frozen=True)
class Unit:
    """One piece of work. ``sources`` index the source list; a video unit has one source and the
    sampled ``frames`` of its segment; an image unit has several sources. ``error`` is set when
    the video could not be planned (missing, unreadable, too short): the unit is then a failure."""

    id: str
    kind: str  # "video" or "images"
    sources: Tuple[int, ...]
    names: Tuple[str, ...]
    paths: Tuple[str, ...]
    frames: Tuple[int, ...] = ()
    fps: float = 0.0
    error: Optional[str] = None
    segment: int = 0

    def to_json(self) -> str:
        return json.dumps({"id": self.id, "kind": self.kind, "sources": self.sources, "names": self.names,
                           "paths": self.paths, "frames": self.frames, "fps": self.fps, "error": self.error,
                           "segment": self.segment})

    @classmethod
    def from_json(cls, text: str) -> "Unit":
        d = json.loads(text)
        return cls(d["id"], d["kind"], tuple(d["sources"]), tuple(d["names"]), tuple(d["paths"]),
                   tuple(d["frames"]), d["fps"], d["error"], d["segment"])


@dataclass
class Plan:
    """The units of a corpus in input order, and notes gathered while planning."""

    units: List[Unit]
    short_videos: List[str] = field(default_factory=list)


def _kind(path: str) -> str:
    return "image" if path.lower().endswith(IMAGE_EXTENSIONS) else "video"


def _is_manifest(path: str) -> bool:
    return path.lower().endswith(MANIFEST_EXTENSIONS) and os.path.isfile(path)


def read_sources(inputs, recursive: bool, start: float, end: float) -> Tuple[List[Source], str]:
    """The corpus's sources in input order, and the name of the column that identifies them
    (``"id"`` for a manifest with an ``id`` column, else ``"source"``)."""
    if isinstance(inputs, os.PathLike):
        inputs = os.fspath(inputs)
    if isinstance(inputs, str):
        if not inputs.strip():
            raise ArgumentError(f"{arg('inputs')} is empty; give a folder, a list of video and image files, or a "
                             "manifest file (.csv or .parquet with a 'path' column).")
        if is_url(inputs):
            raise ArgumentError(_url_message(inputs))
        if os.path.isdir(inputs):
            return _folder_sources(inputs, recursive, start, end), "source"
        if _is_manifest(inputs):
            return _manifest_sources(inputs, start, end)
        if not os.path.exists(inputs):
            raise InputNotFoundError(f"{arg('inputs')} is neither a folder nor a file that exists: {inputs}. Give a "
                                    "folder, a list of files, or a manifest (.csv or .parquet).")
        inputs = [inputs]  # one video or image
    if not isinstance(inputs, (list, tuple)) or not inputs:
        raise ArgumentError(f"{arg('inputs')} must be a folder, a non-empty list of video and image files, or a "
                         f"manifest file (.csv or .parquet with a 'path' column); got {value(inputs)}.")
    return _list_sources(list(inputs), start, end), "source"


def _url_message(url: str) -> str:
    return (f"A corpus is read from files, not URLs ({url}). Download the videos first (for one video, "
            f"{function('video_scores')} accepts a URL).")


def _folder_sources(folder: str, recursive: bool, start: float, end: float) -> List[Source]:
    paths = list_image_files(folder, _MEDIA_PATTERN, recursive)
    if not paths:
        where = "" if recursive else f" (use {arg('recursive', True)} to look in sub-folders)"
        raise ArgumentError(f"{folder} holds no video or image files{where}. Videos: "
                         f"{', '.join(VIDEO_EXTENSIONS)}; images: {', '.join(IMAGE_EXTENSIONS)}.")
    return [Source(os.path.relpath(p, folder), os.path.abspath(p), _kind(p), start, end) for p in paths]


def _list_sources(paths: list, start: float, end: float) -> List[Source]:
    for p in paths:
        if isinstance(p, os.PathLike):
            p = os.fspath(p)
        if not isinstance(p, str) or not p.strip():
            raise ArgumentError(f"Every element of {arg('inputs')} must be a file path; got {value(p)}.")
        if is_url(p):
            raise ArgumentError(_url_message(p))
    names = [os.fspath(p) for p in paths]
    _refuse_repeats(names, "appears more than once in " + arg("inputs"))
    return [Source(n, os.path.abspath(n), _kind(n), start, end) for n in names]


def _refuse_repeats(names: Sequence[str], what: str) -> None:
    seen: set = set()
    repeated = [n for n in names if n in seen or seen.add(n)]
    if repeated:
        shown = ", ".join(repr(r) for r in list(dict.fromkeys(repeated))[:5])
        raise ArgumentError(f"{shown} {what}; each source must be unique (its rows are told apart by it). Remove the "
                         "repeats, or, in a manifest, give each row its own 'id'.")


def _manifest_rows(path: str) -> List[Dict[str, object]]:
    if path.lower().endswith(".csv"):
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            rows = list(reader)
            columns = reader.fieldnames or []
    else:
        from .store import require_pyarrow

        require_pyarrow()
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        rows, columns = table.to_pylist(), table.column_names
    if "path" not in columns:
        raise ArgumentError(f"The manifest {path} has no 'path' column (its columns: "
                         f"{', '.join(map(str, columns)) or 'none'}). It needs 'path', and may have 'id', 'start' "
                         "and 'end' (seconds).")
    if not rows:
        raise ArgumentError(f"The manifest {path} has no rows; add one row per video or image.")
    return rows


def _seconds_cell(v, name: str, where: str, allow_end_marker: bool) -> float:
    if isinstance(v, str):
        try:
            v = float(v)
        except ValueError:
            raise ArgumentError(f"{where}: {name} {v!r} is not a number of seconds.") from None
    try:
        return check_seconds(name, v, allow_end_marker)
    except ValueError as exc:
        raise ArgumentError(f"{where}: {exc}") from None


def _manifest_sources(manifest: str, start: float, end: float) -> Tuple[List[Source], str]:
    rows = _manifest_rows(manifest)
    base = os.path.dirname(os.path.abspath(manifest))
    has_id = any("id" in r for r in rows[:1])
    sources = []
    for number, row in enumerate(rows, start=2 if manifest.lower().endswith(".csv") else 1):
        where = f"{manifest}, row {number}"
        given = row.get("path")
        if is_missing(given, text=True) or not isinstance(given, str):
            raise ArgumentError(f"{where}: the path is missing; every row needs the path of a video or image file.")
        if is_url(given):
            raise ArgumentError(f"{where}: {_url_message(given)}")
        kind = _kind(given)
        s = start if is_missing(row.get("start"), text=True) else _seconds_cell(row.get("start"), "start", where, False)
        e = end if is_missing(row.get("end"), text=True) else _seconds_cell(row.get("end"), "end", where, True)
        if kind == "image" and (not is_missing(row.get("start"), text=True) or not is_missing(row.get("end"), text=True)):
            raise ArgumentError(f"{where}: start and end apply to videos; {given} is an image. Leave them empty there.")
        if e != -1 and e <= s:
            raise ArgumentError(f"{where}: end ({e:g} s) must be after start ({s:g} s), or -1 for the end of the video.")
        name = given
        if has_id:
            ident = row.get("id")
            if is_missing(ident, text=True):
                raise ArgumentError(f"{where}: the id is missing; give every row an id, or drop the 'id' column.")
            name = str(ident)
        # Relative paths are read from the manifest's folder, so a manifest travels with its videos.
        sources.append(Source(name, os.path.normpath(os.path.join(base, os.path.expanduser(given))), kind, s, e))
    _refuse_repeats([s.name for s in sources], f"appears more than once in the manifest's "
                                               f"{'id' if has_id else 'path'} column")
    return sources, "id" if has_id else "source"


def _digest(*parts) -> str:
    return hashlib.sha1(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]


def plan_units(sources: Sequence[Source], sampling: FrameSampling, unit_size: int) -> Plan:
    """Cut the sources into units, in input order. Each video is opened once to learn its length
    and frame rate; its frames are chosen exactly as ``video_scores`` chooses them
    (:func:`~transforemotion.media.decoding.choose_frames`, which also checks a header against the frames
    the file really holds). A video that
    cannot be opened or sampled becomes one failed unit instead of stopping the plan."""
    plan = Plan([])
    images: List[int] = []

    def flush_images():
        for i in range(0, len(images), unit_size):
            chunk = tuple(images[i : i + unit_size])
            names = tuple(sources[j].name for j in chunk)
            plan.units.append(Unit("i-" + _digest("images", names), "images", chunk, names,
                                   tuple(sources[j].path for j in chunk)))
        images.clear()

    for index, source in enumerate(sources):
        if source.kind == "image":
            images.append(index)
            continue
        flush_images()  # an image batch never spans a video, so units stay in input order
        plan.units.extend(_video_units(index, source, sampling, unit_size, plan.short_videos))
    flush_images()
    return plan


def _video_units(index: int, source: Source, sampling: FrameSampling, unit_size, short: List[str]) -> List[Unit]:
    key = "v-" + _digest("video", source.name, source.start, source.end)
    try:
        capture, total, fps = open_video(source.path)
        capture.release()
        with warnings.catch_warnings(record=True) as caught:
            # choose_frames warns once per short or truncated video; a corpus gathers them into one warning.
            warnings.simplefilter("always")
            # A manifest row's own start and end stand in for the call's (read_sources checked them).
            frames = choose_frames(source.path, total, fps, replace(sampling, start=source.start, end=source.end))
        if caught or (sampling.nframes is not None and len(frames) < sampling.nframes):
            short.append(f"{source.name} ({len(frames)} frames)")
    except (ValueError, OSError, cv2.error) as exc:
        reason = (TOO_SHORT if isinstance(exc, TooFewFramesError) else "") + str(exc)
        return [Unit(key + "-plan", "video", (index,), (source.name,), (source.path,), error=reason)]
    return [Unit(f"{key}-{n:05d}", "video", (index,), (source.name,), (source.path,),
                 tuple(frames[i : i + unit_size]), fps, segment=n)
            for n, i in enumerate(range(0, len(frames), unit_size))]


# How a failure that only other sampling settings can cure starts in failures.csv (a rerun with the same
# arguments fails the same way; see too_short).
TOO_SHORT = "too short for these sampling settings: "


def too_short(reasons) -> bool:
    """Whether a unit's failures (``(source, reason)`` pairs) are all videos too short for the sampling asked for."""
    return bool(reasons) and all(reason.startswith(TOO_SHORT) for _, reason in reasons)


def rerun_advice(folder_failures: dict) -> str:
    """What to do about failed units: a rerun retries the others; too-short videos need other sampling settings."""
    short = [unit for unit, reasons in folder_failures.items() if too_short(reasons)]
    advice = []
    if len(short) < len(folder_failures):
        advice.append("Fix or replace the other files and run the same call again: finished units are skipped and "
                      "the failed ones are tried again.")
    if short:
        advice.append(f"{len(short)} video(s) are too short for the frames asked for, so a rerun with the same "
                      f"arguments cannot score them: lower {arg('nframes')} or {arg('ffreq')}, or use "
                      f"{arg('uniform', True)}, in a new output folder or with {arg('overwrite', True)}.")
    return " ".join(advice)


def warn_short_videos(short: List[str], nframes: Optional[int]) -> None:
    if not short:
        return
    shown = ", ".join(short[:10]) + (f" and {len(short) - 10} more" if len(short) > 10 else "")
    asked = f"the {nframes} frames asked for" if nframes is not None else "the default 100 frames"
    warn(f"{len(short)} video(s) have room for fewer than {asked} with these sampling settings, so the frames "
         f"they have are scored: {shown}. Give {arg('nframes')} or {arg('ffreq')} to change the sampling.")
