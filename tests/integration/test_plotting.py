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


# --- a plain savefig keeps everything (issue 21, newcomer friction 3) ------------------------

def _outside_the_figure(fig, artists):
    """The named artists whose drawn extent pokes out of the figure, after a plain savefig."""
    renderer = fig.canvas.get_renderer()
    page = fig.bbox
    out = []
    for name, artist in artists:
        box = artist.get_window_extent(renderer)
        if box.width == 0 and box.height == 0:
            continue  # not drawn (an empty tick label)
        if box.x0 < page.x0 - 0.5 or box.y0 < page.y0 - 0.5 or box.x1 > page.x1 + 0.5 or box.y1 > page.y1 + 0.5:
            out.append(f"{name} {tuple(round(v) for v in box.extents)} vs figure {tuple(round(v) for v in page.extents)}")
    return out


def _shown(labels, axis, which):
    """Tick labels within the view (matplotlib keeps, but does not draw, those beyond it)."""
    lo, hi = sorted(axis.get_view_interval())
    return [t for t in labels if t.get_text() and lo - 1e-9 <= t.get_position()[which] <= hi + 1e-9]


def _axes_texts(ax, prefix=""):
    return ([(prefix + "xlabel", ax.xaxis.label), (prefix + "ylabel", ax.yaxis.label), (prefix + "title", ax.title)]
            + [(prefix + f"xtick {t.get_text()!r}", t) for t in _shown(ax.get_xticklabels(), ax.xaxis, 0)]
            + [(prefix + f"ytick {t.get_text()!r}", t) for t in _shown(ax.get_yticklabels(), ax.yaxis, 1)])


LONG = {"time": [0.0, 0.5, 1.0], "pleasant surprise": [0.2, 0.3, 0.4], "contemptuous disgust": [0.8, 0.7, 0.6]}


@pytest.mark.parametrize("result", [VIDEO, LONG], ids=["short labels", "long labels"])
def test_plot_scores_saved_plainly_keeps_legend_and_labels(tmp_path, result):
    ax = te.plot_scores(result)
    fig = ax.figure
    fig.savefig(tmp_path / "scores.png")
    legend = ax.get_legend()
    assert legend is not None and [t.get_text() for t in legend.get_texts()] == [k for k in result if k != "frame" and k != "time"]
    artists = [("legend", legend)] + [(f"legend text {t.get_text()!r}", t) for t in legend.get_texts()] + _axes_texts(ax)
    assert _outside_the_figure(fig, artists) == []
    picture = plt.imread(tmp_path / "scores.png")
    assert picture.shape[:2] == (round(fig.bbox.height), round(fig.bbox.width))


def test_plot_confusion_saved_plainly_keeps_predicted_and_the_tick_labels(tmp_path):
    classes = ["happiness", "contemptuous disgust", "fear"]
    evaluation = {"confusion": {"truth": classes, "happiness": [5, 1, 0], "contemptuous disgust": [0, 12, 0],
                                "fear": [0, 1, 3]}}
    ax = te.plot_confusion(evaluation)
    fig = ax.figure
    fig.savefig(tmp_path / "confusion.png")
    colorbar_axes = [a for a in fig.axes if a is not ax]
    assert len(colorbar_axes) == 1 and colorbar_axes[0].get_ylabel() == "Count"
    artists = _axes_texts(ax) + _axes_texts(colorbar_axes[0], "colorbar ")
    assert [t.get_text() for t in ax.get_xticklabels()] == classes
    assert _outside_the_figure(fig, artists) == []


# --- face_selection="all": never a line between two faces (issue 21, hostile item 7) ---------

nan = math.nan
# Two faces in frames 0, 15 and 45, none in frame 30, only face 0 in frame 60; the faces'
# scores differ, so a line that joined them would go up and down within one frame.
FACES = {
    "frame": [0, 0, 15, 15, 30, 45, 45, 60],
    "time": [0.0, 0.0, 0.5, 0.5, 1.0, 1.5, 1.5, 2.0],
    "face": [0, 1, 0, 1, nan, 0, 1, 0],
    "x": [10, 90, 12, 88, nan, 11, 91, 13],
    "confidence": [0.99, 0.98, 0.99, 0.97, nan, 0.99, 0.96, 0.99],
    "joy": [0.8, 0.1, 0.7, 0.2, nan, 0.75, 0.15, 0.9],
    "anger": [0.1, 0.8, 0.2, 0.7, nan, 0.2, 0.8, 0.05],
    "surprise": [0.1, 0.1, 0.1, 0.1, nan, 0.05, 0.05, 0.05],
}


