"""The public functions: check the arguments, call the engine, shape the result.

Every function takes plain types (str, list of str, int, float, bool, None)
and returns a dict of columns (column name -> list, one entry per row) of
plain Python values, so that reticulate turns a result into a named list and
``as.data.frame`` works in R, and ``pandas.DataFrame(result)`` works in Python.
"""

from __future__ import annotations

import os
import re
import warnings
from typing import Dict, List, Optional, Sequence, Union

import cv2
import numpy as np

from .faces import FACE_SELECTIONS
from .media import check_local_file, is_url, load_image
from .models import list_vision_models, load_model, register_vision_model, resolve_model
from .scoring import TransforemotionWarning, score_stream, warn_skipped
from .video import check_video_name, fetch_video, open_video, read_frames, sample_frame_indices

__all__ = ["image_scores", "image_scores_dir", "video_scores", "list_vision_models", "register_vision_model"]

DEFAULT_IMAGE_PATTERN = r"\.(jpg|jpeg|png|bmp)$"

NO_FACE_ADVICE = 'To score the whole picture instead, use face_selection = "none".'


def check_classes(classes) -> List[str]:
    if isinstance(classes, str) or not isinstance(classes, (list, tuple)):
        raise ValueError(
            "classes must be a list of at least two labels, for example ['joy', 'anger']; got "
            f"{classes!r}."
        )
    labels = list(classes)
    if len(labels) < 2:
        raise ValueError(f"classes needs at least two labels to compare (softmax over one is always 1); got {labels!r}.")
    for label in labels:
        if not isinstance(label, str) or not label.strip():
            raise ValueError(f"Every class must be a non-empty text label; got {label!r} in {labels!r}.")
    seen = set()
    duplicates = [label for label in labels if label in seen or seen.add(label)]
    if duplicates:
        raise ValueError(f"Class labels must be unique; repeated: {', '.join(map(repr, dict.fromkeys(duplicates)))}.")
    return labels


def check_face_selection(face_selection) -> str:
    if face_selection not in FACE_SELECTIONS:
        raise ValueError(f"face_selection must be one of {', '.join(map(repr, FACE_SELECTIONS))}; got {face_selection!r}.")
    return face_selection


def check_sources(image) -> List[str]:
    sources = [image] if isinstance(image, str) else image
    if not isinstance(sources, (list, tuple)) or not sources:
        raise ValueError(f"image must be a file path, an http(s) URL, or a non-empty list of them; got {image!r}.")
    for source in sources:
        if not is_url(source):
            check_local_file(source)
    return list(sources)


def as_columns(scores: np.ndarray, classes: Sequence[str], leading: Optional[Dict[str, list]] = None) -> Dict[str, list]:
    """Score matrix to dict-of-lists with plain Python floats (NaN for missing)."""
    columns: Dict[str, list] = dict(leading or {})
    for j, label in enumerate(classes):
        columns[label] = [float(v) for v in scores[:, j]]
    return columns


def _score_sources(sources, labels, face_selection, model, local_model_path, on_error):
    """Load, detect and score; ``on_error`` is "raise" or "skip" (NaN row, warning)."""
    vlm = load_model(model, local_model_path)
    reasons: List[str] = []

    def pictures():
        for i, source in enumerate(sources):
            try:
                yield i, load_image(source)
            except (ValueError, FileNotFoundError) as exc:
                if on_error == "raise":
                    raise
                reasons.append(str(exc))
                yield i, None

    blocks, no_face = [], []
    for rows, faceless, scores in score_stream(vlm, pictures(), labels, face_selection):
        blocks.append(scores)
        no_face.extend(sources[i] for i, none_found in zip(rows, faceless) if none_found)
    scores = np.vstack(blocks) if blocks else np.zeros((0, len(labels)))
    warn_skipped(reasons, "Could not read the image", "Those files were skipped; the others were scored.")
    warn_skipped(no_face, "No face was found", NO_FACE_ADVICE)
    return scores


def image_scores(
    image: Union[str, Sequence[str]],
    classes: Sequence[str],
    face_selection: str = "largest",
    model: str = "oai-base",
    local_model_path: Optional[str] = None,
) -> Dict[str, List[float]]:
    """Zero-shot probabilities of each label for the face in each image.

    Args:
        image: a file path or http(s) URL, or a list of them.
        classes: at least two labels, any text in any script
            (``["joy", "anger", "surprise"]``).
        face_selection: ``"largest"``, ``"left"``, ``"right"`` (which face to
            score when there are several) or ``"none"`` (the whole image).
        model: a registered name (see ``list_vision_models()``), or a Hugging
            Face id.
        local_model_path: a model folder on disk; nothing is downloaded.

    Returns:
        A dict with one key per class, in the given order; each value is a
        list with one probability per image, in input order. Each row sums to
        1. Where no face is found the row is NaN and a warning names the image.

    Raises:
        FileNotFoundError: an image path does not exist.
        ValueError: an image cannot be read, or an argument is invalid.

    Example:
        >>> scores = image_scores("face.jpg", ["joy", "anger"])  # doctest: +SKIP
        >>> scores  # doctest: +SKIP
        {'joy': [0.83], 'anger': [0.17]}
    """
    labels = check_classes(classes)
    check_face_selection(face_selection)
    resolve_model(model, local_model_path)
    sources = check_sources(image)
    scores = _score_sources(sources, labels, face_selection, model, local_model_path, on_error="raise")
    return as_columns(scores, labels)


