"""How good are the scores? Agreement between scores and known labels.

``evaluate_scores`` takes a result of our scoring functions (or any table of
per-class probabilities) and the true label of each row, and returns the
measures a researcher reports: accuracy, balanced accuracy, precision, recall
and F1 per class and averaged, the confusion matrix, one-vs-rest AUROC, log
loss, Brier score, expected calibration error, and Krippendorff's alpha
between the model and the truth. ``evaluate_dir`` scores a labelled folder
(one sub-folder per class) and evaluates it in one call.

The metrics come from scikit-learn and the ``krippendorff`` package (the
``eval`` extra), imported only when an evaluation runs. The one measure with
no library function, expected calibration error, is written out here.
"""

from __future__ import annotations

import math
import numbers
import os
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from .api import DEFAULT_IMAGE_PATTERN, image_scores_dir
from .checks import check_classes
from .media import check_folder, list_image_files
from .messages import arg, current_caller, function, warn

__all__ = ["evaluate_scores", "evaluate_dir", "METADATA_COLUMNS", "ECE_BINS", "expected_calibration_error"]

# Columns our results (and common user tables) carry besides the label
# scores. They are never taken for classes.
METADATA_COLUMNS = frozenset(
    {"image", "image_id", "frame", "time", "face", "x", "y", "width", "height", "confidence", "source", "id", "truth"}
)

# Equal-width bins on the top probability, as in Guo et al. (2017) and in
# transforEmotion's evaluate_emotions().
ECE_BINS = 10

# Rows whose scores are probabilities sum to 1; softmax output does so to
# about 1e-7. A table that misses by more than this holds other numbers.
PROBABILITY_TOLERANCE = 1e-3


def _metrics_libraries():
    """scikit-learn's metrics and krippendorff, or an ImportError that says how to get them."""
    try:
        import krippendorff
        from sklearn import metrics
    except ImportError as exc:
        how = (
            "run setup_miniconda() again (the environment it makes has them)"
            if current_caller() == "r"
            else "pip install 'transforemotion[eval]'"
        )
        raise ImportError(
            f"{function('evaluate_scores')} needs the optional packages scikit-learn and krippendorff "
            f"({exc.name or exc} is missing). To install them: {how}."
        ) from None
    return metrics, krippendorff


def _is_missing(v) -> bool:
    if v is None:
        return True
    if isinstance(v, numbers.Real) and not isinstance(v, bool):
        return math.isnan(v)
    # pandas.NA and NaT, without importing pandas.
    return type(v).__name__ in ("NAType", "NaTType")


