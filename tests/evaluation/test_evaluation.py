"""evaluate_scores / evaluate_dir: metrics checked against values worked out by hand."""

import math
import warnings
import os
import sys

import numpy as np
import pytest
from PIL import Image

import transforemotion as te
from transforemotion.evaluation import expected_calibration_error

# Six rows, three classes given in a non-alphabetical order (scikit-learn reads
# probability columns in sorted label order; this order catches a mix-up).
#
#        joy   anger  fear   truth   predicted (top score)   right?
#   r1   0.70  0.20   0.10   joy     joy   (0.70)            yes
#   r2   0.50  0.40   0.10   anger   joy   (0.50)            no
#   r3   0.20  0.60   0.20   anger   anger (0.60)            yes
#   r4   0.05  0.40   0.55   fear    fear  (0.55)            yes
#   r5   0.20  0.20   0.60   anger   fear  (0.60)            no
#   r6   0.80  0.10   0.10   joy     joy   (0.80)            yes
SCORES = {
    "joy": [0.70, 0.50, 0.20, 0.05, 0.20, 0.80],
    "anger": [0.20, 0.40, 0.60, 0.40, 0.20, 0.10],
    "fear": [0.10, 0.10, 0.20, 0.55, 0.60, 0.10],
}
TRUTH = ["joy", "anger", "anger", "fear", "anger", "joy"]
CLASSES = ["joy", "anger", "fear"]

# Worked out by hand:
# accuracy = 4 right / 6 = 0.666667
# joy:   predicted in r1 r2 r6, right in r1 r6 -> precision 2/3; true in r1 r6, both found -> recall 1;
#        F1 = 2 * (2/3 * 1) / (2/3 + 1) = 0.8; support 2
# anger: predicted in r3 only (right) -> precision 1; true in r2 r3 r5, found r3 -> recall 1/3;
#        F1 = 2 * (1 * 1/3) / (4/3) = 0.5; support 3
# fear:  predicted in r4 (right) r5 (wrong) -> precision 1/2; true in r4 -> recall 1;
#        F1 = 2 * (1/2) / (3/2) = 2/3; support 1
# macro precision = (2/3 + 1 + 1/2) / 3 = 0.722222; macro recall = balanced accuracy = (1 + 1/3 + 1) / 3 = 0.777778
# macro F1 = (0.8 + 0.5 + 0.666667) / 3 = 0.655556
# weighted F1 = (2 * 0.8 + 3 * 0.5 + 1 * 0.666667) / 6 = 3.766667 / 6 = 0.627778
# micro F1 = accuracy (one label per row) = 0.666667
HAND = {
    "accuracy": 4 / 6,
    "balanced_accuracy": (1 + 1 / 3 + 1) / 3,
    "macro_precision": (2 / 3 + 1 + 1 / 2) / 3,
    "macro_recall": (1 + 1 / 3 + 1) / 3,
    "macro_f1": (0.8 + 0.5 + 2 / 3) / 3,
    "weighted_f1": (2 * 0.8 + 3 * 0.5 + 1 * 2 / 3) / 6,
    "micro_f1": 4 / 6,
    # One-vs-rest AUROC = share of (positive, negative) pairs ordered right, ties 1/2:
    # joy:   positives 0.70 0.80 vs negatives 0.50 0.20 0.05 0.20: all 8 pairs right -> 1
    # anger: positives 0.40 0.60 0.20 vs negatives 0.20 0.40 0.10:
    #        0.40: win, tie, win = 2.5; 0.60: 3; 0.20: tie, lose, win = 1.5 -> 7 / 9
    # fear:  positive 0.55 vs negatives 0.10 0.10 0.20 0.60 0.10: 4 of 5 -> 0.8
    # macro = (1 + 7/9 + 0.8) / 3 = 0.859259
    "macro_auroc": (1 + 7 / 9 + 0.8) / 3,
    # log loss = -mean(ln p(true class)) = -(ln .7 + ln .4 + ln .6 + ln .55 + ln .2 + ln .8) / 6
    #          = (0.356675 + 0.916291 + 0.510826 + 0.597837 + 1.609438 + 0.223144) / 6 = 0.702368
    "log_loss": 4.214211 / 6,
    # Brier = mean over rows of sum over classes (p - one_hot)^2:
    # r1 .09+.04+.01 = .14; r2 .25+.36+.01 = .62; r3 .04+.16+.04 = .24; r4 .0025+.16+.2025 = .365;
    # r5 .04+.64+.36 = 1.04; r6 .04+.01+.01 = .06; sum 2.465 / 6 = 0.410833
    "brier": 2.465 / 6,
    # ECE, bins of the top probability: (.4,.5]: r2 conf .5 acc 0 -> gap .5 x 1 row;
    # (.5,.6]: r3 .6 r4 .55 r5 .6, acc 2/3, mean conf 1.75/3 -> gap 1/12 x 3 rows;
    # (.6,.7]: r1 .7 acc 1 -> gap .3; (.7,.8]: r6 .8 acc 1 -> gap .2
    # ECE = (.5 + 3/12 + .3 + .2) / 6 = 1.25 / 6 = 0.208333
    "ece": 1.25 / 6,
    # Krippendorff's alpha, nominal, coders truth and model, 6 units of 2 values:
    # coincidences: joy-joy 4 (r1, r6), anger-anger 2 (r3), fear-fear 2 (r4),
    #               anger-joy 1 + joy-anger 1 (r2), anger-fear 1 + fear-anger 1 (r5)
    # value totals: joy 5, anger 4, fear 3; n = 12
    # alpha = 1 - (n - 1) * disagreeing coincidences / sum_{c != k} n_c n_k
    #       = 1 - 11 * 4 / (2 * (5*4 + 5*3 + 4*3)) = 1 - 44 / 94 = 0.531915
    "krippendorff_alpha": 1 - 44 / 94,
}


