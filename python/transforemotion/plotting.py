"""Pictures of results: scores over a video, and a confusion matrix.

matplotlib is optional (the ``plot`` extra) and imported only when a plot is
drawn. Each function draws into the Axes it is given, or a new figure's, and
returns the Axes so the caller can add titles or save the figure.

A new figure uses matplotlib's constrained layout, which makes room for the
legend, the axis labels and the tick labels when the figure is drawn, so a
plain ``ax.figure.savefig(path)`` keeps all of them (no ``bbox_inches``
needed).
"""

from __future__ import annotations

import math
import numbers
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from .core.errors import ArgumentError, MissingPackageError
from .evaluation import columns_of, label_columns
from .core.messages import arg, current_caller

__all__ = ["plot_scores", "plot_confusion"]

# Columns that say whose face a row is: a person followed across frames
# first, else the face's index within its frame.
GROUP_COLUMNS = ("person", "face")
# Columns that say which video a row of a corpus (read_corpus) comes from.
VIDEO_COLUMNS = ("id", "source")
# Telling faces apart inside one Axes given by the caller: a line style each,
# then markers once the styles run out.
_STYLES = ("-", "--", ":", "-.")
_MARKERS = ("", "o", "s", "^", "v", "D", "x", "+")


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingPackageError(
            "Plotting needs matplotlib, which is not installed. Install it with: pip install 'transforemotion[plot]'"
        ) from None
    return plt


def _new_axes(nrows: int = 1, width: float = 6.4, height: Optional[float] = None, **kwargs):
    """A new figure, laid out so that savefig keeps its labels; its Axes in a list."""
    height = height if height is not None else 4.8
    fig, axes = _pyplot().subplots(nrows, 1, squeeze=False, layout="constrained", figsize=(width, height), **kwargs)
    return list(axes[:, 0])


def _floats(values) -> np.ndarray:
    return np.array([math.nan if v is None else float(v) for v in values], dtype=float)


def _missing(v) -> bool:
    if v is None:
        return True
    if isinstance(v, numbers.Real) and not isinstance(v, bool):
        return math.isnan(v)
    return type(v).__name__ in ("NAType", "NaTType")


def _group_name(v) -> str:
    if isinstance(v, numbers.Real) and not isinstance(v, bool) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _sorted_groups(values) -> list:
    found = list(dict.fromkeys(v for v in values if not _missing(v)))
    try:
        return sorted(found)
    except TypeError:  # mixed kinds: keep the order of first appearance
        return found


def _legend_outside(ax, handles=None, labels=None) -> None:
    """The legend to the right of the Axes when the figure's layout makes room for it;
    inside the Axes otherwise, where it cannot be cut off when the figure is saved."""
    kwargs = {} if handles is None else {"handles": handles, "labels": labels}
    if ax.figure.get_layout_engine() is not None:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, **kwargs)
    else:
        ax.legend(loc="best", framealpha=0.8, **kwargs)