def _points(line):
    """The (time, score) points a line draws, NaN gaps left out."""
    x, y = (np.asarray(v, dtype=float) for v in line.get_data())
    keep = ~np.isnan(y)
    return list(zip(x[keep].tolist(), y[keep].tolist()))


def _never_two_faces_at_once(lines):
    for line in lines:
        times = [t for t, _ in _points(line)]
        assert len(times) == len(set(times)), f"{line.get_label()} joins rows of one time: {_points(line)}"


def test_every_face_gets_its_own_panel_over_a_shared_time_axis(tmp_path):
    ax = te.plot_scores(FACES)
    fig = ax.figure
    fig.savefig(tmp_path / "faces.png")
    panels = [a for a in fig.axes if a.get_lines()]
    assert ax is panels[0] and [p.get_title(loc="left") for p in panels] == ["face 0", "face 1"]
    for panel in panels:
        assert [line.get_label() for line in panel.get_lines()] == ["joy", "anger", "surprise"]
        _never_two_faces_at_once(panel.get_lines())
        assert panel.get_xlim() == (0.0, 2.0)  # the whole video in each panel
    assert panels[0].get_shared_x_axes().joined(panels[0], panels[1])
    joy0, joy1 = (p.get_lines()[0] for p in panels)
    assert _points(joy0) == [(0.0, 0.8), (0.5, 0.7), (1.5, 0.75), (2.0, 0.9)]
    assert _points(joy1) == [(0.0, 0.1), (0.5, 0.2), (1.5, 0.15)]
    # no face in frame 30: a gap in both panels, not a line across it
    for panel in panels:
        x, y = panel.get_lines()[0].get_data()
        assert math.isnan(y[list(x).index(1.0)])
    # face 1's lone row at 1.5 s has no neighbour to join: it is marked so that it shows
    assert list(joy1.get_markevery()) == [3] and joy1.get_marker() == "o"
    legend = fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == ["joy", "anger", "surprise"]
    artists = [("legend", legend)] + [a for p in panels for a in _axes_texts(p, p.get_title(loc="left") + " ")]
    assert _outside_the_figure(fig, artists) == []


def test_faces_in_a_given_axes_get_a_line_style_each(tmp_path):
    fig, ax = plt.subplots()
    assert te.plot_scores(FACES, ax=ax) is ax
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == [f"{label}, face {f}" for f in (0, 1)
                                                    for label in ("joy", "anger", "surprise")]
    _never_two_faces_at_once(lines)
    assert lines[0].get_linestyle() != lines[3].get_linestyle()  # joy of face 0 and of face 1
    assert lines[0].get_color() == lines[3].get_color()  # one colour per label
    assert _points(lines[3]) == [(0.0, 0.1), (0.5, 0.2), (1.5, 0.15)]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["joy", "anger", "surprise", "face 0", "face 1"]
    fig.savefig(tmp_path / "faces_in_ax.png")
    assert _outside_the_figure(fig, [("legend", ax.get_legend())]) == []  # no room was made: it sits inside


def test_a_person_column_is_used_before_face_and_is_no_label():
    # Persons 7 and 3 swap places (face index) at 0.5 s; a person's line follows the person.
    with_people = dict(FACES, person=[7, 3, 3, 7, nan, 7, 3, 7])
    ax = te.plot_scores(with_people)
    panels = [a for a in ax.figure.axes if a.get_lines()]
    assert [p.get_title(loc="left") for p in panels] == ["person 3", "person 7"]
    for panel in panels:
        assert [line.get_label() for line in panel.get_lines()] == ["joy", "anger", "surprise"]
        _never_two_faces_at_once(panel.get_lines())
    assert _points(panels[0].get_lines()[0]) == [(0.0, 0.1), (0.5, 0.7), (1.5, 0.15)]
    assert _points(panels[1].get_lines()[0]) == [(0.0, 0.8), (0.5, 0.2), (1.5, 0.75), (2.0, 0.9)]


