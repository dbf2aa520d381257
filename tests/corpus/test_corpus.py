"""score_corpus / read_corpus with the local engine: same rows as video_scores and image_scores_dir,
resuming after a real kill, failures recorded without stopping the rest, refused changes, manifests."""

import csv
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest

import transforemotion as te
from conftest import quiet
from transforemotion.core.errors import FolderInUseError
from transforemotion.corpus.store import CorpusFolder

pytest.importorskip("pyarrow")

CLASSES = ["joy", "anger", "surprise"]
SAMPLING = dict(nframes=10, ffreq=3)


def rows_of(result, source, column="source"):
    return [i for i, s in enumerate(result[column]) if s == source]


def assert_same_rows(corpus_rows, reference, indices, columns):
    for name in columns:
        got = np.array([corpus_rows[name][i] for i in indices], dtype=float)
        want = np.array(reference[name], dtype=float)
        assert got.shape == want.shape, name
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6, equal_nan=True, err_msg=name)


@pytest.mark.parametrize("selection, boxes", [("largest", True), ("all", False)])
def test_rows_equal_video_scores_and_image_scores_dir(tiny_model, corpus, tmp_path, selection, boxes):
    out = str(tmp_path / "out")
    summary = te.score_corpus(str(corpus), CLASSES, out, face_selection=selection, face_boxes=boxes,
                              unit_size=4, local_model_path=tiny_model, progress=False, **SAMPLING)
    # 10 frames per video in units of 4: 3 units each; 5 images: 2 units.
    assert summary["kind"] == ["video"] * 6 + ["images"] * 2
    assert set(summary["status"]) == {"scored"}
    result = te.read_corpus(out)
    face_columns = (["person", "face"] if selection == "all" else []) + ["x", "y", "width", "height", "confidence"]
    assert list(result) == ["source", "frame", "time"] + face_columns + CLASSES
    assert list(dict.fromkeys(result["source"])) == ["a_moving.avi", "b_two.avi", "c_group.png", "d_face.jpg",
                                                    "e_blank.png", "f_mirror.jpg", "g_small.png"]
    numeric = ["frame", "time"] + face_columns + CLASSES
    for video in ("a_moving.avi", "b_two.avi"):
        expected = quiet(te.video_scores, str(corpus / video), CLASSES, face_selection=selection, face_boxes=boxes,
                         timestamps=True, local_model_path=tiny_model, progress=False, **SAMPLING)
        assert_same_rows(result, expected, rows_of(result, video), numeric)
    images = quiet(te.image_scores_dir, str(corpus), CLASSES, face_selection=selection, face_boxes=boxes,
                   local_model_path=tiny_model, progress=False)
    image_rows = [i for i, s in enumerate(result["source"]) if not s.endswith(".avi")]
    assert [result["source"][i] for i in image_rows] == images["image_id"]
    assert all(np.isnan(result["frame"][i]) and np.isnan(result["time"][i]) for i in image_rows)
    image_columns = [c for c in face_columns if c != "person"]  # images are not people followed in time
    assert_same_rows(result, images, image_rows, image_columns + CLASSES)
    if selection == "all":
        assert all(np.isnan(result["person"][i]) for i in image_rows)
    # The face leaves the picture in a_moving.avi: those rows are missing values, not dropped.
    moving = rows_of(result, "a_moving.avi")
    assert np.isnan(result["joy"][moving[-1]]) and not np.isnan(result["joy"][moving[0]])
    if selection == "all":
        assert max(result["face"][i] for i in rows_of(result, "c_group.png")) == 1


def test_a_rerun_skips_finished_units_and_says_so(tiny_model, corpus, tmp_path, capsys):
    out = str(tmp_path / "out")
    te.score_corpus(str(corpus), CLASSES, out, unit_size=4, local_model_path=tiny_model, progress=False, **SAMPLING)
    first = te.read_corpus(out)
    capsys.readouterr()
    summary = te.score_corpus(str(corpus), CLASSES, out, unit_size=4, local_model_path=tiny_model, progress=True,
                              **SAMPLING)
    assert set(summary["status"]) == {"skipped"}
    assert "8 of 8 units" in capsys.readouterr().err
    again = te.read_corpus(out)
    assert again["source"] == first["source"]
    for c in CLASSES:
        np.testing.assert_array_equal(again[c], first[c])


