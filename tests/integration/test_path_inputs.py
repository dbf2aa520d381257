"""What people pass in Python: pathlib.Path for every path, a pandas Series of labels.

Every public function that takes a path takes a ``pathlib.Path`` (any
``os.PathLike``), alone or in a list, and every function that takes labels
takes any sequence of texts (a pandas Series, a tuple, a NumPy array). A
path given as a Path comes back in the result as its text.
"""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import transforemotion as te
from conftest import quiet

pytest.importorskip("pyarrow")


def test_every_public_function_takes_paths_and_a_series_of_labels(tiny_model, image_dir, face_video, tmp_path):
    model = Path(tiny_model)
    labels = pd.Series(["joy", "anger", "surprise"])
    common = dict(local_model_path=model, progress=False)
    photo = Path(image_dir) / "astronaut.jpg"

    one = te.image_scores(photo, labels, **common)
    assert list(one) == ["joy", "anger", "surprise"]
    many = quiet(te.image_scores, [photo, str(photo)], labels, face_selection="all", **common)
    assert set(many["image"]) == {str(photo)}  # a Path comes back as its text
    folder = quiet(te.image_scores_dir, Path(image_dir), labels, **common)
    assert len(folder["image_id"]) == 3
    video = quiet(te.video_scores, Path(face_video), labels, nframes=4, save_frames=True, save_dir=tmp_path / "frames",
                            **common)
    assert len(video["joy"]) == 4 and len(os.listdir(tmp_path / "frames")) == 4
    assert list(quiet(te.video_scores, face_video, np.array(["joy", "anger"]), nframes=2, **common)) == ["joy", "anger"]
    assert list(quiet(te.vad_scores, photo, **common)) == ["valence", "arousal", "dominance"]

    out = tmp_path / "corpus"
    quiet(te.score_corpus, [Path(face_video)], labels, out, nframes=4, keep_embeddings=True, **common)
    read = te.read_corpus(out)
    assert read["source"] == [str(Path(face_video))] * 4
    assert list(te.rescore_corpus(out, pd.Series(["calm", "tense"]), into=tmp_path / "again"))[-2:] == ["calm", "tense"]
    assert "valence" in quiet(te.vad_corpus, Path(face_video), tmp_path / "vad", nframes=2, **common)

    emb = te.embed_images(photo, local_model_path=model)
    quiet(te.embed_dir, Path(image_dir), local_model_path=model)
    quiet(te.embed_video, Path(face_video), nframes=2, local_model_path=model)
    saved = te.save_embeddings(emb, tmp_path / "e.parquet")
    assert saved == str(tmp_path / "e.parquet")
    back = te.load_embeddings(tmp_path / "e.parquet")
    assert list(te.rescore(back, labels, local_model_path=model)) == list(labels)

    happy, sad = tmp_path / "faces" / "happy", tmp_path / "faces" / "sad"
    happy.mkdir(parents=True)
    sad.mkdir()
    (happy / "a.jpg").write_bytes(photo.read_bytes())
    (sad / "b.jpg").write_bytes(photo.read_bytes())
    result = quiet(te.evaluate_dir, tmp_path / "faces", pd.Series(["happy", "sad"]), **common)
    assert len(result["scores"]["image_id"]) == 2
    assert "accuracy" in te.evaluate_scores({"happy": [0.6, 0.2], "sad": [0.4, 0.8]}, ["happy", "sad"],
                                            pd.Series(["happy", "sad"]))