def test_a_result_without_faces_keeps_one_line_per_label():
    ax = te.plot_scores(VIDEO)
    assert len(ax.figure.axes) == 1 and len(ax.get_lines()) == 3


# --- confusion tables that are not counts (issue 21, hostile item 6) ----------------------------

def _confusion(**columns):
    return {"confusion": {"truth": ["joy", "anger", "fear"], **columns}}


def test_plot_confusion_names_a_missing_count():
    bad = _confusion(joy=[2, 1, 0], anger=[0, 1, 0], fear=[0, float("nan"), 1])
    with pytest.raises(ValueError, match=r"at truth 'anger', predicted 'fear' is missing \(NaN\)"):
        te.plot_confusion(bad)


def test_plot_confusion_names_a_ragged_column():
    bad = _confusion(joy=[2, 1, 0], anger=[0, 1], fear=[0, 1, 1])
    with pytest.raises(ValueError, match=r"Column 'anger' .* has 2 counts, but there are 3 true classes"):
        te.plot_confusion(bad)


@pytest.mark.parametrize("cell", [1.5, -1, "3", math.inf])
def test_plot_confusion_refuses_what_is_not_a_count(cell):
    with pytest.raises(ValueError, match=r"at truth 'fear', predicted 'joy'"):
        te.plot_confusion(_confusion(joy=[2, 1, cell], anger=[0, 1, 0], fear=[0, 1, 1]))


def test_plot_confusion_takes_whole_floats_and_a_dataframe():
    pd = pytest.importorskip("pandas")
    table = {"truth": ["joy", "anger"], "joy": [2.0, 1.0], "anger": [0.0, 3.0]}
    ax = te.plot_confusion({"confusion": pd.DataFrame(table)})
    assert sorted(t.get_text() for t in ax.texts) == ["0", "1", "2", "3"]


def corpus_of(videos, people=(0,), frames=4):
    """read_corpus's columns for ``videos``, each with ``people`` in every sampled frame (every 10th),
    video k's scores offset by k so that a line's points show which video they came from."""
    out = {name: [] for name in ("source", "frame", "time", "person", "face", "joy", "anger")}
    for k, video in enumerate(videos):
        for f in range(frames):
            for p in people:
                for name, v in (("source", video), ("frame", 10 * f), ("time", 0.4 * f), ("person", p),
                                ("face", p), ("joy", 0.1 * k + 0.01 * p), ("anger", 0.5)):
                    out[name].append(v)
    return out


def test_a_corpus_gets_a_panel_per_video_and_person_on_its_own_time_axis(tmp_path):
    videos = ["a.mp4", "b.mp4", "c.mp4", "sub/d.mp4"]
    ax = te.plot_scores(corpus_of(videos, people=(0, 1)))
    ax.figure.savefig(tmp_path / "corpus.png")
    axes = ax.figure.axes
    assert [a.get_title(loc="left") for a in axes] == [f"{v}: person {p}" for v in videos for p in (0, 1)]
    for k, panel in enumerate(axes):
        for line in panel.get_lines():
            x, y = line.get_data()
            assert np.allclose(x, [0.0, 0.4, 0.8, 1.2])  # one video's times, once each: no line runs back in time
            if line.get_label() == "joy":  # the points of one video and one person only
                assert np.allclose(y, 0.1 * (k // 2) + 0.01 * (k % 2))
    # without persons (face_selection="largest"): a panel per video
    plain = {name: v for name, v in corpus_of(videos).items() if name not in ("person", "face")}
    assert [a.get_title(loc="left") for a in te.plot_scores(plain).figure.axes] == videos
    with pytest.raises(ValueError, match="4 videos"):
        te.plot_scores(plain, ax=plt.subplots()[1])
    one = te.plot_scores({name: v[:4] for name, v in plain.items()}, ax=plt.subplots()[1])
    assert len(one.get_lines()) == 2
