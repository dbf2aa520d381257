"""Pictures of results: scores over a video, and a confusion matrix.

matplotlib is optional (the ``plot`` extra) and imported only when a plot is
drawn. Each function draws into the Axes it is given, or a new figure's, and
returns the Axes so the caller can add titles or save the figure.
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np

from .core.errors import ArgumentError, MissingPackageError
from .evaluation import columns_of, label_columns

__all__ = ["plot_scores", "plot_confusion"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingPackageError(
            "Plotting needs matplotlib, which is not installed. Install it with: pip install 'transforemotion[plot]'"
        ) from None
    return plt


def _axes(ax):
    if ax is not None:
        return ax
    _, ax = _pyplot().subplots()
    return ax


def plot_scores(video_result, ax=None):
    """Each label's score over the video, one line per label.

    The horizontal axis is ``time`` in seconds when the result has it
    (``video_scores(..., timestamps=True)``), else ``frame``, else the row
    number. Rows without scores (no face found) leave gaps in the lines.

    Args:
        video_result: a result of ``video_scores`` (dict of columns) or a
            pandas DataFrame of it.
        ax: a matplotlib Axes to draw into; ``None`` makes a new figure.

    Returns:
        The matplotlib Axes.

    Example:
        >>> result = video_scores("clip.mp4", ["joy", "anger"], timestamps=True)  # doctest: +SKIP
        >>> plot_scores(result).figure.savefig("scores.png")  # doctest: +SKIP
    """
    columns = columns_of(video_result)
    labels = label_columns(columns)
    if not labels:
        raise ArgumentError(f"There is nothing to plot: the result has no score columns (its columns: {', '.join(columns)}).")
    n = len(columns[labels[0]])
    if n == 0:
        raise ArgumentError("There is nothing to plot: the result has no rows.")
    if "time" in columns:
        x, xlabel = columns["time"], "Time (s)"
    elif "frame" in columns:
        x, xlabel = columns["frame"], "Frame"
    else:
        x, xlabel = list(range(n)), "Row"
    x = np.array([math.nan if v is None else float(v) for v in x])
    ax = _axes(ax)
    for label in labels:
        y = np.array([math.nan if v is None else float(v) for v in columns[label]])
        # A single row, or a row between two gaps, has no line to draw: mark it.
        ax.plot(x, y, label=label, marker="o" if n == 1 else None)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Score")
    ax.set_ylim(0, 1)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return ax


def plot_confusion(evaluation: Mapping, ax=None):
    """The confusion matrix as a heatmap with the count in each cell.

    Rows are the true classes, columns the predicted ones.

    Args:
        evaluation: what ``evaluate_scores`` returns (or ``evaluate_dir``,
            whose ``"evaluation"`` is used).
        ax: a matplotlib Axes to draw into; ``None`` makes a new figure.

    Returns:
        The matplotlib Axes.
    """
    if isinstance(evaluation, Mapping) and "confusion" not in evaluation and "evaluation" in evaluation:
        evaluation = evaluation["evaluation"]
    if not isinstance(evaluation, Mapping) or "confusion" not in evaluation:
        raise ArgumentError("evaluation must be a result of evaluate_scores() or evaluate_dir().")
    confusion = evaluation["confusion"]
    truth = list(confusion["truth"])
    predicted = [c for c in confusion if c != "truth"]
    counts = np.array([confusion[c] for c in predicted], dtype=int).T.reshape(len(truth), len(predicted))
    ax = _axes(ax)
    image = ax.imshow(counts, cmap="Blues", vmin=0)
    threshold = counts.max() / 2 if counts.size else 0
    for i in range(len(truth)):
        for j in range(len(predicted)):
            # White text on the dark cells, black on the light ones.
            colour = "white" if counts[i, j] > threshold else "black"
            ax.text(j, i, str(counts[i, j]), ha="center", va="center", color=colour)
    ax.set_xticks(range(len(predicted)), labels=predicted, rotation=45, ha="right")
    ax.set_yticks(range(len(truth)), labels=truth)
    ax.set_xlabel("Predicted")
    ax.set_ylabel("Truth")
    ax.figure.colorbar(image, ax=ax, label="Count")
    return ax
