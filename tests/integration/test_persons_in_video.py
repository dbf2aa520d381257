"""People across frames through the public functions: the ``person`` column of video results.

Real material only: tests/clips.py's videos of real LFW faces that cross,
leave and come back (with the truth of who is where), a three-person clip,
and the opencv-doc film Megamind.avi. The truth is never computed by the
code under test: it comes from where the clip maker drew each face.
"""

import math
import warnings

import numpy as np
import pytest

import clips
import transforemotion as te
from conftest import quiet
from transforemotion.cli import main as cli_main

# Every test here tracks people through real or drawn films: about 40 s on 2 cores in all.
pytestmark = pytest.mark.slow

CLASSES = ["joy", "anger"]
STEP = 2  # every second frame of the clips: about 20 pixels of movement per sampled frame


def identity_switches(truth, ids):
    """MOT-style: each time a true person's id differs from their previous one, plus each extra true
    person an id was given to (two people sharing an id)."""
    switches, last, holders = 0, {}, {}
    for who, pid in zip(truth, ids):
        if who in last and last[who] != pid:
            switches += 1
        last[who] = pid
        holders.setdefault(pid, set()).add(who)
    return switches + sum(len(h) - 1 for h in holders.values())


def truth_of_rows(result, clip):
    """(true person, person id, face rank) of every row with a face, from where the clip drew the faces."""
    out = []
    for i, x in enumerate(result["x"]):
        if isinstance(x, float) and math.isnan(x):
            continue
        box = np.array([[x, result["y"][i], x + result["width"][i] - 1, result["y"][i] + result["height"][i] - 1]],
                       dtype=float)
        who = int(clips.truth_of(box, clip.boxes[result["frame"][i]])[0])
        out.append((who, result["person"][i], result["face"][i]))
    return out


def is_missing(v):
    return v is None or (isinstance(v, float) and math.isnan(v))


def plain(column):
    """A column with its missing values as None, so that two columns compare with ==."""
    return [None if is_missing(v) else v for v in column]


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    return clips.two_people(str(tmp_path_factory.mktemp("persons") / "two.avi"))


@pytest.fixture(scope="module")
def two_scored(two, tiny_model):
    return quiet(te.video_scores, two.path, CLASSES, nframes=72, ffreq=STEP, face_selection="all",
                 local_model_path=tiny_model, progress=False)


def test_crossing_and_returning_people_keep_their_ids(two, two_scored):
    result = two_scored
    assert list(result)[:4] == ["frame", "time", "person", "face"]
    rows = truth_of_rows(result, two)
    known = [(w, p, f) for w, p, f in rows if w >= 0]
    assert len(known) >= len(rows) - 2  # the clip is what it claims: nearly every face is someone drawn
    truth, person, rank = zip(*known)
    assert set(truth) == {0, 1}
    assert identity_switches(truth, person) == 0
    assert set(p for p in result["person"] if not is_missing(p)) == {0, 1}
    # the left-to-right rank, the old `face` column, does swap between the two people
    assert identity_switches(truth, rank) > 0


def test_each_person_has_a_row_in_every_sampled_frame_between_first_and_last(two, two_scored):
    result = two_scored
    frames = sorted(set(result["frame"]))
    assert frames == list(range(0, 144, STEP))
    for person in (0, 1):
        seen = [f for f, p in zip(result["frame"], result["person"]) if p == person]
        span = [f for f in frames if seen[0] <= f <= seen[-1]]
        assert seen == span, person  # one row per sampled frame of the span, in order
    # person 0 walks out of the picture (frames ~91-112 drawn nowhere): rows with missing values there
    absent = [i for i, (f, p) in enumerate(zip(result["frame"], result["person"])) if p == 0 and 96 <= f < 112]
    assert len(absent) == 8
    for i in absent:
        assert all(is_missing(result[c][i]) for c in ["face", "x", "y", "width", "height", "confidence"] + CLASSES)
    # where person 0 is drawn whole and not behind person 1, their row has a face
    def clear(f):
        boxes = two.boxes[f]
        if 0 not in boxes or boxes[0][2] - boxes[0][0] < 90:
            return False
        return 1 not in boxes or boxes[1][0] > boxes[0][2] or boxes[1][2] < boxes[0][0]

    drawn = [f for f in frames if clear(f)]
    assert len(drawn) > 40
    with_face = {f for f, p, x in zip(result["frame"], result["person"], result["x"]) if p == 0 and not is_missing(x)}
    assert set(drawn) <= with_face


