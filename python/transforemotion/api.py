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

import numpy as np

from .faces import FACE_SELECTIONS
from .media import check_local_file, is_url, load_image
from .models import list_vision_models, load_model, register_vision_model, resolve_model
from .scoring import TransforemotionWarning, score_stream, warn_skipped

__all__ = ["image_scores", "image_scores_dir", "list_vision_models", "register_vision_model"]

DEFAULT_IMAGE_PATTERN = r"\.(jpg|jpeg|png|bmp)$"

NO_FACE_ADVICE = "To score the whole picture instead, use face_selection='none'."


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
    unreadable: List[str] = []
    reasons: List[str] = []

    def pictures():
        for i, source in enumerate(sources):
            try:
                yield i, load_image(source)
            except (ValueError, FileNotFoundError) as exc:
                if on_error == "raise":
                    raise
                unreadable.append(source)
                reasons.append(str(exc))
                yield i, None

    blocks, no_face = [], []
    for names, found, scores in score_stream(vlm, pictures(), labels, face_selection):
        blocks.append(scores)
        no_face.extend(sources[i] for i, ok in zip(names, found) if not ok and sources[i] not in unreadable)
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
