"""plot_scores and plot_confusion, drawn with the Agg backend into files."""

import math
import sys

import numpy as np
import pytest

import transforemotion as te

import matplotlib  # the plot extra; tests run with it installed

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


VIDEO = {
    "frame": [0, 15, 30, 45, 60],
    "time": [0.0, 0.5, 1.0, 1.5, 2.0],
    "joy": [0.7, 0.6, math.nan, 0.3, 0.2],
    "anger": [0.2, 0.3, math.nan, 0.5, 0.6],
    "surprise": [0.1, 0.1, math.nan, 0.2, 0.2],
}


def test_plot_scores_one_line_per_label_against_time_with_a_gap(tmp_path):
    ax = te.plot_scores(VIDEO)
    ax.figure.savefig(tmp_path / "scores.png")
    assert (tmp_path / "scores.png").stat().st_size > 0
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["joy", "anger", "surprise"]  # frame and time are not labels
    assert ax.get_xlabel() == "Time (s)"
    x, y = lines[0].get_data()
    assert list(x) == VIDEO["time"]
    assert np.isnan(y[2]) and list(y[[0, 1, 3, 4]]) == [0.7, 0.6, 0.3, 0.2]  # NaN: matplotlib breaks the line there
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["joy", "anger", "surprise"]


def test_plot_scores_falls_back_to_frame_then_row():
    without_time = {k: v for k, v in VIDEO.items() if k != "time"}
    fig, (left, right) = plt.subplots(1, 2)
    assert te.plot_scores(without_time, ax=left) is left
    assert left.get_xlabel() == "Frame" and list(left.get_lines()[0].get_xdata()) == VIDEO["frame"]
    labels_only = {k: VIDEO[k] for k in ("joy", "anger")}
    te.plot_scores(labels_only, ax=right)
    assert right.get_xlabel() == "Row" and list(right.get_lines()[1].get_xdata()) == [0, 1, 2, 3, 4]


def test_plot_confusion_cells_hold_the_counts(tmp_path):
    evaluation = {"confusion": {"truth": ["joy", "anger", "fear"], "joy": [2, 1, 0], "anger": [0, 1, 0],
                                "fear": [0, 1, 1]}}
    ax = te.plot_confusion(evaluation)
    ax.figure.savefig(tmp_path / "confusion.png")
    # row-major: truth joy (2 0 0), anger (1 1 1), fear (0 0 1)
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}
    assert cells == {
        (0, 0): "2", (0, 1): "0", (0, 2): "0",
        (1, 0): "1", (1, 1): "1", (1, 2): "1",
        (2, 0): "0", (2, 1): "0", (2, 2): "1",
    }
    assert [t.get_text() for t in ax.get_xticklabels()] == ["joy", "anger", "fear"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["joy", "anger", "fear"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Predicted", "Truth")
    assert ax.images[0].get_array()[1, 2] == 1


def test_plot_confusion_takes_evaluate_dir_result_and_real_evaluation():
    scores = {"joy": [0.9, 0.2, 0.6], "anger": [0.1, 0.8, 0.4]}
    evaluation = te.evaluate_scores(scores, ["joy", "anger", "anger"])
    ax = te.plot_confusion({"scores": scores, "evaluation": evaluation})
    # truth joy -> joy; truth anger -> anger once, joy once
    assert sorted(t.get_text() for t in ax.texts) == ["0", "1", "1", "1"]


def test_missing_matplotlib_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install 'transforemotion\[plot\]'"):
        te.plot_scores(VIDEO)