def list_image_files(dir: str, pattern: str = DEFAULT_IMAGE_PATTERN, recursive: bool = False) -> List[str]:
    """Paths under ``dir`` whose file name matches ``pattern`` (case-insensitive), sorted."""
    if not isinstance(dir, str) or not dir:
        raise ValueError(f"dir must be the path of a folder; got {dir!r}.")
    if not os.path.exists(dir):
        raise FileNotFoundError(f"Folder not found: {dir}")
    if not os.path.isdir(dir):
        raise ValueError(f"{dir} is a file, not a folder. For single images use image_scores().")
    try:
        # Camera files are often .JPG: match regardless of case.
        regex = re.compile(pattern, re.IGNORECASE)
    except (re.error, TypeError) as exc:
        raise ValueError(f"pattern {pattern!r} is not a valid regular expression ({exc}).") from None
    found = []
    if recursive:
        for root, dirs, files in os.walk(dir):
            dirs.sort()
            found.extend(os.path.join(root, f) for f in files if regex.search(f))
    else:
        found = [os.path.join(dir, f) for f in os.listdir(dir) if regex.search(f) and os.path.isfile(os.path.join(dir, f))]
    return sorted(found)


def image_scores_dir(
    dir: str,
    classes: Sequence[str],
    face_selection: str = "largest",
    pattern: str = DEFAULT_IMAGE_PATTERN,
    recursive: bool = False,
    model: str = "oai-base",
    local_model_path: Optional[str] = None,
) -> Dict[str, list]:
    """Scores for every image file in a folder.

    Args:
        dir: the folder.
        classes, face_selection, model, local_model_path: as in ``image_scores``.
        pattern: regular expression matched against file names, ignoring case.
        recursive: also look in sub-folders.

    Returns:
        A dict with ``image_id`` (the file name; the path relative to ``dir``
        when ``recursive``) then one key per class; one row per file, sorted
        by path. A file that cannot be read gets a NaN row and a warning; the
        run goes on.

    Example:
        >>> image_scores_dir("photos/", ["joy", "anger"])  # doctest: +SKIP
        {'image_id': ['a.jpg', 'b.png'], 'joy': [0.7, 0.4], 'anger': [0.3, 0.6]}
    """
    labels = check_classes(classes)
    check_face_selection(face_selection)
    resolve_model(model, local_model_path)
    if not isinstance(recursive, bool):
        raise ValueError(f"recursive must be True or False; got {recursive!r}.")
    paths = list_image_files(dir, pattern, recursive)
    ids = [os.path.relpath(p, dir) if recursive else os.path.basename(p) for p in paths]
    if not paths:
        warnings.warn(
            f"No file in {dir} matches the pattern {pattern!r}; the result is empty. "
            "Check the folder, or pass recursive=True if the images are in sub-folders.",
            TransforemotionWarning,
            stacklevel=2,
        )
        return as_columns(np.zeros((0, len(labels))), labels, {"image_id": []})
    scores = _score_sources(paths, labels, face_selection, model, local_model_path, on_error="skip")
    return as_columns(scores, labels, {"image_id": ids})