def test_a_frame_split_between_batches_is_tracked_as_one(two, two_scored, tiny_model, monkeypatch):
    # batch_size=1: each frame's two faces go to the model in two batches; and the faces (with their
    # appearance vectors) are found by a pool of three threads instead of the reader alone
    monkeypatch.setenv("TRANSFOREMOTION_FACE_WORKERS", "3")
    small = quiet(te.video_scores, two.path, CLASSES, nframes=72, ffreq=STEP, face_selection="all",
                  local_model_path=tiny_model, progress=False, batch_size=1)
    assert plain(small["person"]) == plain(two_scored["person"])
    assert plain(small["face"]) == plain(two_scored["face"])


def test_persons_keeps_the_people_seen_most_and_names_relabel_them(two, two_scored, tiny_model):
    one = quiet(te.video_scores, two.path, CLASSES, nframes=72, ffreq=STEP, face_selection="all", persons=1,
                person_names=["stayer"], local_model_path=tiny_model, progress=False)
    # person 1 never leaves, so has more rows than person 0: only their rows are left, one per frame,
    # and they are person 0 of the result (persons=N numbers the people kept 0 .. N-1)
    assert one["person"] == ["stayer"] * 72
    rows = [i for i, p in enumerate(two_scored["person"]) if p == 1]
    for column in ["frame", "face", "x", "confidence"] + CLASSES:
        assert plain(one[column]) == plain([two_scored[column][i] for i in rows]), column


def test_person_options_are_checked_before_any_work(tiny_model):
    missing = "no-such-video.mp4"  # checked later: these errors come first
    with pytest.raises(ValueError, match="face_selection='all'"):
        te.video_scores(missing, CLASSES, persons=2, local_model_path=tiny_model)
    with pytest.raises(ValueError, match="persons"):
        te.video_scores(missing, CLASSES, face_selection="all", persons=0, local_model_path=tiny_model)
    with pytest.raises(ValueError, match="differently"):
        te.video_scores(missing, CLASSES, face_selection="all", person_names=["a", "a"], local_model_path=tiny_model)


def test_three_people_crossing_and_a_newcomer(tmp_path, tiny_model):
    clip = clips.three_people(str(tmp_path / "three.avi"))
    result = quiet(te.video_scores, clip.path, CLASSES, nframes=60, ffreq=STEP, face_selection="all",
                   local_model_path=tiny_model, progress=False)
    known = [(w, p) for w, p, _ in truth_of_rows(result, clip) if w >= 0]
    truth, person = zip(*known)
    assert set(truth) == {0, 1, 2}
    assert identity_switches(truth, person) == 0
    assert set(p for p in result["person"] if not is_missing(p)) == {0, 1, 2}
    # the newcomer is the third person, first seen after the other two
    first = {p: result["frame"][result["person"].index(p)] for p in (0, 1, 2)}
    assert first[0] == first[1] == 0 and first[2] > 60