def plot_scores(video_result, ax=None):
    """Each label's score over the video, one line per label.

    The horizontal axis is ``time`` in seconds when the result has it
    (``video_scores(..., timestamps=True)``), else ``frame``, else the row
    number. Rows without scores (no face found) leave gaps in the lines.

    A result with several faces per frame (``face_selection="all"``: a
    ``face`` column) is drawn one face at a time, so that no line ever joins
    two faces: with ``ax=None``, one panel per face over a shared time axis
    (all panels are ``ax.figure.axes``); into a given ``ax``, one line style
    per face. A ``person`` column (a face followed across frames) is used
    instead of ``face`` when there is one.

    A corpus (``read_corpus``: a ``source`` or ``id`` column) gets a panel
    per video, and per person (face) within it, each on its own video's time
    axis, titled ``"video: person 0"``, as R's ``plot()`` draws it; rows
    without a time (images) are left out. No line joins two videos, so a
    corpus of several videos needs ``ax=None``.

    Args:
        video_result: a result of ``video_scores`` (dict of columns) or a
            pandas DataFrame of it.
        ax: a matplotlib Axes to draw into; ``None`` makes a new figure.

    Returns:
        The matplotlib Axes (with several faces and ``ax=None``: the top
        panel's).

    Example:
        >>> result = video_scores("clip.mp4", ["joy", "anger"], timestamps=True)  # doctest: +SKIP
        >>> plot_scores(result).figure.savefig("scores.png")  # doctest: +SKIP
    """
    columns = columns_of(video_result)
    group = next((g for g in GROUP_COLUMNS if g in columns), None)
    labels = label_columns(columns, exclude=GROUP_COLUMNS)
    if not labels:
        raise ArgumentError(f"There is nothing to plot: the result has no score columns (its columns: {', '.join(columns)}).")
    n = len(columns[labels[0]])
    if n == 0:
        raise ArgumentError("There is nothing to plot: the result has no rows.")
    if "time" in columns:
        x, xlabel = _floats(columns["time"]), "Time (s)"
    elif "frame" in columns:
        x, xlabel = _floats(columns["frame"]), "Frame"
    else:
        x, xlabel = np.arange(n, dtype=float), "Row"
    scores = {label: _floats(columns[label]) for label in labels}
    video = next((v for v in VIDEO_COLUMNS if v in columns), None)
    if video is not None:
        return _plot_videos(x, xlabel, scores, columns, video, group, ax)
    if group is not None:
        groups = _sorted_groups(columns[group])
        if groups:
            return _plot_groups(x, xlabel, scores, columns[group], group, groups, ax)
    if ax is None:
        (ax,) = _new_axes()
    lines = [_draw(ax, x, scores[label], label=label)[0] for label in labels]
    _finish_axes(ax, xlabel)
    _legend_outside(ax, _plain(lines), labels)
    return ax


def _draw(ax, x: np.ndarray, y: np.ndarray, **style):
    """One series as one line; a point with no neighbour to join (a single row, or a row
    between two gaps) would not show as a line, so it gets a marker."""
    seen = ~np.isnan(y)
    before = np.concatenate(([False], seen[:-1]))
    after = np.concatenate((seen[1:], [False]))
    alone = np.flatnonzero(seen & ~before & ~after).tolist()
    if style.get("marker"):  # a marker that tells faces apart goes on every point
        return ax.plot(x, y, markersize=4, **style)
    style.pop("marker", None)
    return ax.plot(x, y, marker="o", markevery=alone, markersize=4, **style)


def _finish_axes(ax, xlabel: Optional[str]) -> None:
    if xlabel:
        ax.set_xlabel(xlabel)
    ax.set_ylabel("Score")
    ax.set_ylim(0, 1)