def check_hand_values(result):
    for name, expected in HAND.items():
        assert result[name] == pytest.approx(expected, abs=1e-6), name
    per_class = result["per_class"]
    assert per_class["class"] == CLASSES
    assert per_class["precision"] == pytest.approx([2 / 3, 1, 1 / 2])
    assert per_class["recall"] == pytest.approx([1, 1 / 3, 1])
    assert per_class["f1"] == pytest.approx([0.8, 0.5, 2 / 3])
    assert per_class["support"] == [2, 3, 1]
    assert per_class["auroc"] == pytest.approx([1, 7 / 9, 0.8])
    # truth joy:   predicted joy r1 r6                 -> 2 0 0
    # truth anger: predicted joy r2, anger r3, fear r5 -> 1 1 1
    # truth fear:  predicted fear r4                   -> 0 0 1
    assert result["confusion"] == {"truth": CLASSES, "joy": [2, 1, 0], "anger": [0, 1, 0], "fear": [0, 1, 1]}


def test_metrics_match_hand_computation():
    result = te.evaluate_scores(SCORES, TRUTH)
    assert result["classes"] == CLASSES
    assert (result["n_rows"], result["n_used"], result["n_excluded"]) == (6, 6, 0)
    check_hand_values(result)
    assert result["notes"] == []


def test_rows_without_scores_or_truth_are_left_out_and_counted():
    scores = {c: v + [math.nan, 0.2, None] for c, v in SCORES.items()}
    scores["fear"][-2] = 0.6  # the row with a score but no truth: a complete, valid row
    truth = TRUTH + ["joy", None, float("nan")]  # row 7 lacks scores, row 8 truth, row 9 both
    result = te.evaluate_scores(scores, truth)
    assert (result["n_rows"], result["n_used"], result["n_excluded"]) == (9, 6, 3)
    # each left-out row counted once, missing scores first: rows 7 and 9; then row 8
    assert result["excluded"] == {"missing_scores": 2, "missing_truth": 1}
    check_hand_values(result)
    assert "3 of 9 rows were left out" in result["notes"][0]


