"""The public functions: check the arguments, call the engine, shape the result.

Every function takes plain types (str, list of str, int, float, bool, None)
and returns a dict of columns (column name -> list, one entry per row) of
plain Python values, so that reticulate turns a result into a named list and
``as.data.frame`` works in R, and ``pandas.DataFrame(result)`` works in Python.
All arguments are checked before any work starts; the model is loaded only
once the first picture has been read.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Union

from .core.checks import check_flag, check_text
from .core.options import takes_options
from .core.errors import ArgumentError
from .core.messages import InputsFailedWarning, arg, value, warn
from .engine import (IMAGE_ID_COLUMN, NO_FACE, PersonFollower, Rows, ScoringOptions, ScoringRequest,
                     check_person_options,
                     image_file_rows, no_face_advice, read_images, rows_to_columns, score_pictures,
                     scoring_request, time_columns, warn_skipped, warn_unread, with_persons)
from .engine.persons import PersonNames, name_person_column
from .engine.stream import Picture
from .media import (DEFAULT_IMAGE_PATTERN, FrameSampling, FrameSaver, SavedFiles, check_frame_folder,
                    check_local_file, choose_frames, downloaded_video, is_url, list_image_files, open_video,
                    read_frames)

__all__ = ["image_scores", "image_scores_dir", "video_scores"]

# transforEmotion's order of video_scores' arguments, which embed_video shares (options not named go last).
VIDEO_ORDER = ("video classes nframes face_selection start end uniform ffreq save_video save_frames save_dir "
               "video_name model local_model_path timestamps face_boxes templates batch_size device progress")


def _check_sources(image) -> List[str]:
    # A picture given as an array is one image, refused by check_local_file with what to do instead.
    sources = [image] if isinstance(image, str) or hasattr(image, "shape") else image
    if not isinstance(sources, (list, tuple)) or not sources:
        raise ArgumentError(f"{arg('image')} must be a file path, an http(s) URL, or a non-empty list of them; "
                         f"got {value(image)}.")
    for source in sources:
        if not is_url(source):
            check_local_file(source)
    return list(sources)


@takes_options("image classes", options=ScoringOptions)
def image_scores(
    image: Union[str, Sequence[str]],
    classes: Sequence[str],
    *,
    options: ScoringOptions,
) -> Dict[str, list]:
    """Zero-shot probabilities of each label for the face in each image.

    Args:
        image: a file path or http(s) URL, or a list of them.
        classes: at least two labels, any text in any script
            (``["joy", "anger", "surprise"]``).
        face_selection: which face to score: ``"largest"``, ``"left"``,
            ``"right"`` (by the box centre), ``"all"`` (every face, one row
            each) or ``"none"`` (the whole image, no face search).
        model: a registered name (see ``list_vision_models()``), a Hugging
            Face id, or a model folder.
        local_model_path: a model folder on disk; nothing is downloaded.
        face_boxes: with ``"largest"``, ``"left"`` or ``"right"``, add the
            scored face's box (``x``, ``y``, ``width``, ``height`` in pixels
            of the original picture) and the detector's ``confidence``.
        templates: how labels are phrased for the text tower: ``None``
            (verbatim, as transforEmotion), a template with one ``{}``
            (``"a photo of a {} face."``), a list of them (their embeddings
            are averaged), or a built-in set: ``"fer"``, ``"face"``.
        batch_size: faces per forward pass (default 32, or
            ``TRANSFOREMOTION_BATCH_SIZE``).
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``; default: the
            first of CUDA, MPS, CPU (or ``TRANSFOREMOTION_DEVICE``).
        progress: a progress bar on 50 images or more (default on, or
            ``TRANSFOREMOTION_PROGRESS=0`` for off).
        face_workers: threads that find faces while the model embeds
            (default: automatic, or ``TRANSFOREMOTION_FACE_WORKERS``: one
            per four cores on a CPU, every core but one beside a GPU; the
            rows are the same whatever the count).

    Returns:
        A dict of columns. One row per image, in input order, with one key per
        class (each row sums to 1; NaN where no face was found, with a warning
        naming the image). With ``face_selection="all"``: one row per face,
        with ``image`` (the input as given), ``face`` (0, 1, ... left to
        right), the box and ``confidence`` before the classes; an image with
        no face keeps one row with NaN there.

    Raises:
        FileNotFoundError: an image path does not exist (checked for every
            path before any work).
        ValueError: an argument is invalid, or the one image given cannot be
            read. In a list, an image that cannot be read (not an image, a
            URL that fails) gets a row of NaN and a warning instead.

    Example:
        >>> scores = image_scores("face.jpg", ["joy", "anger"])  # doctest: +SKIP
        >>> scores  # doctest: +SKIP
        {'joy': [0.83], 'anger': [0.17]}
        >>> image_scores("group.jpg", ["joy", "anger"], face_selection="all")  # doctest: +SKIP
        {'image': ['group.jpg', 'group.jpg'], 'face': [0, 1], 'x': [40, 310], 'y': [52, 60],
         'width': [88, 91], 'height': [88, 91], 'confidence': [0.99, 0.98], 'joy': [...], 'anger': [...]}
    """
    return rows_to_columns(*image_rows(image, scoring_request(classes, options), "image_scores"))


def image_rows(image, request: ScoringRequest, function_name: str):
    """``image_scores`` before the shaping: (rows, request, leading columns); ``embed_images`` shares it."""
    sources = _check_sources(image)
    # One picture that cannot be read is an error; in a list it is skipped, as in any batch job.
    one = isinstance(image, str)
    rows = score_pictures(request, read_images(sources, raise_errors=one), len(sources), "image", function_name)
    warn_unread(rows, sources.__getitem__, "image")
    warn_skipped([sources[k] for k in rows.keys_with(NO_FACE)], "No face was found", no_face_advice())
    leading = {"image": lambda k: sources[k]} if request.plan.face_selection == "all" else {}
    return rows, request, leading


@takes_options("dir classes face_selection pattern recursive", options=ScoringOptions)
def image_scores_dir(
    dir: str,
    classes: Sequence[str],
    pattern: str = DEFAULT_IMAGE_PATTERN,
    recursive: bool = False,
    *,
    options: ScoringOptions,
) -> Dict[str, list]:
    """Scores for every image file in a folder.

    Args:
        dir: the folder.
        pattern: regular expression matched against file names, ignoring case.
        recursive: also look in sub-folders.
        classes, face_selection, model, local_model_path, face_boxes,
        templates, batch_size, device, progress, face_workers: as in ``image_scores``.

    Returns:
        A dict with ``image_id`` (the file name; the path relative to ``dir``
        when ``recursive``) then one key per class; one row per file, sorted
        by path (with ``face_selection="all"``: one row per face, as in
        ``image_scores``). A file that cannot be read gets a row of NaN and a
        warning; the run goes on.

    Example:
        >>> image_scores_dir("photos/", ["joy", "anger"])  # doctest: +SKIP
        {'image_id': ['a.jpg', 'b.png'], 'joy': [0.7, 0.4], 'anger': [0.3, 0.6]}
    """
    check_flag("recursive", recursive)
    return rows_to_columns(*dir_rows(dir, pattern, recursive, scoring_request(classes, options), "image_scores_dir"))


def dir_rows(dir, pattern, recursive, request: ScoringRequest, function_name: str):
    """``image_scores_dir`` before the shaping: (rows, request, leading columns); ``embed_dir`` shares it."""
    paths = list_image_files(dir, pattern, recursive)
    ids = [os.path.relpath(p, dir) if recursive else os.path.basename(p) for p in paths]
    if not paths:
        warn(f"No file in {dir} matches the pattern {value(pattern)}; the result is empty. Check the folder, or "
             f"use {arg('recursive', True)} if the images are in sub-folders.")
        return Rows.empty(len(request.plan.labels)), request, {IMAGE_ID_COLUMN: ids.__getitem__}
    return image_file_rows(request, paths, ids, function_name)


@takes_options(VIDEO_ORDER + " persons person_names", options=ScoringOptions, sampling=FrameSampling,
               saving=SavedFiles)
def video_scores(
    video: str,
    classes: Sequence[str],
    timestamps: bool = False,
    persons: Optional[int] = None,
    person_names: PersonNames = None,
    *,
    options: ScoringOptions,
    sampling: FrameSampling,
    saving: SavedFiles,
) -> Dict[str, list]:
    """Zero-shot probabilities of each label for the face in sampled frames of a video.

    Args:
        video: a video file, an http(s) link to a video file, or a web page
            such as a YouTube video (needs ``pip install 'transforemotion[youtube]'``).
        nframes: how many frames to score. Left at its default (100), a
            shorter video is scored on the frames it has room for, with a
            warning; a number given explicitly that the video cannot supply
            is an error.
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
            (seconds) columns (always there with ``face_selection="all"``).
        classes, face_selection, model, local_model_path, face_boxes,
        templates, batch_size, device, progress, face_workers: as in ``image_scores``.
        persons: with ``face_selection="all"``, keep only the N people seen
            in the most frames (``persons=2`` for a dyad drops passers-by),
            numbered 0 to N-1 in the order first seen.
        person_names: with ``face_selection="all"``, names for the person
            ids: a list (the first for person 0, ...) or a dict
            ``{id: name}``; the ``person`` column then holds the names.

    Returns:
        A dict with one key per class (after ``frame`` and ``time`` when
        ``timestamps``); one row per sampled frame (per face with ``"all"``),
        NaN where no face was found or the frame could not be decoded.

        With ``"all"``, each row also has ``person``: the same number for
        the same person throughout the video (0 for the first person seen,
        then 1, ...), while ``face`` is only the face's left-to-right rank
        within its frame. A person not found in a sampled frame between
        their first and last appearance gets a row there with missing face
        columns and scores, so each person's series has a row for every
        sampled frame of that span. See the README, "People across frames".

    Example:
        >>> video_scores("interview.mp4", ["joy", "anger"], nframes=3, timestamps=True)  # doctest: +SKIP
        {'frame': [0, 15, 30], 'time': [0.0, 0.5, 1.0], 'joy': [...], 'anger': [...]}
        >>> video_scores("dyad.mp4", ["joy", "anger"], face_selection="all", persons=2,
        ...              person_names=["therapist", "client"])  # doctest: +SKIP
        {'frame': [0, 0, 15, ...], 'time': [...], 'person': ['therapist', 'client', ...], 'face': [0, 1, ...], ...}
    """
    video_call = VideoCall.of(video, sampling, saving, timestamps)
    persons = check_person_options(options.face_selection, persons, person_names)
    request = scoring_request(classes, options, video=True)
    return name_person_column(rows_to_columns(*video_rows(video, request, "video_scores", video_call, persons)),
                              person_names, persons)


@dataclass(frozen=True)
class VideoCall:
    """A video call's own arguments besides the scoring options, checked: which frames, what is saved, timestamps."""

    sampling: FrameSampling
    saving: SavedFiles
    timestamps: bool

    @classmethod
    def of(cls, video, sampling: FrameSampling, saving: SavedFiles, timestamps) -> "VideoCall":
        """``video_scores``' and ``embed_video``'s video arguments, checked."""
        check_text("video", video, "a video file path or an http(s) URL")
        return cls(sampling, saving, check_flag("timestamps", timestamps))


