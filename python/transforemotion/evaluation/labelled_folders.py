"""Evaluating a labelled folder (one sub-folder per class) in one call: ``evaluate_dir``."""

from __future__ import annotations

import os
from typing import Dict, List, Mapping, Optional, Sequence

from ..core.checks import check_classes
from ..core.errors import ArgumentError
from ..core.messages import arg, function, mapping, value, warn
from ..core.options import takes_options
from ..engine import IMAGE_ID_COLUMN, ScoringOptions, score_image_files, scoring_request
from ..media import DEFAULT_IMAGE_PATTERN, check_folder, list_image_files, list_subfolders
from .metrics import evaluate_scores, metrics_libraries

__all__ = ["evaluate_dir"]


def _class_folders(dir) -> List[str]:
    """The class sub-folders of ``dir``, sorted; hidden ones (".name") are not classes."""
    check_folder(dir, "evaluate_dir() needs a folder of class folders.")
    folders = list_subfolders(dir)
    if len(folders) < 2:
        raise ArgumentError(
            f"{dir} has {len(folders)} sub-folder(s) ({', '.join(folders) or 'none'}); "
            f"{function('evaluate_dir')} expects one sub-folder per class, named after it "
            "(e.g. happy/, sad/, angry/), holding that class's images."
        )
    return folders


def _check_label_map(label_map, folders: Sequence[str]) -> Dict[str, str]:
    if label_map is None:
        return {}
    if not isinstance(label_map, Mapping):
        raise ArgumentError(
            f"{arg('label_map')} must map folder names to labels, e.g. {mapping({'happy': 'joy'})}; got {value(label_map)}."
        )
    for folder, label in label_map.items():
        if not isinstance(label, str) or not label.strip():
            raise ArgumentError(f"{arg('label_map')} must give a non-empty text label for {folder!r}; got {value(label)}.")
    unknown = [folder for folder in label_map if folder not in folders]
    if unknown:
        raise ArgumentError(
            f"{arg('label_map')} names {', '.join(map(repr, unknown))}, which are not class folders; "
            f"the class folders are {', '.join(map(repr, folders))}."
        )
    return dict(label_map)


@takes_options("dir classes label_map templates face_selection pattern model local_model_path batch_size device "
               "progress", skip=("face_boxes",), options=ScoringOptions)
def evaluate_dir(
    dir: str,
    classes: Optional[Sequence[str]] = None,
    label_map: Optional[Mapping[str, str]] = None,
    pattern: str = DEFAULT_IMAGE_PATTERN,
    *,
    options: ScoringOptions,
) -> Dict[str, Dict[str, object]]:
    """Score a labelled folder of images and evaluate the scores against its labels.

    The folder has one sub-folder per class (the ImageFolder layout of
    torchvision and CLIP_benchmark), ``dir/happy/*.jpg``, ``dir/sad/*.jpg``;
    images deeper inside a class folder belong to that class.

    Args:
        dir: the folder of class folders.
        classes: the labels to score against. ``None``: the class labels
            (the folder names, through ``label_map``), in folder order. Extra
            labels may be given (the model then also chooses among them);
            every class label must be among them.
        label_map: folder name -> label text, e.g. ``{"happy": "joy"}``;
            folders not named keep their name. Two folders may share a label.
        templates, batch_size, device, progress, face_workers: passed to
            ``image_scores_dir``.
        face_selection, pattern, model, local_model_path: as in
            ``image_scores_dir``.

    Returns:
        ``{"scores": ..., "evaluation": ...}``: ``scores`` has columns
        ``image_id`` (path relative to ``dir``), ``truth`` (the label) and one
        per class; ``evaluation`` is what ``evaluate_scores`` returns. With
        ``face_selection="all"`` each face is a row (with ``face`` and its
        box before the classes), evaluated against its image's label.

        Images directly in ``dir`` (not in a class folder) or in hidden
        folders have no label: they are scored, get ``truth`` None, and are
        counted among the excluded rows, with a warning. A class folder with
        no images keeps its label among the classes (so the model chooses as
        the layout says), with a warning; its AUROC is NaN.

    Example:
        >>> result = evaluate_dir("fer2013/test", label_map={"happy": "joy"})  # doctest: +SKIP
        >>> result["evaluation"]["accuracy"]  # doctest: +SKIP
        0.41
    """
    folders = _class_folders(dir)
    mapping = _check_label_map(label_map, folders)
    folder_label = {folder: mapping.get(folder, folder) for folder in folders}
    folder_labels = list(dict.fromkeys(folder_label[f] for f in folders))
    if classes is None:
        labels = folder_labels
    else:
        labels = check_classes(classes)
        missing = [label for label in folder_labels if label not in labels]
        if missing:
            raise ArgumentError(
                f"The class folders give the labels {', '.join(map(repr, missing))}, which are not in "
                f"{arg('classes')}; add them, or map the folders to your labels with {arg('label_map')}."
            )
    reserved = [label for label in labels if label in (IMAGE_ID_COLUMN, "truth")]
    if reserved:
        raise ArgumentError(
            f"{', '.join(map(repr, reserved))} cannot be a class here: the result uses that column name. "
            f"Rename the folder or map it with {arg('label_map')}."
        )
    request = scoring_request(labels, options)
    # Fail now, not after an hour of scoring, when the metrics libraries are missing.
    metrics_libraries()

    paths = list_image_files(dir, pattern, recursive=True)
    ids = [os.path.relpath(p, dir) for p in paths]
    top = [i.split(os.sep)[0] if os.sep in i else None for i in ids]
    counts = {f: top.count(f) for f in folders}
    if not any(counts.values()):
        raise ArgumentError(
            f"No file in the class folders of {dir} matches the pattern {pattern!r}; there is nothing to evaluate."
        )
    empty = [f for f in folders if counts[f] == 0]
    if empty:
        warn(
            f"The class folder(s) {', '.join(map(repr, empty))} hold no images; their labels stay among the "
            "classes, with support 0 and no AUROC."
        )
    unlabelled = [i for i, t in zip(ids, top) if t not in folder_label]
    if unlabelled:
        warn(
            f"{len(unlabelled)} image(s) are not in a class folder (e.g. {unlabelled[0]!r}); they are scored, "
            "have no true label, and are counted among the excluded rows."
        )

    # With face_selection="all" an image gives one row per face; each row takes its image's label.
    scored = score_image_files(request, paths, ids, "evaluate_dir")
    label_of = dict(zip(ids, (folder_label.get(t) for t in top)))
    columns: Dict[str, list] = {IMAGE_ID_COLUMN: scored.pop(IMAGE_ID_COLUMN)}
    columns["truth"] = [label_of[i] for i in columns[IMAGE_ID_COLUMN]]
    columns.update(scored)
    return {"scores": columns, "evaluation": evaluate_scores(columns, "truth", labels)}