def test_dataframe_truth_column_and_metadata_columns_are_not_classes():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({
        "image_id": [f"{i}.jpg" for i in range(6)], "frame": range(6), "time": np.arange(6) / 25,
        "face": [0] * 6, "x": [1.0] * 6, "y": [2.0] * 6, "width": [3.0] * 6, "height": [4.0] * 6,
        "confidence": [0.9] * 6, "source": ["a"] * 6, "id": range(6),
        **SCORES, "label": TRUTH,
    })
    result = te.evaluate_scores(frame, "label")
    assert result["classes"] == CLASSES
    check_hand_values(result)


def test_unknown_truth_labels_are_named_and_mapping_suggested():
    truth = ["happy"] + TRUTH[1:4] + ["mad", "happy"]
    with pytest.raises(ValueError) as err:
        te.evaluate_scores(SCORES, truth)
    message = str(err.value)
    assert "'happy'" in message and "'mad'" in message and "label_map" in message
    assert "'anger'" not in message.split("classes are")[0]


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"truth": TRUTH[:5]}, "5 labels but scores has 6 rows"),
        ({"truth": "label"}, "not a column of scores"),
        ({"truth": TRUTH, "classes": ["joy", "sadness"]}, "'sadness' in classes are not columns"),
        ({"truth": TRUTH, "classes": ["joy"]}, "at least two classes"),
    ],
)
def test_bad_arguments_are_named(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        te.evaluate_scores(SCORES, **kwargs)


def test_class_absent_from_truth_and_class_absent_everywhere():
    # classes joy, anger, sadness, calm; truth never says sadness or calm; sadness is predicted once.
    #        joy  anger sadness calm  truth  predicted
    #   r1   .6   .2    .1      .1    joy    joy
    #   r2   .1   .7    .1      .1    anger  anger
    #   r3   .2   .2    .5      .1    joy    sadness
    #   r4   .3   .5    .1      .1    anger  anger
    scores = {"joy": [.6, .1, .2, .3], "anger": [.2, .7, .2, .5], "sadness": [.1, .1, .5, .1], "calm": [.1] * 4}
    truth = ["joy", "anger", "joy", "anger"]
    result = te.evaluate_scores(scores, truth)
    per_class = result["per_class"]
    # joy: precision 1/1, recall 1/2, F1 2/3; anger: 2/2, 2/2, F1 1; sadness: predicted once, wrong:
    # precision 0/1 = 0, recall 0/0 -> 0 by convention, F1 0; calm: never true, never predicted -> NaN
    assert per_class["precision"][:3] == pytest.approx([1, 1, 0])
    assert per_class["f1"][:3] == pytest.approx([2 / 3, 1, 0])
    assert all(math.isnan(per_class[k][3]) for k in ("precision", "recall", "f1"))
    assert per_class["support"] == [2, 2, 0, 0]
    # macro F1 over joy, anger, sadness (calm occurs nowhere): (2/3 + 1 + 0) / 3
    assert result["macro_f1"] == pytest.approx((2 / 3 + 1 + 0) / 3)
    # balanced accuracy: mean recall over the true classes joy (1/2) and anger (1) = 0.75
    assert result["balanced_accuracy"] == pytest.approx(0.75)
    # AUROC joy: positives .6 .2 vs negatives .1 .3 -> (1 + 1 + 1 + 0) / 4 = 0.75;
    # anger: positives .7 .5 vs negatives .2 .2 -> 1; sadness, calm: no positives -> NaN
    assert per_class["auroc"][:2] == pytest.approx([0.75, 1])
    assert math.isnan(per_class["auroc"][2]) and math.isnan(per_class["auroc"][3])
    assert result["macro_auroc"] == pytest.approx((0.75 + 1) / 2)
    assert any("'sadness', 'calm' never occur in the truth" in note for note in result["notes"])


def test_scores_that_are_not_probabilities_keep_rank_measures_only():
    # Cosine similarities, say: rows do not sum to 1.
    scores = {"joy": [0.30, 0.10, 0.25], "anger": [0.20, 0.28, 0.22]}
    result = te.evaluate_scores(scores, ["joy", "anger", "anger"])
    # predicted joy, anger, joy -> 2 of 3 right
    assert result["accuracy"] == pytest.approx(2 / 3)
    # AUROC joy: positive .30 vs negatives .10 .25 -> 1
    assert result["per_class"]["auroc"][0] == pytest.approx(1.0)
    assert all(math.isnan(result[k]) for k in ("log_loss", "brier", "ece"))
    assert any("not probabilities" in note for note in result["notes"])


def test_single_label_throughout_gives_nan_alpha_without_warnings():
    result = te.evaluate_scores({"joy": [0.9, 0.8], "anger": [0.1, 0.2]}, ["joy", "joy"])
    assert result["accuracy"] == 1.0
    assert math.isnan(result["krippendorff_alpha"])
    assert math.isnan(result["macro_auroc"])


def test_nothing_to_evaluate_is_an_error_that_says_why():
    with pytest.raises(ValueError, match="of 2 rows, 1 have no scores .* 1 more have no true label"):
        te.evaluate_scores({"joy": [math.nan, 0.5], "anger": [math.nan, 0.5]}, ["joy", None])


def test_ece_bin_edges():
    # Edges are (0, .1], ..., (.9, 1]: 0.6 (not exactly representable) belongs to (.5, .6], 1.0 to (.9, 1].
    # bin (.5,.6]: .6 right, .55 wrong -> acc 1/2, conf .575, gap .075 x 2 rows
    # bin (.9, 1]: 1.0 right -> gap 0
    # ECE = (2 * .075 + 0) / 3 = 0.05
    # (Were 0.6 put into (.6, .7], ECE would be (|1 - .6| + |0 - .55| + 0) / 3 = 0.316667.)
    assert expected_calibration_error([0.6, 0.55, 1.0], [True, False, True]) == pytest.approx(0.05)
    # one row, top probability 1/3, wrong: gap 1/3
    assert expected_calibration_error([1 / 3], [False]) == pytest.approx(1 / 3)


def test_missing_eval_extra_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "krippendorff", None)
    with pytest.raises(ImportError, match=r"pip install 'transforemotion\[eval\]'"):
        te.evaluate_scores(SCORES, TRUTH)


