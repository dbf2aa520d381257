"""``vad_scores``: valence, arousal and dominance of the faces in images, a folder or a video."""

from __future__ import annotations

import dataclasses
import os
import re
import urllib.parse
from typing import Dict, List, Mapping, Optional, Sequence, Union

from .. import api
from ..core.checks import check_choice, check_flag, check_text
from ..core.options import changed_options, takes_options
from ..engine import ScoringOptions
from ..core.errors import ArgumentError
from ..core.messages import arg, function, value
from ..media import (DEFAULT_IMAGE_PATTERN, IMAGE_FILE_EXTENSIONS as IMAGE_EXTENSIONS, VIDEO_EXTENSIONS,
                     FrameSampling, SavedFiles)
from .labels import DIMENSIONS, as_text, check_dimensions, pole_classes, vad_columns, vad_labels

__all__ = ["vad_scores", "detect_input_type", "INPUT_TYPES"]

INPUT_TYPES = ("auto", "text", "image", "video")


# --- input -------------------------------------------------------------------------------------

def _kind_of(item: str) -> str:
    """'image', 'video', 'folder' or 'text' for one input, by its form (nothing is opened)."""
    if re.match(r"^https?://", item, re.IGNORECASE):
        path = urllib.parse.urlsplit(item).path.lower()
        # transforEmotion takes every URL for a video; a link that names an image file is one.
        return "image" if path.endswith(IMAGE_EXTENSIONS) else "video"
    lower = item.lower()
    if lower.endswith(IMAGE_EXTENSIONS):
        return "image"
    if lower.endswith(VIDEO_EXTENSIONS):
        return "video"
    if os.path.isdir(item):
        return "folder"
    return "text"


def _items(input) -> List[str]:
    items = [as_text(input)] if not isinstance(input, (list, tuple)) else [as_text(i) for i in input]
    if not items or not all(isinstance(i, str) for i in items):
        raise ArgumentError(f"Input must be character (text, file path, or URL): {arg('input')} must be an image or "
                         f"video file path, a folder of images, an http(s) URL, or a list of image paths; "
                         f"got {value(input)}.")
    return items


def detect_input_type(input) -> str:
    """transforEmotion's ``input_type = "auto"``: "image", "video" or "text", judged by the form of the input.

    An http(s) URL is a video unless its path ends in an image extension; a
    path ending in an image extension is an image, one ending in a video
    extension (.mp4, .avi, ...) a video; an existing folder is "image" (a
    folder of images); anything else is "text", which this package refuses.
    A list is judged by all its elements, which must agree.
    """
    kinds = {("image" if k == "folder" else k) for k in map(_kind_of, _items(input))}
    if len(kinds) > 1:
        raise ArgumentError(f"{arg('input')} mixes {' and '.join(sorted(kinds))} inputs; score images and videos in "
                         f"separate calls.")
    return kinds.pop()


def _refuse_text(items: Sequence[str]) -> None:
    example = items[0] if len(items[0]) <= 60 else items[0][:57] + "..."
    raise ArgumentError(
        f"{function('vad_scores')} here scores faces in images and video; text input is not supported "
        f"(transforEmotion's vad_scores(input_type = \"text\") scores texts). {value(example)} is not an image "
        f"or video file path, a folder, or a URL. If it is a picture or a video with an unusual extension, say "
        f"so with {arg('input_type', 'image')} or {arg('input_type', 'video')}.")


def _check_unused(given: Mapping[str, object], applies_to: str) -> None:
    """Options of another kind of input must be left at their defaults, not ignored silently."""
    if given:
        names = list(given)
        raise ArgumentError(f"{', '.join(arg(n, given[n]) for n in names)} "
                            f"{'applies' if len(names) == 1 else 'apply'} to {applies_to} only; leave "
                            f"{'it' if len(names) == 1 else 'them'} out for this input.")


@takes_options("input input_type dimensions label_type custom_labels model face_selection local_model_path face_boxes "
               "templates batch_size device progress pattern recursive nframes start end uniform ffreq timestamps "
               "save_video save_frames save_dir video_name persons person_names",
               options=ScoringOptions, sampling=FrameSampling, saving=SavedFiles)