def _series(x: np.ndarray, y: np.ndarray, rows: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """``y`` of ``rows`` placed on the shared ``grid`` of times; NaN where that face was not
    seen, so that its line breaks there rather than bridging the frames between."""
    out = np.full(len(grid), math.nan)
    out[np.searchsorted(grid, x[rows])] = y[rows]
    return out


def _plot_groups(x, xlabel, scores: Dict[str, np.ndarray], who: Sequence, group: str, groups: list, ax):
    plt = _pyplot()
    known = ~np.isnan(x)
    grid = np.unique(x[known])
    members = {g: np.array([known[i] and not _missing(v) and v == g for i, v in enumerate(who)]) for g in groups}
    colours = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    colour = {label: colours[k % len(colours)] for k, label in enumerate(scores)}

    if ax is not None:  # the caller's Axes: one line per label and face, the face told by its style
        for k, g in enumerate(groups):
            style = {"linestyle": _STYLES[k % len(_STYLES)], "marker": _MARKERS[(k // len(_STYLES)) % len(_MARKERS)]}
            for label, y in scores.items():
                _draw(ax, grid, _series(x, y, members[g], grid), color=colour[label],
                      label=f"{label}, {group} {_group_name(g)}", **style)
        _finish_axes(ax, xlabel)
        Line2D = _line2d()
        handles = [Line2D([], [], color=colour[label]) for label in scores]
        handles += [Line2D([], [], color="0.3", linestyle=_STYLES[k % len(_STYLES)],
                           marker=_MARKERS[(k // len(_STYLES)) % len(_MARKERS)], markersize=4)
                    for k in range(len(groups))]
        names = list(scores) + [f"{group} {_group_name(g)}" for g in groups]
        _legend_outside(ax, handles, names)
        return ax

    axes = _new_axes(len(groups), height=1.2 + 1.8 * len(groups), sharex=True, sharey=True)
    for panel, g in zip(axes, groups):
        for label, y in scores.items():
            _draw(panel, grid, _series(x, y, members[g], grid), color=colour[label], label=label)
        panel.set_title(f"{group} {_group_name(g)}", loc="left", fontsize="medium")
        _finish_axes(panel, xlabel if panel is axes[-1] else None)
    if len(grid) > 1:  # every panel spans the whole video, whenever its face was seen
        axes[0].set_xlim(grid[0], grid[-1])
    axes[0].figure.legend(handles=_plain(axes[0].get_lines()), labels=list(scores), loc="outside right upper",
                          frameon=False)
    return axes[0]


def _plot_videos(x, xlabel, scores: Dict[str, np.ndarray], columns: Mapping[str, list], video: str,
                 group: Optional[str], ax):
    """A corpus: a panel per video and, within it, per person (face), each on its video's own times."""
    names = list(dict.fromkeys(v for v, t in zip(columns[video], x) if not _missing(v) and not math.isnan(t)))
    if not names:
        raise ArgumentError(f"There is nothing to plot over time: no row of the corpus has a {xlabel.lower()} "
                            f"(its rows are images).")
    if ax is not None and len(names) > 1:
        raise ArgumentError(f"The result holds {len(names)} videos, drawn a panel each: leave {arg('ax')} out, or "
                            f"plot one video's rows.")
    panels = []  # (title, the rows of that panel, the times of its video)
    for name in names:
        of_video = np.array([v == name for v in columns[video]]) & ~np.isnan(x)
        groups = _sorted_groups([g for g, keep in zip(columns[group], of_video) if keep]) if group else []
        grid = np.unique(x[of_video])
        if not groups:
            panels.append((str(name), of_video, grid))
        for g in groups:
            rows = of_video & np.array([not _missing(v) and v == g for v in columns[group]])
            panels.append((f"{name}: {group} {_group_name(g)}", rows, grid))
    colours = _pyplot().rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    axes = [ax] if ax is not None else _new_axes(len(panels), height=1.2 + 1.8 * len(panels), sharey=True)
    for panel, (title, rows, grid) in zip(axes, panels):
        for k, (label, y) in enumerate(scores.items()):
            _draw(panel, grid, _series(x, y, rows, grid), color=colours[k % len(colours)], label=label)
        panel.set_title(title, loc="left", fontsize="medium")
        _finish_axes(panel, xlabel)
        if len(grid) > 1:  # every panel of a video spans the whole video, whenever its person was seen
            panel.set_xlim(grid[0], grid[-1])
    if ax is not None:
        _legend_outside(ax, _plain(ax.get_lines()), list(scores))
    else:
        axes[0].figure.legend(handles=_plain(axes[0].get_lines()), labels=list(scores), loc="outside right upper",
                              frameon=False)
    return axes[0]


def _plain(lines):
    """Legend keys for lines: their colour and style, without the markers of lone points."""
    Line2D = _line2d()
    return [Line2D([], [], color=line.get_color(), linestyle=line.get_linestyle()) for line in lines]


def _line2d():
    from matplotlib.lines import Line2D

    return Line2D


def _confusion_counts(confusion) -> Tuple[List[str], List[str], np.ndarray]:
    """The true classes, the predicted ones and the counts (rows: truth), or a ValueError that
    says what is wrong with the table."""
    where = "evaluation['confusion']"
    if not isinstance(confusion, Mapping) and not (hasattr(confusion, "columns") and hasattr(confusion, "to_dict")):
        raise ArgumentError(f"{where} must be a table with a 'truth' column and one column of counts per predicted "
                         f"class, as evaluate_scores() returns; got {type(confusion).__name__}.")
    columns = ({name: list(confusion[name]) for name in confusion.columns} if hasattr(confusion, "columns")
               else {name: (list(v) if not isinstance(v, (str, bytes)) and hasattr(v, "__iter__") else v)
                     for name, v in confusion.items()})
    if "truth" not in columns or not isinstance(columns["truth"], list):
        raise ArgumentError(f"{where} has no 'truth' column (the true classes, one per row); "
                         f"its columns are {', '.join(map(str, columns)) or 'none'}. Pass a result of evaluate_scores().")
    truth = [str(t) for t in columns["truth"]]
    predicted = [c for c in columns if c != "truth"]
    if not truth or not predicted:
        raise ArgumentError(f"{where} is empty: it needs at least one true class and one predicted class.")
    counts = np.zeros((len(truth), len(predicted)), dtype=int)
    for j, name in enumerate(predicted):
        cells = columns[name]
        if not isinstance(cells, list):
            raise ArgumentError(f"Column {name!r} of {where} must hold one count per true class; got {cells!r}.")
        if len(cells) != len(truth):
            raise ArgumentError(
                f"Column {name!r} of {where} has {len(cells)} counts, but there are {len(truth)} true classes "
                f"({', '.join(truth)}): every column needs one count per true class (a ragged table)."
            )
        for i, cell in enumerate(cells):
            counts[i, j] = _count(cell, name, truth[i], where)
    return truth, [str(c) for c in predicted], counts


def _count(cell, column: str, row: str, where: str) -> int:
    at = f"{where} at truth {row!r}, predicted {column!r}"
    if _missing(cell):
        raise ArgumentError(f"{at} is missing ({'NA' if current_caller() == 'r' else 'NaN'}); "
                         "a confusion matrix holds whole counts. Pass the result of evaluate_scores() as it is, "
                         "or put 0 where nothing was counted.")
    if isinstance(cell, bool) or not isinstance(cell, numbers.Real):
        raise ArgumentError(f"{at} is {cell!r}, not a count.")
    if not math.isfinite(cell) or cell < 0 or not float(cell).is_integer():
        raise ArgumentError(f"{at} is {cell!r}; counts are whole numbers of 0 or more.")
    return int(cell)


def plot_confusion(evaluation: Mapping, ax=None):
    """The confusion matrix as a heatmap with the count in each cell.

    Rows are the true classes, columns the predicted ones.

    Args:
        evaluation: what ``evaluate_scores`` returns (or ``evaluate_dir``,
            whose ``"evaluation"`` is used).
        ax: a matplotlib Axes to draw into; ``None`` makes a new figure.

    Returns:
        The matplotlib Axes.

    Raises:
        ValueError: ``evaluation`` is not such a result, or its confusion
            table has missing, negative or fractional counts or columns of
            different lengths (the message names the cell or column).
    """
    if isinstance(evaluation, Mapping) and "confusion" not in evaluation and "evaluation" in evaluation:
        evaluation = evaluation["evaluation"]
    if not isinstance(evaluation, Mapping) or "confusion" not in evaluation:
        raise ArgumentError(f"{arg('evaluation')} must be a result of evaluate_scores() or evaluate_dir().")
    truth, predicted, counts = _confusion_counts(evaluation["confusion"])
    if ax is None:
        # Room for each class's row and column, and for long names below and beside.
        (ax,) = _new_axes(width=max(6.4, 2.8 + 0.6 * len(predicted)), height=max(4.8, 2.4 + 0.5 * len(truth)))
    image = ax.imshow(counts, cmap="Blues", vmin=0)
    threshold = counts.max() / 2 if counts.size else 0
    for i in range(len(truth)):
        for j in range(len(predicted)):
            # White text on the dark cells, black on the light ones.
            colour = "white" if counts[i, j] > threshold else "black"
            ax.text(j, i, str(counts[i, j]), ha="center", va="center", color=colour)
    ax.set_xticks(range(len(predicted)), labels=predicted, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(len(truth)), labels=truth)
    ax.set_xlabel("Predicted")
    ax.set_ylabel("Truth")
    ax.figure.colorbar(image, ax=ax, label="Count")
    return ax
