"""Score tables are checked in one place (evaluation.tables) before any metric: text numbers and infinities are
named by column; messages speak the caller's language; evaluate_dir with every face evaluates each face."""

import math

import numpy as np
import pytest
from PIL import Image

import transforemotion as te
from transforemotion.core.messages import caller
from transforemotion.evaluation import tables
from conftest import two_face_canvas

SCORES = {"joy": [0.8, 0.3, 0.6], "anger": [0.2, 0.7, 0.4]}
TRUTH = ["joy", "anger", "anger"]


def test_numbers_written_as_text_are_named_by_column():
    as_text = {"joy": ["0.8", "0.3", "0.6"], "anger": ["0.2", "0.7", "NA"]}
    with pytest.raises(ValueError, match=r"'joy', 'anger' of scores hold numbers written as text "
                                         r"\(e.g. '0.8' in 'joy'\).*astype\(float\)") as caught:
        te.evaluate_scores(as_text, TRUTH)
    assert "Found 0" not in str(caught.value)
    with pytest.raises(ValueError, match=r"'anger' of scores hold numbers written as text"):
        te.evaluate_scores({"joy": [0.8, 0.3, 0.6], "anger": ["0.2", "0.7", "0.4"]}, TRUTH, classes=["joy", "anger"])
    with pytest.raises(ValueError, match=r"'anger' of scores must hold numbers \(scores\); 'anger' holds 'high'"):
        te.evaluate_scores({"joy": [0.8, 0.3, 0.6], "anger": ["high", "0.7", "0.4"]}, TRUTH, classes=["joy", "anger"])


def test_an_infinite_score_is_named_with_its_column_and_row():
    scores = {"joy": [0.8, 0.3, 0.6], "anger": [0.2, math.inf, 0.4]}
    with pytest.raises(ValueError, match=r"'anger' of scores hold an infinite value \(inf in 'anger', row 2 "
                                         r"counting from 1\)") as caught:
        te.evaluate_scores(scores, TRUTH)
    assert "Input contains" not in str(caught.value)  # scikit-learn's words never reach the user
    with caller("r"), pytest.raises(ValueError, match=r'-Inf in "joy".* or NA where'):
        te.evaluate_scores({"joy": [-math.inf, 0.3, 0.6], "anger": [0.2, 0.7, 0.4]}, TRUTH)


def test_score_matrix_is_the_table_as_floats_with_nan_for_missing():
    columns = {"joy": [0.8, None, 0.6], "anger": [0.2, 0.7, float("nan")]}
    matrix = tables.score_matrix(columns, ["anger", "joy"])
    np.testing.assert_array_equal(matrix, np.array([[0.2, 0.8], [0.7, np.nan], [np.nan, 0.6]]))


def test_unknown_true_labels_suggest_a_mapping_in_the_callers_language():
    truth = ["happy", "anger", "anger"]
    with pytest.raises(ValueError, match=r"e.g. with \{'happy': 'joy'\}"):
        te.evaluate_scores(SCORES, truth)
    with caller("r"), pytest.raises(ValueError) as caught:
        te.evaluate_scores(SCORES, truth)
    message = str(caught.value)
    assert 'c(happy = "joy")' in message and "{" not in message
    assert 'These true labels are not among the classes: "happy"' in message
    with caller("r"), pytest.raises(ValueError, match=r'c\(`very happy` = "joy"\)'):
        te.evaluate_scores(SCORES, ["very happy", "anger", "anger"])
    with caller("cli"), pytest.raises(ValueError, match=r"e.g. with happy=joy \(transforemotion evaluate takes it "
                                                        r"as --label-map\)"):
        te.evaluate_scores(SCORES, truth)


def test_evaluate_dir_with_every_face_evaluates_one_row_per_face(tiny_model, face, tmp_path):
    # Two class folders: a picture of two faces in happy/, one face in sad/.
    for folder in ("happy", "sad"):
        (tmp_path / folder).mkdir()
    Image.fromarray(two_face_canvas(face)).save(tmp_path / "happy" / "pair.png")
    Image.fromarray(face).save(tmp_path / "sad" / "one.jpg", quality=95)
    result = te.evaluate_dir(str(tmp_path), face_selection="all", local_model_path=tiny_model, progress=False)
    scores, evaluation = result["scores"], result["evaluation"]
    assert scores["image_id"] == ["happy/pair.png", "happy/pair.png", "sad/one.jpg"]
    assert scores["face"] == [0, 1, 0] and scores["truth"] == ["happy", "happy", "sad"]
    assert evaluation["n_rows"] == evaluation["n_used"] == 3
    # The same faces scored directly, one row each, give the same scores and so the same accuracy.
    direct = te.image_scores([str(tmp_path / "happy" / "pair.png"), str(tmp_path / "sad" / "one.jpg")],
                             ["happy", "sad"], face_selection="all", local_model_path=tiny_model)
    np.testing.assert_allclose(scores["happy"], direct["happy"], atol=1e-6)
    predicted = ["happy" if h >= s else "sad" for h, s in zip(direct["happy"], direct["sad"])]
    right = sum(p == t for p, t in zip(predicted, ["happy", "happy", "sad"]))
    assert evaluation["accuracy"] == pytest.approx(right / 3)