def _check_flag(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False; got {value!r}.")
    return value


def _progress_bar(total: int, enabled: bool):
    from tqdm.auto import tqdm

    # Short runs finish before a bar is worth reading; TRANSFOREMOTION_PROGRESS=0 silences it everywhere.
    show = enabled and total >= 50 and os.environ.get("TRANSFOREMOTION_PROGRESS", "1") != "0"
    return tqdm(total=total, unit="frame", desc="video_scores", disable=not show, leave=False)


def video_scores(
    video: str,
    classes: Sequence[str],
    nframes: int = 100,
    face_selection: str = "largest",
    start: float = 0,
    end: float = -1,
    uniform: bool = False,
    ffreq: int = 15,
    save_video: bool = False,
    save_frames: bool = False,
    save_dir: str = "temp/",
    video_name: str = "temp",
    model: str = "oai-base",
    local_model_path: Optional[str] = None,
    timestamps: bool = False,
    progress: bool = True,
) -> Dict[str, list]:
    """Zero-shot probabilities of each label for the face in sampled frames of a video.

    Args:
        video: a video file, an http(s) link to a video file, or a web page
            such as a YouTube video (needs ``pip install 'transforemotion[youtube]'``).
        classes, face_selection, model, local_model_path: as in ``image_scores``.
        nframes: how many frames to score.
        start, end: seconds; score only this part (``end=-1``: to the end).
        uniform: spread the frames evenly over the range instead of every
            ``ffreq`` frames.
        ffreq: take every ``ffreq``-th frame.
        save_video: keep a downloaded video in ``save_dir``.
        save_frames: write the sampled frames as
            ``{video_name}-frame-{i}.jpg`` in ``save_dir``.
        save_dir: the only folder anything is written to (created if needed).
        video_name: base name of saved files; no folders allowed.
        timestamps: add leading ``frame`` (index in the file) and ``time``
            (seconds) columns.
        progress: show a progress bar on runs of 50 frames or more.

    Returns:
        A dict with one key per class (after ``frame`` and ``time`` when
        ``timestamps``); one row per sampled frame, NaN where no face was
        found or the frame could not be decoded.

    Example:
        >>> video_scores("interview.mp4", ["joy", "anger"], nframes=3, timestamps=True)  # doctest: +SKIP
        {'frame': [0, 15, 30], 'time': [0.0, 0.5, 1.0], 'joy': [...], 'anger': [...]}
    """
    labels = check_classes(classes)
    check_face_selection(face_selection)
    resolve_model(model, local_model_path)
    for name, value in (("uniform", uniform), ("save_video", save_video), ("save_frames", save_frames),
                        ("timestamps", timestamps), ("progress", progress)):
        _check_flag(name, value)
    check_video_name(video_name)
    if not isinstance(save_dir, str) or not save_dir:
        raise ValueError(f"save_dir must be a folder path; got {save_dir!r}.")
    if not isinstance(video, str) or not video:
        raise ValueError(f"video must be a file path or an http(s) URL; got {video!r}.")
    if is_url(video):
        os.makedirs(save_dir, exist_ok=True)
        path, downloaded = fetch_video(video, save_dir, video_name), True
    else:
        path, downloaded = video, False
    try:
        capture, total, fps = open_video(path)  # checks a local file: missing, folder, empty
        try:
            indices = sample_frame_indices(total, fps, nframes, start, end, uniform, ffreq)
            return _score_video(capture, indices, fps, labels, face_selection, model, local_model_path,
                                save_frames, save_dir, video_name, timestamps, progress, int(nframes))
        finally:
            capture.release()
    finally:
        if downloaded and not save_video and os.path.exists(path):
            os.remove(path)


def _score_video(capture, indices, fps, labels, face_selection, model, local_model_path,
                 save_frames, save_dir, video_name, timestamps, progress, nframes):
    vlm = load_model(model, local_model_path)
    if save_frames:
        os.makedirs(save_dir, exist_ok=True)
    undecoded: List[int] = []

    def frames():
        for row, frame in read_frames(capture, indices):
            if frame is None:
                undecoded.append(indices[row])
            elif save_frames:
                cv2.imwrite(os.path.join(save_dir, f"{video_name}-frame-{row}.jpg"), frame[:, :, ::-1])
            yield row, frame

    blocks, no_face = [], []
    with _progress_bar(len(indices), progress) as bar:
        for rows, faceless, scores in score_stream(vlm, frames(), labels, face_selection):
            blocks.append(scores)
            no_face.extend(indices[r] for r, none_found in zip(rows, faceless) if none_found)
            bar.update(len(rows))
    scores = np.vstack(blocks) if blocks else np.zeros((0, len(labels)))

    if len(indices) < nframes:
        warnings.warn(
            f"uniform=True spaced the frames {indices[1] - indices[0] if len(indices) > 1 else 1} apart, so only "
            f"{len(indices)} of the {nframes} requested frames fall inside the range (as in transforEmotion).",
            TransforemotionWarning,
            stacklevel=3,
        )
    if undecoded:
        warnings.warn(
            f"{len(undecoded)} of {len(indices)} sampled frames could not be decoded (from frame {undecoded[0]} on); "
            "the file looks truncated or damaged. Their rows are NaN; the frames before them were scored.",
            TransforemotionWarning,
            stacklevel=3,
        )
    warn_skipped([f"frame {i}" for i in no_face], "No face was found", NO_FACE_ADVICE)
    leading = {"frame": list(indices), "time": [i / fps for i in indices]} if timestamps else None
    return as_columns(scores, labels, leading)