CHILD = textwrap.dedent("""
    import sys, time
    import transforemotion as te
    from transforemotion import models

    # Slow every forward pass down so that the parent's kill lands in the middle of the run.
    embed = models.VisionLanguageModel.embed_images
    def slow(self, images):
        time.sleep(0.15)
        return embed(self, images)
    models.VisionLanguageModel.embed_images = slow
    te.score_corpus(sys.argv[1], ["joy", "anger", "surprise"], sys.argv[2], nframes=15, ffreq=2, unit_size=2,
                    face_selection="none", local_model_path=sys.argv[3], progress=False)
""")


def part_files(out):
    parts = os.path.join(out, "parts")
    return sorted(n for n in os.listdir(parts) if n.endswith(".parquet")) if os.path.isdir(parts) else []


@pytest.mark.slow
def test_a_killed_run_resumes_without_recomputing_or_losing_anything(tiny_model, corpus, tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    for name in ("a_moving.avi", "b_two.avi"):
        shutil.copy(corpus / name, videos / name)
    out = str(tmp_path / "out")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(os.path.dirname(te.__file__)), os.environ.get("PYTHONPATH", "")]))
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(videos), out, tiny_model], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(part_files(out)) < 3 and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    _, err = child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL, err.decode()
    finished = part_files(out)
    # 15 frames of each of the two videos, 2 frames a unit: 16 units.
    assert 3 <= len(finished) < 16, "the kill should land part-way through the 16 units"
    before = {n: os.stat(os.path.join(out, "parts", n)) for n in finished}

    with pytest.warns(te.TransforemotionWarning, match="not scored yet"):
        partial = te.read_corpus(out)
    assert len(partial["joy"]) == 2 * len(finished)

    summary = te.score_corpus(str(videos), CLASSES, out, nframes=15, ffreq=2, unit_size=2, face_selection="none",
                              local_model_path=tiny_model, progress=False)
    assert summary["status"].count("skipped") == len(finished)
    assert summary["status"].count("scored") == 16 - len(finished)
    for name, stat in before.items():
        now = os.stat(os.path.join(out, "parts", name))
        assert (now.st_ino, now.st_mtime_ns, now.st_size) == (stat.st_ino, stat.st_mtime_ns, stat.st_size), name
    assert not [n for n in os.listdir(os.path.join(out, "parts")) if n.endswith(".tmp")]

    resumed = te.read_corpus(out)
    fresh_dir = str(tmp_path / "fresh")
    te.score_corpus(str(videos), CLASSES, fresh_dir, nframes=15, ffreq=2, unit_size=2, face_selection="none",
                    local_model_path=tiny_model, progress=False)
    fresh = te.read_corpus(fresh_dir)
    assert resumed["source"] == fresh["source"] and resumed["frame"] == fresh["frame"]
    assert len(resumed["frame"]) == 30
    for c in CLASSES:
        np.testing.assert_allclose(resumed[c], fresh[c], rtol=0, atol=1e-6)


def truncated_copy(src, dst, keep=0.5):
    with open(src, "rb") as fh:
        data = fh.read()
    with open(dst, "wb") as fh:
        fh.write(data[: int(len(data) * keep)])
    return str(dst)