# --- evaluate_dir on a labelled folder of real photos --------------------------

@pytest.fixture(scope="module")
def labelled_dir(tmp_path_factory, astronaut):
    """happy/ (2 photos), angry/ (2 photos and a blank picture), fearful/ (empty), a photo in the top folder."""
    from skimage import data

    root = tmp_path_factory.mktemp("labelled")
    for folder in ("happy", "angry", "fearful"):
        (root / folder).mkdir()
    Image.fromarray(astronaut).save(root / "happy" / "astronaut.png")
    Image.fromarray(np.ascontiguousarray(astronaut[:, ::-1])).save(root / "happy" / "astronaut_mirrored.jpg", quality=95)
    Image.fromarray(data.camera()).convert("RGB").save(root / "angry" / "cameraman.png")
    faces = data.lfw_subset()  # 25x25 grey faces from Labeled Faces in the Wild
    Image.fromarray((faces[0] * 255).astype(np.uint8)).resize((200, 200), Image.BICUBIC).convert("RGB").save(
        root / "angry" / "lfw_0.png"
    )
    Image.fromarray(np.full((120, 160, 3), 128, np.uint8)).save(root / "angry" / "blank.png")
    Image.fromarray((faces[5] * 255).astype(np.uint8)).resize((200, 200), Image.BICUBIC).convert("RGB").save(
        root / "stray.png"
    )
    return root