def test_persons_numbers_the_people_kept_from_0_so_names_name_exactly_them(tmp_path, tiny_model):
    """A dyad and a passer-by first seen between them (ids 0, 1, 2 without persons=); persons=2 keeps
    the two seen longest as 0 and 1, and the dyad's names name exactly them, with no warning, in
    video_scores, vad_scores, read_corpus and the command line."""
    clip = clips.a_passer_by(str(tmp_path / "three.avi"))
    common = dict(nframes=30, ffreq=STEP, face_selection="all", local_model_path=tiny_model, progress=False)
    everyone = quiet(te.video_scores, clip.path, CLASSES, **common)
    truth = dict((p, w) for w, p, _ in truth_of_rows(everyone, clip))
    assert truth == {0: 0, 1: 1, 2: 2}  # the passer-by is person 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dyad = te.video_scores(clip.path, CLASSES, persons=2, person_names=["roxanne", "bernard"], **common)
    assert [str(w.message) for w in caught if "person" in str(w.message)] == []
    assert set(dyad["person"]) == {"roxanne", "bernard"}
    numbered = quiet(te.video_scores, clip.path, CLASSES, persons=2, **common)
    assert set(numbered["person"]) == {0, 1}
    assert dict((p, w) for w, p, _ in truth_of_rows(numbered, clip)) == {0: 0, 1: 2}
    rows = [i for i, p in enumerate(everyone["person"]) if p in (0, 2)]
    assert plain(numbered["anger"]) == plain([everyone["anger"][i] for i in rows])
    vad = quiet(te.vad_scores, clip.path, persons=2, person_names=["roxanne", "bernard"], **common)
    assert set(vad["person"]) == {"roxanne", "bernard"}
    out = str(tmp_path / "corpus")
    quiet(te.score_corpus, [clip.path], CLASSES, out, unit_size=8, persons=2, **common)
    assert plain(quiet(te.read_corpus, out)["person"]) == plain(numbered["person"])
    assert plain(quiet(te.read_corpus, out, persons=3)["person"]) == plain(everyone["person"])
    csv = tmp_path / "dyad.csv"
    assert cli_main(["video", clip.path, "--classes", *CLASSES, "--face-selection", "all", "--nframes", "30",
                     "--ffreq", str(STEP), "--persons", "2", "--person-names", "therapist", "client",
                     "--local-model-path", tiny_model, "--quiet", "-o", str(csv)]) == 0
    assert {line.split(",")[2] for line in csv.read_text().splitlines()[1:]} == {"therapist", "client"}
    # a name for a person persons= does not keep is refused before any work
    with pytest.raises(ValueError, match="persons=2"):
        te.video_scores("no-such.avi", CLASSES, persons=2, person_names=["a", "b", "c"], **common)


# Megamind.avi (opencv-doc): shots by frame number, as seen when looking at the frames. 5-95: Roxanne
# (the large face) at a table with a man in the background (the small face); 100-150: a man in glasses;
# 155-195: Roxanne again; 200-265: the man in glasses again, close up.
MEGAMIND_SHOTS = ((5, 95), (100, 150), (155, 195), (200, 265))


def megamind_person(frame, width):
    if frame <= 95:
        return "roxanne" if width > 90 else "background man"
    return "roxanne" if 155 <= frame <= 195 else "man in glasses"


def test_real_film_people_are_stable_within_shots_and_never_merged(tmp_path, tiny_model):
    from face_corpus import DEBIAN_SAMPLES, samples_folder

    film = samples_folder() / "Megamind.avi"
    if not film.is_file():
        pytest.skip(f"Megamind.avi is not in {samples_folder()} (Debian's opencv-doc, {DEBIAN_SAMPLES})")
    result = quiet(te.video_scores, str(film), CLASSES, nframes=54, ffreq=5, face_selection="all",
                   local_model_path=tiny_model, progress=False)
    faces = [i for i, x in enumerate(result["x"]) if not is_missing(x)]
    holders = {}
    for i in faces:
        holders.setdefault(result["person"][i], set()).add(megamind_person(result["frame"][i], result["width"][i]))
    assert all(len(h) == 1 for h in holders.values()), holders  # no id for two people
    assert len(holders) == 3  # one id for each of the three people, across the cuts
    for first, last in MEGAMIND_SHOTS:  # within a shot, the same people from sampled frame to sampled frame
        ids = {result["frame"][i]: set() for i in faces if first <= result["frame"][i] <= last}
        for i in faces:
            if first <= result["frame"][i] <= last:
                ids[result["frame"][i]].add(result["person"][i])
        assert len({frozenset(v) for v in ids.values()}) == 1, (first, ids)
    # measured: each of the three people keeps one id across the cuts, and the ids differ
    names = {megamind_person(result["frame"][i], result["width"][i]): result["person"][i] for i in faces}
    assert len(set(names.values())) == len(names) == 3


def test_corpus_gives_the_ids_video_scores_gives_across_units(two, two_scored, tiny_model, tmp_path):
    out = str(tmp_path / "corpus")
    quiet(te.score_corpus, [two.path], CLASSES, out, nframes=72, ffreq=STEP, face_selection="all", unit_size=10,
          persons=1, local_model_path=tiny_model, progress=False)
    kept = te.read_corpus(out)  # the recorded persons=1
    assert set(kept["person"]) == {0} and len(kept["person"]) == 72  # the stayer, numbered 0 among those kept
    everyone = te.read_corpus(out, persons=2)
    assert list(everyone)[:5] == ["source", "frame", "time", "person", "face"]
    for column in two_scored:
        assert plain(everyone[column]) == plain(two_scored[column]), column
    with pytest.raises(ValueError, match="persons"):
        te.read_corpus(out, persons=0)