def test_unreadable_files_are_failures_that_do_not_stop_the_rest(tiny_model, corpus, tmp_path):
    good = str(corpus / "a_moving.avi")
    truncated = truncated_copy(good, tmp_path / "truncated.avi")
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(os.urandom(4000))
    bad_image = tmp_path / "bad.jpg"
    bad_image.write_text("not a picture")
    missing = str(tmp_path / "gone.avi")
    inputs = [good, truncated, str(garbage), missing, str(corpus / "d_face.jpg"), str(bad_image)]
    out = str(tmp_path / "out")
    with pytest.warns(te.TransforemotionWarning, match=r"units could not be scored completely") as caught:
        summary = te.score_corpus(inputs, CLASSES, out, face_selection="none", local_model_path=tiny_model,
                                  progress=False, **SAMPLING)
    assert len([w for w in caught if "could not be scored" in str(w.message)]) == 1
    assert "failures.csv" in str(caught[-1].message)
    with open(os.path.join(out, "failures.csv"), newline="") as fh:
        failures = list(csv.DictReader(fh))
    reasons = {row["source"]: row["reason"] for row in failures}
    assert set(reasons) == {truncated, str(garbage), missing, str(bad_image)}
    assert "not found" in reasons[missing]
    assert "could not be decoded" in reasons[truncated]
    assert "could not be opened" in reasons[str(garbage)] or "no video frames" in reasons[str(garbage)]

    with pytest.warns(te.TransforemotionWarning, match="incomplete"):
        result = te.read_corpus(out)
    # The good video and image are complete; the truncated video keeps the frames before the damage,
    # exactly as video_scores reads them; the unreadable image keeps a row of missing values.
    expected = quiet(te.video_scores, good, CLASSES, face_selection="none", timestamps=True,
                     local_model_path=tiny_model, progress=False, **SAMPLING)
    assert_same_rows(result, expected, rows_of(result, good), ["frame", "time"] + CLASSES)
    damaged = quiet(te.video_scores, truncated, CLASSES, face_selection="none", timestamps=True,
                    local_model_path=tiny_model, progress=False, **SAMPLING)
    assert np.isnan(damaged["joy"]).any() and not np.isnan(damaged["joy"]).all()
    assert_same_rows(result, damaged, rows_of(result, truncated), ["frame", "time"] + CLASSES)
    assert not rows_of(result, missing) and not rows_of(result, str(garbage))
    assert np.isnan(result["joy"][rows_of(result, str(bad_image))[0]])
    assert not np.isnan(result["joy"][rows_of(result, str(corpus / "d_face.jpg"))[0]])
    assert summary["status"].count("failed") == 4

    # A rerun tries the failed units again (and only them); once the file is back, it is scored.
    shutil.copy(good, missing)
    with pytest.warns(te.TransforemotionWarning, match="3 of"):
        again = te.score_corpus(inputs, CLASSES, out, face_selection="none", local_model_path=tiny_model,
                                progress=False, **SAMPLING)
    status = dict(zip(again["source"], again["status"]))
    assert status[good] == "skipped" and status[missing] == "scored" and status[truncated] == "failed"
    with open(os.path.join(out, "failures.csv"), newline="") as fh:
        assert missing not in {row["source"] for row in csv.DictReader(fh)}


def test_changed_arguments_are_refused_and_overwrite_deletes_only_our_files(tiny_model, corpus, tmp_path):
    out = tmp_path / "out"
    video = [str(corpus / "a_moving.avi")]
    te.score_corpus(video, CLASSES, str(out), face_selection="none", local_model_path=tiny_model, progress=False,
                    **SAMPLING)
    (out / "my notes.txt").write_text("keep me")
    (out / "parts" / "mine.parquet").write_text("keep me too")
    for change in (dict(classes=["joy", "fear"]), dict(nframes=5), dict(uniform=True), dict(unit_size=3)):
        args = dict(classes=CLASSES, face_selection="none", local_model_path=tiny_model, progress=False, **SAMPLING)
        args.update(change)
        name = next(iter(change))
        with pytest.raises(ValueError, match=rf"{name} was .* now .*overwrite=True"):
            te.score_corpus(video, args.pop("classes"), str(out), **args)
    with pytest.raises(ValueError, match="model was"):
        other = te.testing.build_tiny_clip(str(tmp_path / "other-model"), seed=1)
        te.score_corpus(video, CLASSES, str(out), face_selection="none", local_model_path=other, progress=False,
                        **SAMPLING)
    summary = te.score_corpus(video, ["joy", "fear"], str(out), face_selection="none", local_model_path=tiny_model,
                              progress=False, overwrite=True, **SAMPLING)
    assert set(summary["status"]) == {"scored"}
    assert list(te.read_corpus(str(out)))[-2:] == ["joy", "fear"]
    assert (out / "my notes.txt").read_text() == "keep me"
    assert (out / "parts" / "mine.parquet").read_text() == "keep me too"