def _is_number(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def columns_of(scores) -> Dict[str, list]:
    """A dict of equal-length lists from a dict-of-lists or a pandas DataFrame."""
    if hasattr(scores, "columns") and hasattr(scores, "to_dict"):  # a pandas DataFrame
        columns = {name: scores[name].tolist() for name in scores.columns}
    elif isinstance(scores, Mapping):
        columns = {name: list(values) if not isinstance(values, str) else values for name, values in scores.items()}
    else:
        raise ValueError(
            "scores must be a result of image_scores(), image_scores_dir() or video_scores() "
            f"(a dict of columns) or a pandas DataFrame; got {type(scores).__name__}."
        )
    for name, values in columns.items():
        if not isinstance(name, str):
            raise ValueError(f"Column names of scores must be text; got {name!r}.")
        if not isinstance(values, list):
            raise ValueError(f"Column {name!r} of scores must be a list of values, one per row; got {values!r}.")
    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        sizes = ", ".join(f"{name}: {len(v)}" for name, v in columns.items())
        raise ValueError(f"The columns of scores must all have the same length; they have {sizes}.")
    return columns


def label_columns(columns: Mapping[str, list], exclude: Sequence[str] = ()) -> List[str]:
    """The score columns of a result: every column that holds numbers and is not metadata.

    Metadata (``METADATA_COLUMNS``: image_id, frame, time, face, ...) and the
    names in ``exclude`` are left out, and so is any column holding text.
    """
    skip = set(METADATA_COLUMNS) | set(exclude)
    found = []
    for name, values in columns.items():
        if name in skip:
            continue
        if all(_is_number(v) or _is_missing(v) for v in values):
            found.append(name)
    return found


def _check_classes(classes, columns: Mapping[str, list], truth_column: Optional[str]) -> List[str]:
    if classes is None:
        labels = label_columns(columns, [truth_column] if truth_column else [])
        if len(labels) < 2:
            raise ValueError(
                f"Found {len(labels)} score column(s) in scores ({', '.join(map(repr, labels)) or 'none'}); "
                f"an evaluation needs at least two classes. Name them with {arg('classes')}."
            )
        return labels
    if isinstance(classes, str) or not isinstance(classes, (list, tuple)):
        raise ValueError(f"{arg('classes')} must be a list of column names of scores; got {classes!r}.")
    labels = list(classes)
    if len(labels) < 2:
        raise ValueError(f"An evaluation needs at least two classes; got {labels!r}.")
    if len(set(labels)) != len(labels):
        raise ValueError(f"{arg('classes')} must not repeat labels; got {labels!r}.")
    bad = [c for c in labels if not isinstance(c, str)]
    if bad:
        raise ValueError(f"Every class must be a text label (a column name of scores); got {bad!r}.")
    reserved = [c for c in labels if c == "truth"]
    if reserved:
        raise ValueError('"truth" cannot be a class: the confusion matrix uses it for its first column. Rename that label.')
    missing = [c for c in labels if c not in columns]
    if missing:
        raise ValueError(
            f"{', '.join(map(repr, missing))} in {arg('classes')} are not columns of scores; "
            f"its columns are {', '.join(map(repr, columns))}."
        )
    if truth_column in labels:
        raise ValueError(f"The truth column {truth_column!r} cannot also be a class.")
    for c in labels:
        bad_values = [v for v in columns[c] if not (_is_number(v) or _is_missing(v))]
        if bad_values:
            raise ValueError(f"Column {c!r} must hold numbers (scores); it holds {bad_values[0]!r}.")
    return labels


def _truth_values(truth, columns: Mapping[str, list], n_rows: int) -> Tuple[list, Optional[str]]:
    """The truth labels as a list, and the name of the column they came from (if any)."""
    if isinstance(truth, str):
        if truth not in columns:
            raise ValueError(
                f"{arg('truth')} is {truth!r}, which is not a column of scores; give the column that holds the "
                f"true labels ({', '.join(map(repr, columns))}) or a list with one label per row."
            )
        return list(columns[truth]), truth
    if hasattr(truth, "tolist"):  # numpy array or pandas Series
        truth = truth.tolist()
    if not isinstance(truth, (list, tuple)):
        raise ValueError(
            f"{arg('truth')} must be a list with the true label of each row, or the name of a column of scores; "
            f"got {type(truth).__name__}."
        )
    if len(truth) != n_rows:
        raise ValueError(f"{arg('truth')} has {len(truth)} labels but scores has {n_rows} rows; give one label per row.")
    return list(truth), None


def _check_truth_labels(truth: list, labels: Sequence[str]) -> None:
    known = set(labels)
    unknown = list(dict.fromkeys(t for t in truth if not _is_missing(t) and t not in known))
    if unknown:
        shown = ", ".join(map(repr, unknown[:10])) + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else "")
        example = {unknown[0]: labels[0]}
        raise ValueError(
            f"These true labels are not among the classes: {shown}. The classes are "
            f"{', '.join(map(repr, labels))}. If they name the same emotions in other words, map them first, "
            f"e.g. with {example!r} ({function('evaluate_dir')} takes it as {arg('label_map')}), "
            f"or add them to {arg('classes')}."
        )


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, n_bins: int = ECE_BINS) -> float:
    """Expected calibration error of the top probability (Naeini et al. 2015; Guo et al. 2017).

    The rows are put into ``n_bins`` equal-width bins of their top probability,
    (0, 0.1], (0.1, 0.2], ..., (0.9, 1]; in each bin the mean top probability
    (how sure the model was) is compared with the share of rows whose top
    class was right. ECE is the average gap, weighted by how many rows fall
    in each bin: 0 for a model exactly as sure as it is right, up to 1.
    """
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    inner_edges = np.linspace(0.0, 1.0, n_bins + 1)[1:-1]
    # right=True: a value on an edge belongs to the bin below, so 1.0 lands in the last bin.
    bins = np.digitize(confidence, inner_edges, right=True)
    gap = 0.0
    for b in np.unique(bins):
        in_bin = bins == b
        gap += in_bin.sum() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(gap / len(confidence))