def test_corpus_scored_before_parts_kept_appearance_is_followed_on_motion(two, tiny_model, tmp_path):
    import os

    import pyarrow.parquet as pq

    out = tmp_path / "old"
    quiet(te.score_corpus, [two.path], CLASSES, str(out), nframes=72, ffreq=STEP, face_selection="all",
          unit_size=40, local_model_path=tiny_model, progress=False)
    for name in os.listdir(out / "parts"):
        part = pq.read_table(out / "parts" / name)
        pq.write_table(part.drop([c for c in part.column_names if c.startswith("_")]), out / "parts" / name)
    result = te.read_corpus(str(out))
    known = [(w, p) for w, p, _ in truth_of_rows(result, two) if w >= 0]
    truth, person = zip(*known)
    # motion alone follows the crossing; the person who left comes back as someone new (documented)
    assert set(p for p in result["person"] if not is_missing(p)) == {0, 1, 2}
    assert identity_switches(truth, person) == 1


def test_command_line_video_with_persons_and_names(two, tiny_model, tmp_path, capsys):
    out = tmp_path / "scores.csv"
    code = cli_main(["video", two.path, "--classes", *CLASSES, "--face-selection", "all", "--nframes", "72",
                     "--ffreq", str(STEP), "--persons", "2", "--person-names", "0=walker", "1=stayer",
                     "--local-model-path", tiny_model, "--quiet", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    lines = out.read_text().splitlines()
    header = lines[0].split(",")
    assert header[:4] == ["frame", "time", "person", "face"]
    people = [line.split(",")[2] for line in lines[1:]]
    assert set(people) == {"walker", "stayer"} and people[:2] == ["walker", "stayer"]
    code = cli_main(["video", two.path, "--classes", *CLASSES, "--persons", "2", "--local-model-path", tiny_model])
    assert code == 2 and "--face-selection all" in capsys.readouterr().err


def test_plot_draws_one_panel_per_person_over_a_shared_time_axis(two_scored):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    named = dict(two_scored, person=["walker" if p == 0 else "stayer" if p == 1 else p for p in two_scored["person"]])
    for result, titles in ((two_scored, ["person 0", "person 1"]), (named, ["person stayer", "person walker"])):
        ax = te.plot_scores(result)
        axes = ax.figure.axes
        assert [a.get_title(loc="left") for a in axes] == titles
        assert len({a.get_xlim() for a in axes}) == 1  # one time axis
        # the walker's panel breaks while they are out of the picture: NaN in its joy line there
        walker = axes[0] if titles[0].endswith(("0", "walker")) else axes[1]
        x, y = walker.get_lines()[0].get_data()
        assert np.isnan(np.asarray(y, float)[(x >= 96 / 25) & (x < 112 / 25)]).all()
        plt.close(ax.figure)


def test_command_line_vad_and_corpus_take_the_person_flags(face_video, tiny_model, tmp_path, capsys):
    out = tmp_path / "vad.csv"
    code = cli_main(["vad", face_video, "--dimensions", "valence", "--face-selection", "all", "--nframes", "3",
                     "--ffreq", "10", "--persons", "1", "--person-names", "solo", "--local-model-path", tiny_model,
                     "--quiet", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    lines = out.read_text().splitlines()
    assert lines[0].split(",")[:4] == ["frame", "time", "person", "face"]
    assert [line.split(",")[2] for line in lines[1:]] == ["solo"] * 3
    table = tmp_path / "corpus.csv"
    code = cli_main(["corpus", face_video, "--classes", *CLASSES, "--output-dir", str(tmp_path / "corpus"),
                     "--face-selection", "all", "--nframes", "3", "--ffreq", "10", "--persons", "1",
                     "--local-model-path", tiny_model, "--quiet", "-o", str(table)])
    assert code == 0, capsys.readouterr().err
    lines = table.read_text().splitlines()
    assert lines[0].split(",")[:5] == ["source", "frame", "time", "person", "face"]
    assert [line.split(",")[3] for line in lines[1:]] == ["0"] * 3
    code = cli_main(["corpus", face_video, "--classes", *CLASSES, "--output-dir", str(tmp_path / "other"),
                     "--persons", "1", "--local-model-path", tiny_model])
    assert code == 2 and "--face-selection all" in capsys.readouterr().err