def video_rows(video, request: ScoringRequest, function_name: str, call: VideoCall, persons=None):
    """``video_scores`` before the shaping: (rows, request, leading columns); ``embed_video`` shares it."""
    saving = call.saving
    if saving.save_frames:
        check_frame_folder(saving.save_dir, saving.video_name, call.sampling.requested)
    source = (downloaded_video(video, saving.save_dir, saving.video_name, keep=saving.save_video) if is_url(video)
              else contextlib.nullcontext(video))
    with source as path:
        capture, total, fps = open_video(path)  # checks a local file: missing, folder, empty
        try:
            indices = choose_frames(path, total, fps, call.sampling)
            return _score_video(capture, indices, fps, request, call, function_name, persons)
        finally:
            capture.release()


def _score_video(capture, indices, fps, request: ScoringRequest, call: VideoCall, function_name: str, persons=None):
    saving = call.saving
    saver = FrameSaver(saving.save_dir, saving.video_name) if saving.save_frames else None
    nframes = call.sampling.nframes or len(indices)
    undecoded: List[int] = []

    def frames():
        for row, frame in read_frames(capture, indices):
            if frame is None:
                undecoded.append(indices[row])
                yield Picture(row, None, "the frame could not be decoded")
                continue
            if saver is not None:
                saver.save(row, frame)
            yield Picture(row, frame)

    follower = PersonFollower() if request.plan.appearance else None
    rows = score_pictures(request, frames(), len(indices), "frame", function_name, on_rows=follower)
    if saver is not None:
        saver.finish()
    if len(indices) < nframes:
        step = indices[1] - indices[0] if len(indices) > 1 else 1
        warn(f"{arg('uniform', True)} spaced the frames {step} apart, so only {len(indices)} of the {nframes} "
             "requested frames fall inside the range (as in transforEmotion).")
    if undecoded:
        warn(f"{len(undecoded)} of {len(indices)} sampled frames could not be decoded (from frame {undecoded[0]} "
             "on); the file looks truncated or damaged. Their rows have missing values; the frames before them "
             "were scored.", InputsFailedWarning)
    warn_skipped([f"frame {indices[k]}" for k in rows.keys_with(NO_FACE)], "No face was found", no_face_advice())
    if follower is not None:
        rows = with_persons(rows, follower.finish(), persons)
    leading: Dict[str, Callable[[object], object]] = {}
    if call.timestamps or request.plan.face_selection == "all":
        leading = time_columns(indices.__getitem__, fps)
    return rows, request, leading