def vad_scores(
    input: Union[str, Sequence[str]],
    input_type: str = "auto",
    dimensions: Sequence[str] = DIMENSIONS,
    label_type: str = "definitional",
    custom_labels: Optional[Mapping[str, Mapping[str, str]]] = None,
    model: str = "auto",
    pattern: str = DEFAULT_IMAGE_PATTERN,
    recursive: bool = False,
    timestamps: bool = False,
    persons: Optional[int] = None,
    person_names: Union[None, Sequence[str], Mapping[int, str]] = None,
    *,
    options: ScoringOptions,
    sampling: FrameSampling,
    saving: SavedFiles,
) -> Dict[str, list]:
    """Valence, arousal and dominance of the faces in images, a folder of images, or a video.

    Each dimension's score is the zero-shot probability of its high pole
    (positive valence, high arousal, high dominance) against its low pole:
    0.5 means the model cannot tell the two descriptions apart. All
    dimensions come from one embedding of each face; each score equals
    ``image_scores(image, [high, low])[high]``, transforEmotion's method.

    Args:
        input: an image file or http(s) URL, a list of them, a folder of
            images (scored with ``image_scores_dir``: every file matching
            ``pattern``), or one video file or URL.
        input_type: ``"auto"`` (judged by the input's form, see
            ``detect_input_type``), ``"image"`` or ``"video"``. ``"text"``
            is refused: this package scores faces.
        dimensions: one or more of ``"valence"``, ``"arousal"``,
            ``"dominance"``; one column each, in this order.
        label_type: ``"definitional"`` (transforEmotion's descriptions of
            each pole, the default), ``"simple"`` (positive/negative,
            excited/calm, dominant/submissive) or ``"custom"``.
        custom_labels: with ``label_type="custom"``, a dict with an entry for
            every requested dimension: ``{"valence": {"positive": ...,
            "negative": ...}, "arousal": {"high": ..., "low": ...},
            "dominance": {"high": ..., "low": ...}}``. Nothing falls back to
            other labels.
        model: ``"auto"`` (``"oai-base"``, as in transforEmotion) or any
            model ``image_scores`` takes.
        face_selection, local_model_path, face_boxes, templates, batch_size,
        device, progress, face_workers: as in ``image_scores``.
        pattern, recursive: for a folder, as in ``image_scores_dir``.
        nframes, start, end, uniform, ffreq, timestamps, save_video,
        save_frames, save_dir, video_name, persons, person_names: for a
        video, as in ``video_scores``.

    Returns:
        A dict of columns: the leading columns the underlying function gives
        (``image`` and the box with ``face_selection="all"``; ``image_id``
        for a folder; ``frame`` and ``time`` for a video with
        ``timestamps=True`` or ``"all"``, and with ``"all"`` ``person``,
        the same for a person throughout the video), then one column per dimension,
        from 0 (low pole) to 1 (high pole). NaN where no face was found.

    Raises:
        ValueError: an argument is invalid (checked before any work),
            including text input and options that do not apply to the input.
        FileNotFoundError: an input path does not exist.

    Example:
        >>> vad_scores("face.jpg")  # doctest: +SKIP
        {'valence': [0.81], 'arousal': [0.34], 'dominance': [0.58]}
        >>> vad_scores("interview.mp4", dimensions=["valence", "arousal"], nframes=3, timestamps=True)  # doctest: +SKIP
        {'frame': [0, 15, 30], 'time': [0.0, 0.5, 1.0], 'valence': [...], 'arousal': [...]}
    """
    dims = check_dimensions(dimensions)
    check_choice("input_type", input_type, INPUT_TYPES)
    labels = vad_labels(label_type, custom_labels, dims)
    classes = pole_classes(labels)
    items = _items(input)
    kinds = [_kind_of(i) for i in items]
    if input_type == "auto":
        input_type = detect_input_type(items)
    if input_type == "text":
        _refuse_text(items)
    folder = input_type == "image" and "folder" in kinds
    if folder and len(items) > 1:
        raise ArgumentError(f"{arg('input')} has a folder among several inputs; give one folder on its own, or a list "
                         f"of image files.")
    check_flag("recursive", recursive)
    check_flag("timestamps", timestamps)
    video_options = {**changed_options(sampling), **changed_options(saving),
                     **{name: given for name, given in (("timestamps", timestamps), ("persons", persons),
                                                        ("person_names", person_names)) if given not in (False, None)}}
    folder_options = {name: given for name, given, default in (("pattern", pattern, DEFAULT_IMAGE_PATTERN),
                                                               ("recursive", recursive, False)) if given != default}
    scoring = {**dataclasses.asdict(options), "model": "oai-base" if options.model == "auto" else options.model}
    if input_type == "video":
        _check_unused(folder_options, "a folder of images")
        if len(items) > 1:
            raise ArgumentError(f"{arg('input')} must be one video; to score several, call {function('vad_scores')} "
                             f"for each, or use {function('score_corpus')} for a whole corpus.")
        scores = api.video_scores(items[0], classes, timestamps=timestamps, persons=persons,
                                  person_names=person_names, **dataclasses.asdict(sampling),
                                  **dataclasses.asdict(saving), **scoring)
    else:
        _check_unused(video_options, "a video")
        if folder:
            scores = api.image_scores_dir(items[0], classes, pattern=pattern, recursive=recursive, **scoring)
        else:
            _check_unused(folder_options, "a folder of images")
            image = items if isinstance(input, (list, tuple)) else items[0]
            scores = api.image_scores(image, classes, **scoring)
    return vad_columns(scores, labels)