def test_manifest_with_id_start_end(tiny_model, corpus, tmp_path):
    shutil.copy(corpus / "a_moving.avi", tmp_path / "a.avi")
    shutil.copy(corpus / "d_face.jpg", tmp_path / "d.jpg")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("id,path,start,end\n"
                        "whole,a.avi,,\n"
                        "middle,a.avi,0.4,1.6\n"
                        "portrait,d.jpg,,\n")
    out = str(tmp_path / "out")
    te.score_corpus(str(manifest), CLASSES, out, nframes=5, ffreq=4, face_selection="none",
                    local_model_path=tiny_model, progress=False)
    result = te.read_corpus(out)
    assert list(result)[:3] == ["id", "frame", "time"]
    assert list(dict.fromkeys(result["id"])) == ["whole", "middle", "portrait"]
    for ident, start, end in (("whole", 0, -1), ("middle", 0.4, 1.6)):
        expected = te.video_scores(str(tmp_path / "a.avi"), CLASSES, nframes=5, ffreq=4, start=start, end=end,
                                   face_selection="none", timestamps=True, local_model_path=tiny_model,
                                   progress=False)
        assert_same_rows(result, expected, rows_of(result, ident, "id"), ["frame", "time"] + CLASSES)
    assert [result["frame"][i] for i in rows_of(result, "middle", "id")] == [10, 14, 18, 22, 26]

    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"path": ["a.avi"], "start": [0.4], "end": [1.6]}), tmp_path / "manifest.parquet")
    out2 = str(tmp_path / "out2")
    te.score_corpus(str(tmp_path / "manifest.parquet"), CLASSES, out2, nframes=5, ffreq=4, face_selection="none",
                    local_model_path=tiny_model, progress=False)
    from_parquet = te.read_corpus(out2)
    assert from_parquet["source"] == ["a.avi"] * 5
    assert from_parquet["frame"] == [10, 14, 18, 22, 26]


def test_new_files_are_added_without_rescoring_the_others(tiny_model, corpus, tmp_path):
    folder = tmp_path / "videos"
    folder.mkdir()
    shutil.copy(corpus / "a_moving.avi", folder / "b.avi")
    out = str(tmp_path / "out")
    args = dict(face_selection="none", local_model_path=tiny_model, progress=False, **SAMPLING)
    te.score_corpus(str(folder), CLASSES, out, **args)
    shutil.copy(corpus / "a_moving.avi", folder / "a.avi")  # sorts first
    summary = te.score_corpus(str(folder), CLASSES, out, **args)
    assert dict(zip(summary["source"], summary["status"])) == {"a.avi": "scored", "b.avi": "skipped"}
    result = te.read_corpus(out)
    assert result["source"] == ["a.avi"] * 10 + ["b.avi"] * 10


def test_a_second_writer_on_the_same_folder_is_refused(tiny_model, corpus, tmp_path):
    out = str(tmp_path / "out")
    with CorpusFolder(out).lock():
        with pytest.raises(RuntimeError, match="Another score_corpus"):
            te.score_corpus([str(corpus / "d_face.jpg")], CLASSES, out, local_model_path=tiny_model, progress=False)


