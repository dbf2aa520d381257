"""Folders with entries that cannot be read (links to themselves, loops of links, named pipes, files deleted
while the run goes on) never stop image_scores_dir, score_corpus or evaluate_dir: each such entry is a row
of missing values or a line in failures.csv, named in one warning, and the rest is scored."""

import csv
import math
import os
import warnings

import numpy as np
import pytest
from PIL import Image

import transforemotion as te
from conftest import moving_face_frames, write_video

CLASSES = ["joy", "anger"]


def add_hostile_entries(folder, extension):
    os.symlink(f"self{extension}", folder / f"self{extension}")  # ln -s self.x self.x
    os.symlink(f"loop_b{extension}", folder / f"loop_a{extension}")
    os.symlink(f"loop_a{extension}", folder / f"loop_b{extension}")
    os.mkfifo(folder / f"pipe{extension}")
    return [f"loop_a{extension}", f"loop_b{extension}", f"pipe{extension}", f"self{extension}"]


def messages(caught):
    return " | ".join(str(w.message) for w in caught)


def test_image_scores_dir_scores_the_good_files_beside_links_to_themselves(tiny_model, face, tmp_path):
    Image.fromarray(face).save(tmp_path / "a_face.jpg", quality=95)
    Image.fromarray(face[:, ::-1].copy()).save(tmp_path / "z_face.png")
    hostile = add_hostile_entries(tmp_path, ".jpg")
    for recursive in (False, True):
        with pytest.warns(te.TransforemotionWarning, match="Could not read") as caught:
            result = te.image_scores_dir(str(tmp_path), CLASSES, recursive=recursive, local_model_path=tiny_model,
                                         progress=False)
        assert result["image_id"] == ["a_face.jpg", *hostile, "z_face.png"]
        for i, name in enumerate(result["image_id"]):
            assert math.isnan(result["joy"][i]) == (name in hostile), name
        text = messages(caught)
        assert "self.jpg" in text and "pipe.jpg" in text


def test_a_file_deleted_while_the_folder_is_scored_is_one_missing_row(tiny_model, face, tmp_path, monkeypatch):
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        Image.fromarray(face).save(tmp_path / name, quality=95)
    from transforemotion.engine import run

    real_load = run.load_image

    def load_then_delete(source):
        # Reading a.jpg removes b.jpg, listed a moment ago: another process cleaning up.
        if source.endswith("a.jpg") and (tmp_path / "b.jpg").exists():
            os.remove(tmp_path / "b.jpg")
        return real_load(source)

    monkeypatch.setattr(run, "load_image", load_then_delete)
    with pytest.warns(te.TransforemotionWarning, match=r"Could not read the image: .*not found: .*b\.jpg"):
        result = te.image_scores_dir(str(tmp_path), CLASSES, local_model_path=tiny_model, progress=False)
    assert result["image_id"] == ["a.jpg", "b.jpg", "c.jpg"]
    assert [math.isnan(v) for v in result["joy"]] == [False, True, False]


def test_score_corpus_lists_unreadable_entries_in_failures_csv(tiny_model, face, tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    write_video(videos / "good.avi", moving_face_frames(face, count=12))
    Image.fromarray(face).save(videos / "still.jpg", quality=95)
    hostile = add_hostile_entries(videos, ".avi")
    out = str(tmp_path / "out")
    with pytest.warns(te.TransforemotionWarning, match="could not be scored completely"):
        summary = te.score_corpus(str(videos), CLASSES, out, nframes=4, ffreq=3, face_selection="none",
                                  local_model_path=tiny_model, progress=False)
    status = dict(zip(summary["source"], summary["status"]))
    assert status == {"good.avi": "scored", **{name: "failed" for name in hostile}, "still.jpg": "scored"}
    with open(os.path.join(out, "failures.csv"), newline="") as fh:
        reasons = {row["source"]: row["reason"] for row in csv.DictReader(fh)}
    assert set(reasons) == set(hostile)
    assert "Too many levels of symbolic links" in reasons["self.avi"]
    assert "named pipe" in reasons["pipe.avi"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", te.TransforemotionWarning)
        rows = te.read_corpus(out)
    assert rows["source"] == ["good.avi"] * 4 + ["still.jpg"]
    assert not np.isnan(rows["joy"]).any()


def test_a_video_deleted_after_planning_is_a_failure_of_its_own(tiny_model, face, tmp_path, monkeypatch):
    videos = tmp_path / "videos"
    videos.mkdir()
    for name in ("a.avi", "b.avi"):
        write_video(videos / name, moving_face_frames(face, count=12))
    from transforemotion.corpus import runner

    real_plan = runner.plan_units

    def plan_then_delete(*args, **kwargs):
        plan = real_plan(*args, **kwargs)
        os.remove(videos / "a.avi")  # gone between planning and scoring
        return plan

    monkeypatch.setattr(runner, "plan_units", plan_then_delete)
    with pytest.warns(te.TransforemotionWarning, match=r"1 of 2 units could not be scored.*a\.avi.*not found"):
        summary = te.score_corpus(str(videos), CLASSES, str(tmp_path / "out"), nframes=4, ffreq=3,
                                  face_selection="none", local_model_path=tiny_model, progress=False)
    assert summary["status"] == ["failed", "scored"]


def test_evaluate_dir_scores_around_links_to_themselves_in_class_folders(tiny_model, face, tmp_path):
    for folder in ("happy", "sad"):
        (tmp_path / folder).mkdir()
        Image.fromarray(face).save(tmp_path / folder / "face.jpg", quality=95)
    add_hostile_entries(tmp_path / "sad", ".jpg")
    os.symlink("looping", tmp_path / "looping")  # not a class folder: its kind cannot be learned
    with pytest.warns(te.TransforemotionWarning, match="Could not read"):
        result = te.evaluate_dir(str(tmp_path), local_model_path=tiny_model, progress=False)
    scores = result["scores"]
    assert result["evaluation"]["classes"] == ["happy", "sad"]
    assert len(scores["image_id"]) == 6 and result["evaluation"]["n_used"] == 2
    assert result["evaluation"]["excluded"]["missing_scores"] == 4
