"""transforemotion embed image|video, rescore (a file or a corpus folder), corpus --keep-embeddings."""

import csv
import io
import json

import numpy as np
import pytest

import transforemotion as te
from transforemotion import cli

pytest.importorskip("pyarrow")

LABELS = ["calm", "tense"]


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def numbers(rows, name):
    return np.array([float("nan") if r[name] == "NA" else float(r[name]) for r in rows])


def test_embed_image_then_rescore_prints_image_scores(capsys, tiny_model, image_dir, tmp_path):
    out = str(tmp_path / "e.parquet")
    code, stdout, err = run(capsys, "embed", "image", str(image_dir), "--local-model-path", tiny_model, "-o", out,
                            "--quiet")
    assert code == 0 and stdout == "" and "blank.png" in err and "No face" in err
    emb = te.load_embeddings(out)
    files = [str(image_dir / n) for n in ("astronaut.jpg", "blank.png", "two_faces.png")]
    assert emb.rows == {"image": files}
    code, stdout, _ = run(capsys, "rescore", out, "--classes", *LABELS, "--templates", "fer")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(stdout)))
    assert [r["image"] for r in rows] == files
    fresh = te.image_scores(files[:1], LABELS, templates="fer", local_model_path=tiny_model)
    np.testing.assert_allclose(numbers(rows, "calm")[:1], fresh["calm"], atol=1e-5)
    assert rows[1]["calm"] == "NA"


def test_embed_video_keeps_frames_and_times(capsys, tiny_model, face_video, tmp_path):
    out = str(tmp_path / "v.parquet")
    code, _, _ = run(capsys, "embed", "video", face_video, "--nframes", "6", "--ffreq", "4", "--precision",
                     "float16", "--local-model-path", tiny_model, "-o", out)
    assert code == 0
    code, stdout, _ = run(capsys, "rescore", out, "--classes", *LABELS, "--format", "json")
    table = json.loads(stdout)
    fresh = te.video_scores(face_video, LABELS, nframes=6, ffreq=4, timestamps=True, local_model_path=tiny_model)
    assert table["frame"] == fresh["frame"] and table["time"] == pytest.approx(fresh["time"])
    np.testing.assert_allclose(np.array(table["tense"], float), fresh["tense"], atol=1e-3)  # float16 file


def test_corpus_keep_embeddings_then_rescore_the_folder(capsys, tiny_model, corpus, tmp_path):
    folder, into = str(tmp_path / "scores"), str(tmp_path / "rescored")
    code, _, _ = run(capsys, "corpus", str(corpus / "a_moving.avi"), str(corpus / "d_face.jpg"), "--classes", "joy",
                     "anger", "--nframes", "3", "--output-dir", folder, "--keep-embeddings", "--local-model-path",
                     tiny_model, "--quiet", "-o", str(tmp_path / "first.csv"))
    assert code == 0
    code, stdout, _ = run(capsys, "rescore", folder, "--classes", *LABELS, "--into", into, "--quiet")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(stdout)))
    again = te.read_corpus(into)
    assert [r["source"] for r in rows] == again["source"]
    np.testing.assert_allclose(numbers(rows, "calm"), again["calm"], atol=1e-9, equal_nan=True)


def test_mistakes_are_bad_input(capsys, tiny_model, image_dir, tmp_path):
    code, _, err = run(capsys, "rescore", str(image_dir / "astronaut.jpg"), "--classes", *LABELS)
    assert code == 2 and "cannot be read as Parquet" in err
    out = str(tmp_path / "e.parquet")
    assert run(capsys, "embed", "image", str(image_dir / "astronaut.jpg"), "--local-model-path", tiny_model,
               "-o", out)[0] == 0
    code, _, err = run(capsys, "rescore", out, "--classes", *LABELS, "--into", str(tmp_path / "x"))
    assert code == 2 and "--into" in err
    code, _, err = run(capsys, "rescore", out, "--classes", "joy")
    assert code == 2 and "--classes" in err
    code, _, err = run(capsys, "embed", "image", str(image_dir), "--local-model-path", tiny_model,
                       "-o", str(tmp_path / "no" / "e.parquet"))
    assert code == 2 and "--output" in err
    with pytest.raises(SystemExit) as stop:
        cli.main(["embed", "image", str(image_dir)])  # no --output: argparse refuses
    assert stop.value.code == 2