def test_a_writer_in_another_process_is_refused_until_it_ends(tmp_path):
    """The lock is the operating system's (filelock): another process holds it, and its end frees it."""
    out = str(tmp_path / "out")
    os.makedirs(out)
    holder = subprocess.Popen([sys.executable, "-c", "import filelock, sys; lock = filelock.FileLock(sys.argv[1]); "
                               "lock.acquire(); print('held', flush=True); sys.stdin.read()",
                               os.path.join(out, ".corpus.lock")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(FolderInUseError, match=r"Another score_corpus\(\) call is writing to"):
            with CorpusFolder(out).lock():
                pass
        assert time.monotonic() - started < 1, "the lock must not wait"
    finally:
        holder.kill()
        holder.communicate(timeout=30)
    with CorpusFolder(out).lock():  # a killed holder leaves nothing locked
        pass


@pytest.mark.parametrize("kwargs, message", [
    (dict(engine="spark"), "engine must be one of 'local', 'ray'"),
    (dict(classes=["joy", "time"]), "same name as a column"),
    (dict(unit_size=0), "unit_size must be a whole number"),
    (dict(nframes=2.5), "nframes must be a whole number"),
    (dict(start=3, end=2), "end .* must be after start"),
    (dict(overwrite="yes"), "overwrite must be True or False"),
    (dict(inputs="https://example.org/v.mp4"), "not URLs"),
    (dict(inputs=[]), "inputs must be a folder"),
    (dict(inputs="no/such/folder"), "neither a folder nor a file"),
    (dict(engine="ray", cpus_per_worker=0), "cpus_per_worker must be a number"),
    (dict(engine="ray", device=""), "device must be a device name"),
    (dict(engine="ray", address=""), "address must be"),
])
def test_arguments_are_checked_before_any_work(tiny_model, corpus, tmp_path, kwargs, message):
    args = dict(inputs=str(corpus), classes=CLASSES, output_dir=str(tmp_path / "out"), local_model_path=tiny_model)
    args.update(kwargs)
    if kwargs.get("engine") == "ray":
        pytest.importorskip("ray")
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        te.score_corpus(args.pop("inputs"), args.pop("classes"), args.pop("output_dir"), **args)
    assert not os.path.exists(tmp_path / "out")


@pytest.mark.parametrize("content, message", [
    ("file,start\na.avi,0\n", "no 'path' column .*file, start"),
    ("path,start\na.avi,soon\n", "row 2: start 'soon' is not a number"),
    ("path,start,end\na.avi,3,2\n", "row 2: end .* must be after start"),
    ("path,start\nd.jpg,1\n", "start and end apply to videos"),
    ("path\na.avi\na.avi\n", "appears more than once"),
    ("id,path\nx,a.avi\nx,b.avi\n", "appears more than once in the manifest's id column"),
    ("path\n", "has no rows"),
])
def test_manifest_mistakes_are_named(tmp_path, tiny_model, content, message):
    manifest = tmp_path / "list.csv"
    manifest.write_text(content)
    with pytest.raises(ValueError, match=message):
        te.score_corpus(str(manifest), CLASSES, str(tmp_path / "out"), local_model_path=tiny_model)


def test_read_corpus_names_what_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="Folder not found"):
        te.read_corpus(str(tmp_path / "nothing"))
    with pytest.raises(FileNotFoundError, match="no scored corpus"):
        te.read_corpus(str(tmp_path))


@pytest.mark.slow
def test_command_line_scores_resumes_and_refuses_in_flags(tiny_model, corpus, tmp_path):
    out = str(tmp_path / "out")
    table = str(tmp_path / "scores.csv")
    broken = tmp_path / "broken.avi"
    broken.write_bytes(b"\0" * 1000)
    command = [sys.executable, "-m", "transforemotion", "corpus", str(corpus / "a_moving.avi"), str(broken),
               str(corpus / "d_face.jpg"), "--output-dir", out, "--nframes", "10", "--ffreq", "3",
               "--unit-size", "4", "--face-selection", "none", "--local-model-path", tiny_model, "--quiet"]
    done = subprocess.run(command + ["--classes", *CLASSES, "-o", table], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 3, done.stderr  # results written, one file failed
    assert "transforemotion: warning: 1 of 5 units could not be scored" in done.stderr
    with open(table, newline="") as fh:
        rows = list(csv.DictReader(fh))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", te.TransforemotionWarning)
        expected = te.read_corpus(out)
    assert [r["source"] for r in rows] == expected["source"]
    assert rows[-1]["frame"] == "NA" and rows[0]["frame"] == "0"
    np.testing.assert_allclose([float(r["joy"]) for r in rows], expected["joy"], rtol=1e-9)

    again = subprocess.run(command + ["--classes", "joy", "fear"], capture_output=True, text=True, timeout=300)
    assert again.returncode == 2
    assert "--classes was joy anger surprise, now joy fear" in again.stderr
    assert "--overwrite" in again.stderr and "overwrite=True" not in again.stderr
