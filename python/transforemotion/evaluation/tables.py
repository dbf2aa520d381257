"""Score tables as evaluation reads them: columns of numbers, which of them are labels, and the truth.

Every check of a score table that an evaluation or a plot makes is here, so a
table with a bad column gets the same message from ``evaluate_scores``,
``plot_scores`` and ``plot_confusion``.
"""

from __future__ import annotations

import math
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..core.checks import is_missing, is_number, is_sequence
from ..core.errors import ArgumentError
from ..core.messages import arg, current_caller, function, mapping, value
from ..engine import METADATA_COLUMNS as RESULT_COLUMNS

__all__ = ["METADATA_COLUMNS", "columns_of", "label_columns", "check_classes", "score_matrix", "truth_values",
           "check_truth_labels"]

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
            raise ArgumentError(f"Column names of scores must be text; got {value(name)}.")
        if not isinstance(values, list):
            raise ArgumentError(f"Column {name!r} of scores must be a list of values, one per row; got {value(values)}.")
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


def _reads_as_number(v) -> bool:
    if not isinstance(v, str):
        return False
    try:
        float(v)
    except ValueError:
        return False
    return True


def _text_columns(columns: Mapping[str, list], names: Sequence[str]) -> Dict[str, object]:
    """The columns among ``names`` that hold something other than numbers, with the first such value."""
    found = {}
    for name in names:
        bad = next((v for v in columns[name] if not (is_number(v) or is_missing(v))), None)
        if bad is not None:
            found[name] = bad
    return found


def _text_advice() -> str:
    if current_caller() == "r":
        return "convert them with as.numeric()"
    return "convert them to numbers first (pandas: scores[columns].astype(float))"


def _text_message(found: Dict[str, object], numbers_as_text: bool) -> str:
    names = ", ".join(value(name) for name in found)
    first_name, first = next(iter(found.items()))
    if numbers_as_text:
        return (f"The column(s) {names} of scores hold numbers written as text (e.g. {value(first)} in "
                f"{value(first_name)}); {_text_advice()}.")
    return f"The column(s) {names} of scores must hold numbers (scores); {value(first_name)} holds {value(first)}."


def check_classes(classes, columns: Mapping[str, list], truth_column: Optional[str]) -> List[str]:
    if classes is None:
        labels = label_columns(columns, [truth_column] if truth_column else [])
        if len(labels) < 2:
            skip = set(METADATA_COLUMNS) | {truth_column}
            as_text = {name: v for name, v in _text_columns(columns, [c for c in columns if c not in skip]).items()
                       if all(_reads_as_number(x) or is_missing(x, text=True) for x in columns[name])}
            if as_text:
                raise ArgumentError(_text_message(as_text, True))
            raise ArgumentError(
                f"Found {len(labels)} score column(s) in scores ({', '.join(map(repr, labels)) or 'none'}); "
                f"an evaluation needs at least two classes. Name them with {arg('classes')}."
            )
        return labels
    if not is_sequence(classes):
        raise ArgumentError(f"{arg('classes')} must be a list of column names of scores; got {value(classes)}.")
    labels = [str(c) if isinstance(c, str) else c for c in classes]
    if len(labels) < 2:
        raise ArgumentError(f"An evaluation needs at least two classes; got {value(labels)}.")
    if len(set(labels)) != len(labels):
        raise ArgumentError(f"{arg('classes')} must not repeat labels; got {value(labels)}.")
    bad = [c for c in labels if not isinstance(c, str)]
    if bad:
        raise ArgumentError(f"Every class must be a text label (a column name of scores); got {value(bad)}.")
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
    text = _text_columns(columns, labels)
    if text:
        numbers_as_text = all(all(_reads_as_number(x) or is_missing(x, text=True) for x in columns[c]) for c in text)
        raise ArgumentError(_text_message(text, numbers_as_text))
    return labels


def score_matrix(columns: Mapping[str, list], labels: Sequence[str]) -> np.ndarray:
    """The label columns as a rows x labels float array, NaN where a score is missing.

    Every metric and plot reads scores through here, so text and infinities
    are refused with the column's name before any library sees them.
    """
    text = _text_columns(columns, labels)
    if text:
        raise ArgumentError(_text_message(text, False))
    n_rows = len(columns[labels[0]]) if labels else 0
    values = np.array([[math.nan if is_missing(v) else float(v) for v in columns[c]] for c in labels],
                      dtype=float).T.reshape(n_rows, len(labels))
    infinite = [c for k, c in enumerate(labels) if np.isinf(values[:, k]).any()]
    if infinite:
        k = labels.index(infinite[0])
        row = int(np.flatnonzero(np.isinf(values[:, k]))[0])
        raise ArgumentError(
            f"The column(s) {', '.join(value(c) for c in infinite)} of scores hold an infinite value "
            f"({value(float(values[row, k]))} in {value(infinite[0])}, row {row + 1} counting from 1). Scores must be "
            f"finite numbers, or {'NA' if current_caller() == 'r' else 'missing (None or NaN)'} where there is no "
            "score.")
    return values


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
        shown = ", ".join(map(value, unknown[:10])) + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else "")
        example = {unknown[0]: labels[0]}
        raise ArgumentError(
            f"These true labels are not among the classes: {shown}. The classes are "
            f"{', '.join(map(value, labels))}. If they name the same emotions in other words, map them first, "
            f"e.g. with {mapping(example)} ({function('evaluate_dir')} takes it as {arg('label_map')}), "
            f"or add them to {arg('classes')}."
        )