def evaluate_scores(scores, truth, classes: Optional[Sequence[str]] = None) -> Dict[str, object]:
    """How well the scores agree with the true labels.

    The predicted class of a row is the class with the highest score (the
    first one in column order on a tie).

    Args:
        scores: a result of ``image_scores``, ``image_scores_dir`` or
            ``video_scores`` (a dict of columns), or a pandas DataFrame with
            one column of probabilities per class.
        truth: the true label of each row (a list, ``None`` or NaN where
            unknown), or the name of the column of ``scores`` holding them.
        classes: the columns of ``scores`` to evaluate. ``None``: every
            column of numbers except metadata (image_id, frame, time, face,
            x, y, width, height, confidence, source, id) and the truth column.

    Returns:
        A dict (an R list through the bridge):

        - ``classes``; ``n_rows``; ``n_used`` (rows evaluated);
          ``n_excluded`` and ``excluded`` = ``{"missing_scores": ..,
          "missing_truth": ..}`` (each left-out row counted once, under
          missing scores first: no face found, unreadable image);
        - ``accuracy``, ``balanced_accuracy`` (mean recall over the classes
          present in the truth), ``macro_precision``, ``macro_recall``,
          ``macro_f1``, ``weighted_f1`` (weighted by support), ``micro_f1``;
        - ``per_class``: columns class, precision, recall, f1, support, auroc;
        - ``confusion``: columns ``truth`` (the classes) then one per
          predicted class, holding counts;
        - ``macro_auroc``: one-vs-rest AUROC averaged over the classes it is
          defined for; ``log_loss``; ``brier`` (multi-class Brier score:
          mean over rows of the summed squared differences between the
          probabilities and the one-hot truth, 0 to 2); ``ece`` (expected
          calibration error, 10 bins); ``krippendorff_alpha`` (nominal, model
          and truth as two coders);
        - ``notes``: why any measure is NaN, in words.

        Averages over classes (macro, weighted, micro) use the classes that
        occur in the truth or the predictions; a class that occurs in neither
        has NaN precision, recall and F1. A class absent from the truth has
        no AUROC (NaN); one never predicted has precision 0.

    Raises:
        ValueError: a true label is not among the classes (map labels first),
            or no row has both scores and a true label.
        ImportError: scikit-learn or krippendorff is missing
            (``pip install 'transforemotion[eval]'``).

    Example:
        >>> scores = {"joy": [0.8, 0.3, 0.6], "anger": [0.2, 0.7, 0.4]}
        >>> result = evaluate_scores(scores, ["joy", "anger", "anger"])
        >>> result["accuracy"], result["confusion"]
        (0.6666666666666666, {'truth': ['joy', 'anger'], 'joy': [1, 1], 'anger': [0, 1]})
    """
    metrics, krippendorff = _metrics_libraries()
    columns = columns_of(scores)
    n_rows = len(next(iter(columns.values()))) if columns else 0
    truth_list, truth_column = _truth_values(truth, columns, n_rows)
    labels = _check_classes(classes, columns, truth_column)
    _check_truth_labels(truth_list, labels)

    values = np.array([[np.nan if _is_missing(v) else float(v) for v in columns[c]] for c in labels], dtype=float).T
    values = values.reshape(n_rows, len(labels))
    missing_scores = np.isnan(values).any(axis=1)
    missing_truth = np.array([_is_missing(t) for t in truth_list], dtype=bool)
    used = ~missing_scores & ~missing_truth
    excluded = {"missing_scores": int(missing_scores.sum()), "missing_truth": int((missing_truth & ~missing_scores).sum())}
    if not used.any():
        raise ValueError(
            f"No row can be evaluated: of {n_rows} rows, {excluded['missing_scores']} have no scores "
            f"(no face found, or the picture could not be read) and {excluded['missing_truth']} more have no true "
            "label. To score whole pictures instead of faces, use "
            f"{arg('face_selection', 'none')}."
        )

    probs = values[used]
    y_true = [truth_list[i] for i in np.flatnonzero(used)]
    y_pred = [labels[k] for k in probs.argmax(axis=1)]
    notes: List[str] = []
    if excluded["missing_scores"] or excluded["missing_truth"]:
        notes.append(
            f"{n_rows - int(used.sum())} of {n_rows} rows were left out: {excluded['missing_scores']} without scores, "
            f"{excluded['missing_truth']} without a true label."
        )

    # Averages over the classes that occur; one that occurs nowhere has no
    # precision or recall to average (0/0), and counting it as 0 would lower
    # the macro averages for a class the data never asked about.
    occurring = set(y_true) | set(y_pred)
    observed = [c for c in labels if c in occurring]
    precision, recall, f1, support = metrics.precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0.0
    )
    absent = [k for k, c in enumerate(labels) if c not in occurring]
    for array in (precision, recall, f1):
        array[absent] = np.nan
    if absent:
        notes.append(
            f"{', '.join(repr(labels[k]) for k in absent)} occur neither in the truth nor in the predictions: "
            "their precision, recall and F1 are NaN and they are left out of the averages."
        )

    def average(kind: str) -> Tuple[float, float, float]:
        p, r, f, _ = metrics.precision_recall_fscore_support(
            y_true, y_pred, labels=observed, average=kind, zero_division=0.0
        )
        return float(p), float(r), float(f)

    macro_p, macro_r, macro_f = average("macro")
    # Balanced accuracy is the mean recall over the classes in the truth
    # (scikit-learn's definition). recall_score with those labels computes it
    # without balanced_accuracy_score's warnings about predicted classes that
    # are absent from the truth: an ordinary model error here.
    truth_set = set(y_true)
    balanced = metrics.recall_score(
        y_true, y_pred, labels=[c for c in labels if c in truth_set], average="macro", zero_division=0.0
    )

    auroc = []
    for k, c in enumerate(labels):
        positive = np.array([t == c for t in y_true])
        if positive.all() or not positive.any():
            auroc.append(math.nan)
        else:
            auroc.append(float(metrics.roc_auc_score(positive, probs[:, k])))
    no_auroc = [c for c, a in zip(labels, auroc) if math.isnan(a)]
    if no_auroc:
        not_in_truth = [c for c in no_auroc if c not in truth_set]
        only = [c for c in no_auroc if c in truth_set]
        why = []
        if not_in_truth:
            why.append(f"{', '.join(map(repr, not_in_truth))} never occur in the truth")
        if only:
            why.append(f"{', '.join(map(repr, only))} is the only true label")
        notes.append(f"No AUROC for {', '.join(map(repr, no_auroc))} ({'; '.join(why)}); macro AUROC averages the others.")
    defined = [a for a in auroc if not math.isnan(a)]
    macro_auroc = float(np.mean(defined)) if defined else math.nan

    are_probabilities = bool(
        np.all((probs >= -PROBABILITY_TOLERANCE) & (probs <= 1 + PROBABILITY_TOLERANCE))
        and np.allclose(probs.sum(axis=1), 1.0, atol=PROBABILITY_TOLERANCE)
    )
    if are_probabilities:
        # scikit-learn reads the probability columns in sorted label order.
        order = sorted(range(len(labels)), key=lambda k: labels[k])
        sorted_labels, sorted_probs = [labels[k] for k in order], probs[:, order]
        log_loss = float(metrics.log_loss(y_true, sorted_probs, labels=sorted_labels))
        # scale_by_half=False: the original multi-class Brier score (sum over
        # classes), the same scale whatever the number of classes.
        brier = float(metrics.brier_score_loss(y_true, sorted_probs, labels=sorted_labels, scale_by_half=False))
        correct = np.array([p == t for p, t in zip(y_pred, y_true)])
        ece = expected_calibration_error(probs.max(axis=1), correct)
    else:
        log_loss = brier = ece = math.nan
        notes.append(
            "The scores are not probabilities (each row should lie in 0-1 and sum to 1), so log loss, Brier score "
            "and calibration error are NaN; the other measures use only the order of the scores."
        )

    codes = {c: k for k, c in enumerate(labels)}
    if len({codes[t] for t in y_true} | {codes[p] for p in y_pred}) < 2:
        alpha = math.nan
        notes.append("Krippendorff's alpha is undefined when the truth and the model use a single label throughout.")
    else:
        alpha = float(
            krippendorff.alpha(
                reliability_data=[[codes[t] for t in y_true], [codes[p] for p in y_pred]],
                level_of_measurement="nominal",
                value_domain=list(range(len(labels))),
            )
        )

    matrix = metrics.confusion_matrix(y_true, y_pred, labels=labels)
    confusion: Dict[str, list] = {"truth": list(labels)}
    for k, c in enumerate(labels):
        confusion[c] = [int(n) for n in matrix[:, k]]

    return {
        "classes": list(labels),
        "n_rows": n_rows,
        "n_used": int(used.sum()),
        "n_excluded": n_rows - int(used.sum()),
        "excluded": excluded,
        "accuracy": float(metrics.accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(balanced),
        "macro_precision": macro_p,
        "macro_recall": macro_r,
        "macro_f1": macro_f,
        "weighted_f1": average("weighted")[2],
        "micro_f1": average("micro")[2],
        "per_class": {
            "class": list(labels),
            "precision": [float(v) for v in precision],
            "recall": [float(v) for v in recall],
            "f1": [float(v) for v in f1],
            "support": [int(v) for v in support],
            "auroc": auroc,
        },
        "confusion": confusion,
        "macro_auroc": macro_auroc,
        "log_loss": log_loss,
        "brier": brier,
        "ece": ece,
        "krippendorff_alpha": alpha,
        "notes": notes,
    }


# --- a labelled folder -------------------------------------------------------

def _class_folders(dir) -> List[str]:
    """The class sub-folders of ``dir``, sorted; hidden ones (".name") are not classes."""
    check_folder(dir, "evaluate_dir() needs a folder of class folders.")
    folders = sorted(
        name for name in os.listdir(dir) if not name.startswith(".") and os.path.isdir(os.path.join(dir, name))
    )
    if len(folders) < 2:
        raise ValueError(
            f"{dir} has {len(folders)} sub-folder(s) ({', '.join(folders) or 'none'}); "
            f"{function('evaluate_dir')} expects one sub-folder per class, named after it "
            "(e.g. happy/, sad/, angry/), holding that class's images."
        )
    return folders


def _check_label_map(label_map, folders: Sequence[str]) -> Dict[str, str]:
    if label_map is None:
        return {}
    if not isinstance(label_map, Mapping):
        raise ValueError(
            f"{arg('label_map')} must map folder names to labels, e.g. {{'happy': 'joy'}}; got {label_map!r}."
        )
    for folder, label in label_map.items():
        if not isinstance(label, str) or not label.strip():
            raise ValueError(f"{arg('label_map')} must give a non-empty text label for {folder!r}; got {label!r}.")
    unknown = [folder for folder in label_map if folder not in folders]
    if unknown:
        raise ValueError(
            f"{arg('label_map')} names {', '.join(map(repr, unknown))}, which are not class folders; "
            f"the class folders are {', '.join(map(repr, folders))}."
        )
    return dict(label_map)


def evaluate_dir(
    dir: str,
    classes: Optional[Sequence[str]] = None,
    label_map: Optional[Mapping[str, str]] = None,
    templates=None,
    face_selection: str = "largest",
    pattern: str = DEFAULT_IMAGE_PATTERN,
    model: str = "oai-base",
    local_model_path: Optional[str] = None,
    batch_size: Optional[int] = None,
    device: Optional[str] = None,
    progress: Optional[bool] = None,
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
        templates, batch_size, device, progress: passed to
            ``image_scores_dir``.
        face_selection, pattern, model, local_model_path: as in
            ``image_scores_dir``.

    Returns:
        ``{"scores": ..., "evaluation": ...}``: ``scores`` has columns
        ``image_id`` (path relative to ``dir``), ``truth`` (the label) and one
        per class; ``evaluation`` is what ``evaluate_scores`` returns.

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
            raise ValueError(
                f"The class folders give the labels {', '.join(map(repr, missing))}, which are not in "
                f"{arg('classes')}; add them, or map the folders to your labels with {arg('label_map')}."
            )
    reserved = [label for label in labels if label in ("image_id", "truth")]
    if reserved:
        raise ValueError(
            f"{', '.join(map(repr, reserved))} cannot be a class here: the result uses that column name. "
            f"Rename the folder or map it with {arg('label_map')}."
        )
    # Fail now, not after an hour of scoring, when the metrics libraries are missing.
    _metrics_libraries()

    paths = list_image_files(dir, pattern, recursive=True)
    ids = [os.path.relpath(p, dir) for p in paths]
    top = [i.split(os.sep)[0] if os.sep in i else None for i in ids]
    counts = {f: top.count(f) for f in folders}
    if not any(counts.values()):
        raise ValueError(
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

    scored = image_scores_dir(
        dir, labels, face_selection=face_selection, pattern=pattern, recursive=True, model=model,
        local_model_path=local_model_path, templates=templates, batch_size=batch_size, device=device,
        progress=progress,
    )
    if scored["image_id"] != ids:
        raise RuntimeError("The folder changed while it was being scored; run the evaluation again.")
    columns: Dict[str, list] = {"image_id": ids, "truth": [folder_label.get(t) for t in top]}
    columns.update((label, scored[label]) for label in labels)
    return {"scores": columns, "evaluation": evaluate_scores(columns, "truth", labels)}