def test_evaluate_dir_end_to_end(tiny_model, labelled_dir):
    with pytest.warns(te.TransforemotionWarning) as caught:
        result = te.evaluate_dir(str(labelled_dir), label_map={"happy": "joy"}, local_model_path=tiny_model)
    messages = " | ".join(str(w.message) for w in caught)
    assert "'fearful' hold no images" in messages
    assert "1 image(s) are not in a class folder (e.g. 'stray.png')" in messages
    assert "No face was found" in messages and "blank.png" in messages

    scores, evaluation = result["scores"], result["evaluation"]
    classes = ["angry", "fearful", "joy"]  # folders in sorted order, happy mapped to joy
    assert list(scores) == ["image_id", "truth"] + classes
    assert scores["image_id"] == [
        os.path.join("angry", "blank.png"), os.path.join("angry", "cameraman.png"), os.path.join("angry", "lfw_0.png"),
        os.path.join("happy", "astronaut.png"), os.path.join("happy", "astronaut_mirrored.jpg"), "stray.png",
    ]
    assert scores["truth"] == ["angry", "angry", "angry", "joy", "joy", None]
    assert all(math.isnan(scores[c][0]) for c in classes)  # the blank picture
    # Same numbers as scoring the folder directly.
    direct = te.image_scores_dir(str(labelled_dir / "happy"), classes, local_model_path=tiny_model)
    assert [scores[c][3] for c in classes] == pytest.approx([direct[c][0] for c in classes], abs=1e-6)

    assert evaluation["classes"] == classes
    assert (evaluation["n_rows"], evaluation["n_used"]) == (6, 4)
    assert evaluation["excluded"] == {"missing_scores": 1, "missing_truth": 1}
    assert evaluation["per_class"]["support"] == [2, 0, 2]
    assert sum(sum(evaluation["confusion"][c]) for c in classes) == 4
    predicted = [classes[int(np.argmax([scores[c][i] for c in classes]))] for i in (1, 2, 3, 4)]
    right = sum(p == t for p, t in zip(predicted, ["angry", "angry", "joy", "joy"]))
    assert evaluation["accuracy"] == pytest.approx(right / 4)
    assert math.isnan(evaluation["per_class"]["auroc"][1])  # no fearful image


def test_evaluate_dir_checks_labels_before_scoring(labelled_dir, tmp_path):
    with pytest.raises(ValueError, match="label_map names 'sad', which are not class folders"):
        te.evaluate_dir(str(labelled_dir), label_map={"sad": "sadness"}, local_model_path=str(tmp_path))
    with pytest.raises(ValueError, match="labels 'fearful', 'happy', which are not in classes"):
        te.evaluate_dir(str(labelled_dir), classes=["angry", "sadness"], local_model_path=str(tmp_path))
    with pytest.raises(FileNotFoundError, match="Folder not found"):
        te.evaluate_dir(str(tmp_path / "missing"))
    (tmp_path / "only").mkdir()
    with pytest.raises(ValueError, match="one sub-folder per class"):
        te.evaluate_dir(str(tmp_path))


def test_evaluate_dir_passes_templates_and_options_to_the_scoring(tiny_model, labelled_dir):
    with pytest.warns(te.TransforemotionWarning):
        result = te.evaluate_dir(str(labelled_dir), label_map={"happy": "joy"}, templates="fer", batch_size=2,
                                 device="cpu", progress=False, local_model_path=tiny_model)
    classes = ["angry", "fearful", "joy"]
    direct = te.image_scores_dir(str(labelled_dir / "happy"), classes, templates="fer", local_model_path=tiny_model)
    scores = result["scores"]
    assert [scores[c][3] for c in classes] == pytest.approx([direct[c][0] for c in classes], abs=1e-6)
    plain = te.image_scores_dir(str(labelled_dir / "happy"), classes, local_model_path=tiny_model)
    assert [scores[c][3] for c in classes] != pytest.approx([plain[c][0] for c in classes], abs=1e-6)
    with pytest.raises(ValueError, match="batch_size"), warnings.catch_warnings():
        warnings.simplefilter("ignore", te.TransforemotionWarning)  # the folder's own notes come first
        te.evaluate_dir(str(labelled_dir), label_map={"happy": "joy"}, batch_size=0, local_model_path=tiny_model)
