"""How good are the scores? Agreement between scores and known labels: ``evaluate_scores``.

``evaluate_scores`` takes a result of our scoring functions (or any table of
per-class probabilities) and the true label of each row, and returns the
measures a researcher reports: accuracy, balanced accuracy, precision, recall
and F1 per class and averaged, the confusion matrix, one-vs-rest AUROC, log
loss, Brier score, expected calibration error, and Krippendorff's alpha
between the model and the truth. Each group of measures is one function
below; ``evaluate_scores`` checks the table, picks the rows, and joins them.

The metrics come from scikit-learn and the ``krippendorff`` package (the
``eval`` extra), imported only when an evaluation runs. The one measure with
no library function, expected calibration error, is written out here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..core.checks import is_missing
from ..core.errors import ArgumentError, MissingPackageError
from ..core.messages import arg, current_caller, function
from .tables import check_classes, check_truth_labels, columns_of, score_matrix, truth_values

__all__ = ["evaluate_scores", "ECE_BINS", "expected_calibration_error", "metrics_libraries"]

# Equal-width bins on the top probability, as in Guo et al. (2017) and in
# transforEmotion's evaluate_emotions().
ECE_BINS = 10

# Rows whose scores are probabilities sum to 1; softmax output does so to
# about 1e-7. A table that misses by more than this holds other numbers.
PROBABILITY_TOLERANCE = 1e-3


def metrics_libraries():
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
        raise MissingPackageError(
            f"{function('evaluate_scores')} needs the optional packages scikit-learn and krippendorff "
            f"({exc.name or exc} is missing). To install them: {how}."
        ) from None
    return metrics, krippendorff


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
    metrics, krippendorff = metrics_libraries()
    rows = _select_rows(scores, truth, classes)
    notes: List[str] = []
    if rows.n_used < rows.n_rows:
        notes.append(
            f"{rows.n_rows - rows.n_used} of {rows.n_rows} rows were left out: {rows.excluded['missing_scores']} "
            f"without scores, {rows.excluded['missing_truth']} without a true label."
        )
    per_class, averages = _class_measures(metrics, rows, notes)
    per_class["auroc"], macro_auroc = _auroc(metrics, rows, notes)
    return {
        "classes": list(rows.labels),
        "n_rows": rows.n_rows,
        "n_used": rows.n_used,
        "n_excluded": rows.n_rows - rows.n_used,
        "excluded": rows.excluded,
        "accuracy": float(metrics.accuracy_score(rows.y_true, rows.y_pred)),
        **averages,
        "per_class": per_class,
        "confusion": _confusion(metrics, rows),
        "macro_auroc": macro_auroc,
        **_probability_measures(metrics, rows, notes),
        "krippendorff_alpha": _krippendorff_alpha(krippendorff, rows, notes),
        "notes": notes,
    }


@dataclass
class _Rows:
    """The rows an evaluation uses: scores (probabilities where they are), truth and prediction."""

    labels: List[str]
    probs: np.ndarray
    y_true: list
    y_pred: list
    n_rows: int
    excluded: Dict[str, int]

    @property
    def n_used(self) -> int:
        return len(self.y_true)


def _select_rows(scores, truth, classes) -> _Rows:
    """Check the table, and keep the rows with every score and a true label."""
    columns = columns_of(scores)
    n_rows = len(next(iter(columns.values()))) if columns else 0
    truth_list, truth_column = truth_values(truth, columns, n_rows)
    labels = check_classes(classes, columns, truth_column)
    check_truth_labels(truth_list, labels)

    values = score_matrix(columns, labels)
    missing_scores = np.isnan(values).any(axis=1)
    missing_truth = np.array([is_missing(t) for t in truth_list], dtype=bool)
    used = ~missing_scores & ~missing_truth
    excluded = {"missing_scores": int(missing_scores.sum()), "missing_truth": int((missing_truth & ~missing_scores).sum())}
    if not used.any():
        raise ArgumentError(
            f"No row can be evaluated: of {n_rows} rows, {excluded['missing_scores']} have no scores "
            f"(no face found, or the picture could not be read) and {excluded['missing_truth']} more have no true "
            "label. To score whole pictures instead of faces, use "
            f"{arg('face_selection', 'none')}."
        )
    probs = values[used]
    return _Rows(labels, probs, [truth_list[i] for i in np.flatnonzero(used)],
                 [labels[k] for k in probs.argmax(axis=1)], n_rows, excluded)


def _class_measures(metrics, rows: _Rows, notes: List[str]) -> Tuple[Dict[str, list], Dict[str, float]]:
    """Precision, recall, F1 and support per class, and their averages."""
    labels, y_true, y_pred = rows.labels, rows.y_true, rows.y_pred
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
    per_class = {
        "class": list(labels),
        "precision": [float(v) for v in precision],
        "recall": [float(v) for v in recall],
        "f1": [float(v) for v in f1],
        "support": [int(v) for v in support],
    }
    averages = {
        "balanced_accuracy": float(balanced),
        "macro_precision": macro_p,
        "macro_recall": macro_r,
        "macro_f1": macro_f,
        "weighted_f1": average("weighted")[2],
        "micro_f1": average("micro")[2],
    }
    return per_class, averages


def _auroc(metrics, rows: _Rows, notes: List[str]) -> Tuple[List[float], float]:
    """One-vs-rest AUROC per class (NaN where a class is never or always true), and their mean."""
    truth_set = set(rows.y_true)
    auroc = []
    for k, c in enumerate(rows.labels):
        positive = np.array([t == c for t in rows.y_true])
        if positive.all() or not positive.any():
            auroc.append(math.nan)
        else:
            auroc.append(float(metrics.roc_auc_score(positive, rows.probs[:, k])))
    no_auroc = [c for c, a in zip(rows.labels, auroc) if math.isnan(a)]
    if no_auroc:
        not_in_truth = [c for c in no_auroc if c not in truth_set]
        only = [c for c in no_auroc if c in truth_set]
        why = []
        if not_in_truth:
            why.append(f"{', '.join(map(repr, not_in_truth))} never "
                       f"{'occurs' if len(not_in_truth) == 1 else 'occur'} in the truth")
        if only:
            why.append(f"{', '.join(map(repr, only))} is the only true label")
        notes.append(f"No AUROC for {', '.join(map(repr, no_auroc))} ({'; '.join(why)}); macro AUROC averages the others.")
    defined = [a for a in auroc if not math.isnan(a)]
    return auroc, float(np.mean(defined)) if defined else math.nan


def _probability_measures(metrics, rows: _Rows, notes: List[str]) -> Dict[str, float]:
    """Log loss, Brier score and calibration error: only for scores that are probabilities."""
    probs, labels = rows.probs, rows.labels
    are_probabilities = bool(
        np.all((probs >= -PROBABILITY_TOLERANCE) & (probs <= 1 + PROBABILITY_TOLERANCE))
        and np.allclose(probs.sum(axis=1), 1.0, atol=PROBABILITY_TOLERANCE)
    )
    if not are_probabilities:
        notes.append(
            "The scores are not probabilities (each row should lie in 0-1 and sum to 1), so log loss, Brier score "
            "and calibration error are NaN; the other measures use only the order of the scores."
        )
        return {"log_loss": math.nan, "brier": math.nan, "ece": math.nan}
    # scikit-learn reads the probability columns in sorted label order.
    order = sorted(range(len(labels)), key=lambda k: labels[k])
    sorted_labels, sorted_probs = [labels[k] for k in order], probs[:, order]
    correct = np.array([p == t for p, t in zip(rows.y_pred, rows.y_true)])
    return {
        "log_loss": float(metrics.log_loss(rows.y_true, sorted_probs, labels=sorted_labels)),
        # scale_by_half=False: the original multi-class Brier score (sum over
        # classes), the same scale whatever the number of classes.
        "brier": float(metrics.brier_score_loss(rows.y_true, sorted_probs, labels=sorted_labels,
                                                scale_by_half=False)),
        "ece": expected_calibration_error(probs.max(axis=1), correct),
    }


def _krippendorff_alpha(krippendorff, rows: _Rows, notes: List[str]) -> float:
    """Nominal alpha with the model and the truth as two coders."""
    codes = {c: k for k, c in enumerate(rows.labels)}
    if len({codes[t] for t in rows.y_true} | {codes[p] for p in rows.y_pred}) < 2:
        notes.append("Krippendorff's alpha is undefined when the truth and the model use a single label throughout.")
        return math.nan
    return float(
        krippendorff.alpha(
            reliability_data=[[codes[t] for t in rows.y_true], [codes[p] for p in rows.y_pred]],
            level_of_measurement="nominal",
            value_domain=list(range(len(rows.labels))),
        )
    )


def _confusion(metrics, rows: _Rows) -> Dict[str, list]:
    """Counts: ``truth`` (the classes) then one column per predicted class."""
    matrix = metrics.confusion_matrix(rows.y_true, rows.y_pred, labels=rows.labels)
    confusion: Dict[str, list] = {"truth": list(rows.labels)}
    for k, c in enumerate(rows.labels):
        confusion[c] = [int(n) for n in matrix[:, k]]
    return confusion
