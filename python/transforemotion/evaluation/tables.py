"""Score tables as evaluation reads them: columns of numbers, which of them are labels, and the truth.

Every check of a score table that an evaluation or a plot makes is here, so a
table with a bad column gets the same message from ``evaluate_scores``,
``plot_scores`` and ``plot_confusion``.
"""

from __future__ import annotations

from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from ..core.checks import is_missing, is_number
from ..core.errors import ArgumentError
from ..core.messages import arg, function
from ..engine import METADATA_COLUMNS as RESULT_COLUMNS

__all__ = ["METADATA_COLUMNS", "columns_of", "label_columns", "check_classes", "truth_values", "check_truth_labels"]

# Columns our results (and common user tables) carry besides the label
# scores, and the truth column of evaluate_dir. They are never taken for classes.
METADATA_COLUMNS = RESULT_COLUMNS | {"truth", "person"}


def columns_of(scores) -> Dict[str, list]:
    """A dict of equal-length lists from a dict-of-lists or a pandas DataFrame."""
    if hasattr(scores, "columns") and hasattr(scores, "to_dict"):  # a pandas DataFrame
        columns = {name: scores[name].tolist() for name in scores.columns}
    elif isinstance(scores, Mapping):
        columns = {name: list(values) if not isinstance(values, str) else values for name, values in scores.items()}
    else:
        raise ArgumentError(
            "scores must be a result of image_scores(), image_scores_dir() or video_scores() "
            f"(a dict of columns) or a pandas DataFrame; got {type(scores).__name__}."
        )
    for name, values in columns.items():
        if not isinstance(name, str):
            raise ArgumentError(f"Column names of scores must be text; got {name!r}.")
        if not isinstance(values, list):
            raise ArgumentError(f"Column {name!r} of scores must be a list of values, one per row; got {values!r}.")
    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        sizes = ", ".join(f"{name}: {len(v)}" for name, v in columns.items())
        raise ArgumentError(f"The columns of scores must all have the same length; they have {sizes}.")
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
        if all(is_number(v) or is_missing(v) for v in values):
            found.append(name)
    return found


def check_classes(classes, columns: Mapping[str, list], truth_column: Optional[str]) -> List[str]:
    if classes is None:
        labels = label_columns(columns, [truth_column] if truth_column else [])
        if len(labels) < 2:
            raise ArgumentError(
                f"Found {len(labels)} score column(s) in scores ({', '.join(map(repr, labels)) or 'none'}); "
                f"an evaluation needs at least two classes. Name them with {arg('classes')}."
            )
        return labels
    if isinstance(classes, str) or not isinstance(classes, (list, tuple)):
        raise ArgumentError(f"{arg('classes')} must be a list of column names of scores; got {classes!r}.")
    labels = list(classes)
    if len(labels) < 2:
        raise ArgumentError(f"An evaluation needs at least two classes; got {labels!r}.")
    if len(set(labels)) != len(labels):
        raise ArgumentError(f"{arg('classes')} must not repeat labels; got {labels!r}.")
    bad = [c for c in labels if not isinstance(c, str)]
    if bad:
        raise ArgumentError(f"Every class must be a text label (a column name of scores); got {bad!r}.")
    reserved = [c for c in labels if c == "truth"]
    if reserved:
        raise ArgumentError('"truth" cannot be a class: the confusion matrix uses it for its first column. Rename that label.')
    missing = [c for c in labels if c not in columns]
    if missing:
        raise ArgumentError(
            f"{', '.join(map(repr, missing))} in {arg('classes')} are not columns of scores; "
            f"its columns are {', '.join(map(repr, columns))}."
        )
    if truth_column in labels:
        raise ArgumentError(f"The truth column {truth_column!r} cannot also be a class.")
    for c in labels:
        bad_values = [v for v in columns[c] if not (is_number(v) or is_missing(v))]
        if bad_values:
            raise ArgumentError(f"Column {c!r} must hold numbers (scores); it holds {bad_values[0]!r}.")
    return labels


def truth_values(truth, columns: Mapping[str, list], n_rows: int) -> Tuple[list, Optional[str]]:
    """The truth labels as a list, and the name of the column they came from (if any)."""
    if isinstance(truth, str):
        if truth not in columns:
            raise ArgumentError(
                f"{arg('truth')} is {truth!r}, which is not a column of scores; give the column that holds the "
                f"true labels ({', '.join(map(repr, columns))}) or a list with one label per row."
            )
        return list(columns[truth]), truth
    if hasattr(truth, "tolist"):  # numpy array or pandas Series
        truth = truth.tolist()
    if not isinstance(truth, (list, tuple)):
        raise ArgumentError(
            f"{arg('truth')} must be a list with the true label of each row, or the name of a column of scores; "
            f"got {type(truth).__name__}."
        )
    if len(truth) != n_rows:
        raise ArgumentError(f"{arg('truth')} has {len(truth)} labels but scores has {n_rows} rows; give one label per row.")
    return list(truth), None


def check_truth_labels(truth: list, labels: Sequence[str]) -> None:
    known = set(labels)
    unknown = list(dict.fromkeys(t for t in truth if not is_missing(t) and t not in known))
    if unknown:
        shown = ", ".join(map(repr, unknown[:10])) + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else "")
        example = {unknown[0]: labels[0]}
        raise ArgumentError(
            f"These true labels are not among the classes: {shown}. The classes are "
            f"{', '.join(map(repr, labels))}. If they name the same emotions in other words, map them first, "
            f"e.g. with {example!r} ({function('evaluate_dir')} takes it as {arg('label_map')}), "
            f"or add them to {arg('classes')}."
        )


