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
from conftest import claim_frames, moving_face_frames, write_video

pytest.importorskip("pyarrow")

CLASSES = ["joy", "anger"]


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", te.TransforemotionWarning)
        return fn(*args, **kwargs)


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
