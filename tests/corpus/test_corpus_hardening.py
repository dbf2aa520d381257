"""score_corpus / read_corpus against careless use: a part copied from another run, a truncated video with an
explicit nframes, Ctrl-C in the middle of a run."""

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
from conftest import claim_frames, moving_face_frames, quiet, write_video

pytest.importorskip("pyarrow")

CLASSES = ["joy", "anger"]


def test_a_part_from_another_run_is_named_with_what_to_do(tiny_model, corpus, tmp_path):
    inputs = [str(corpus / "d_face.jpg"), str(corpus / "f_mirror.jpg")]
    ours, theirs = str(tmp_path / "ours"), str(tmp_path / "theirs")
    for out, classes in ((ours, CLASSES), (theirs, ["joy", "fear", "surprise"])):
        quiet(te.score_corpus, inputs, classes, out, local_model_path=tiny_model, progress=False)
    (part,) = os.listdir(os.path.join(theirs, "parts"))  # same files, so the same unit name
    shutil.copy(os.path.join(theirs, "parts", part), os.path.join(ours, "parts", part))
    with pytest.raises(ValueError) as caught:
        te.read_corpus(ours)
    message = str(caught.value)
    assert os.path.join(ours, "parts", part) in message
    assert "does not belong to this corpus" in message and "fear (double)" in message
    assert "Delete it" in message and "Schema at index" not in message


@pytest.fixture(scope="module")
def cut_video(tmp_path_factory, face):
    """16 frames that decode, in a file whose header says 30: a recording cut short."""
    path = write_video(tmp_path_factory.mktemp("cut") / "cut.avi", moving_face_frames(face, count=16, step=4))
    return claim_frames(path, 30)


def test_a_truncated_video_with_explicit_nframes_keeps_the_frames_that_decode(tiny_model, cut_video):
    with pytest.warns(te.TransforemotionWarning) as caught:
        result = te.video_scores(cut_video, CLASSES, nframes=30, ffreq=1, face_selection="none", timestamps=True,
                                 local_model_path=tiny_model, progress=False)
    texts = [str(w.message) for w in caught]
    assert len(texts) == 1 and "14 of 30 sampled frames could not be decoded (from frame 16 on)" in texts[0]
    assert result["frame"] == list(range(30))
    joy = np.array(result["joy"])
    assert not np.isnan(joy[:16]).any() and np.isnan(joy[16:]).all()
    # The decodable frames score as they do on their own.
    alone = te.video_scores(cut_video, CLASSES, nframes=16, ffreq=1, face_selection="none",
                            local_model_path=tiny_model, progress=False)
    np.testing.assert_allclose(joy[:16], alone["joy"], atol=1e-6)


def test_a_corpus_keeps_the_same_rows_of_a_truncated_video(tiny_model, cut_video, tmp_path):
    out = str(tmp_path / "out")
    with pytest.warns(te.TransforemotionWarning, match="1 of 2 units could not be scored completely"):
        summary = te.score_corpus([cut_video], CLASSES, out, nframes=30, ffreq=1, unit_size=15,
                                  face_selection="none", local_model_path=tiny_model, progress=False)
    assert summary["status"] == ["scored", "failed"]  # frames 0-14 whole; 15-29 hold the damage
    with open(os.path.join(out, "failures.csv"), newline="") as fh:
        (failure,) = list(csv.DictReader(fh))
    assert "14 of 15 sampled frames" in failure["reason"] and "from frame 16 on" in failure["reason"]
    rows = quiet(te.read_corpus, out)
    expected = quiet(te.video_scores, cut_video, CLASSES, nframes=30, ffreq=1, face_selection="none",
                     timestamps=True, local_model_path=tiny_model, progress=False)
    assert rows["frame"] == expected["frame"]
    np.testing.assert_allclose(rows["joy"], expected["joy"], atol=1e-6, equal_nan=True)


README = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "README.md")


def readme_corpus_examples():
    """The sampling arguments of the README's corpus example, as Python keywords and as shell flags."""
    import ast
    import re
    import shlex

    with open(README, encoding="utf-8") as fh:
        text = fh.read()
    call = re.search(r'te\.score_corpus\("videos/", \[[^\]]*\], "scores/", (.*?)local_model_path', text, re.S)
    keywords = ast.parse(f"f({call.group(1)})", mode="eval").body.keywords
    python = {k.arg: ast.literal_eval(k.value) for k in keywords}
    line = re.search(r"^transforemotion corpus videos/ (.*)$", text, re.M).group(1)
    flags = shlex.split(line)
    return python, flags


def test_the_readme_corpus_example_works_on_a_ten_second_clip(tiny_model, face, tmp_path):
    import cv2

    from transforemotion import cli

    videos = tmp_path / "videos"
    videos.mkdir()
    small = [cv2.resize(f, (160, 120)) for f in moving_face_frames(face, count=50, step=3)]
    write_video(videos / "clip.avi", (small * 5)[:250], fps=25.0)  # 10 s at 25 frames per second
    python, flags = readme_corpus_examples()
    with warnings.catch_warnings():
        warnings.simplefilter("error", te.TransforemotionWarning)  # no failure, no "too short" note
        summary = te.score_corpus(str(videos), ["joy", "anger", "surprise"], str(tmp_path / "py"),
                                  local_model_path=tiny_model, face_selection="none", progress=False, **python)
    assert "failed" not in summary["status"]
    flags = [str(tmp_path / "sh") if f == "scores/" else f for f in flags if f not in ("-o", "scores.csv")]
    assert cli.main(["corpus", str(videos), *flags, "--local-model-path", tiny_model, "--face-selection", "none",
                     "--quiet", "-o", str(tmp_path / "scores.csv")]) == 0
    assert quiet(te.read_corpus, str(tmp_path / "sh"))["frame"] == quiet(te.read_corpus, str(tmp_path / "py"))["frame"]
