"""vad_scores and map_discrete_to_vad.

vad_scores embeds each face once and scores every dimension from one softmax
over all pole texts; the reference it must equal is transforEmotion's method,
one two-label classification per dimension, computed here with image_scores
and video_scores on [high pole, low pole]. The VAD mapping is checked against
weighted means worked out by hand from a small lexicon written in this file.
"""

import math
import warnings

import pytest

import transforemotion as te
from transforemotion.vad import DEFINITIONAL_LABELS, SIMPLE_LABELS, detect_input_type

HIGH_LOW = {"valence": ("positive", "negative"), "arousal": ("high", "low"), "dominance": ("high", "low")}


def pair_score(scores_function, source, labels, dim, **kwargs):
    """transforEmotion's score for one dimension: the high pole of a two-label classification."""
    high, low = (labels[dim][p] for p in HIGH_LOW[dim])
    return scores_function(source, [high, low], **kwargs)[high]


# --- equal to transforEmotion's one-classification-per-dimension -----------------------------

@pytest.mark.parametrize("label_type, labels", [("definitional", DEFINITIONAL_LABELS), ("simple", SIMPLE_LABELS)])
def test_each_dimension_equals_the_two_label_image_score(tiny_model, image_dir, label_type, labels):
    image = str(image_dir / "astronaut.jpg")
    result = te.vad_scores(image, label_type=label_type, local_model_path=tiny_model)
    assert list(result) == ["valence", "arousal", "dominance"]
    for dim in result:
        assert result[dim] == pytest.approx(pair_score(te.image_scores, image, labels, dim,
                                                       local_model_path=tiny_model), abs=1e-4)
    # A random-weight model still separates the descriptions; equal to 0.5 everywhere would prove nothing.
    assert max(abs(v[0] - 0.5) for v in result.values()) > 0.05


def test_templates_and_a_list_of_images_keep_the_equality(tiny_model, image_dir):
    images = [str(image_dir / "astronaut.jpg"), str(image_dir / "two_faces.png")]
    # Simple labels: the tiny model's tokenizer reads one byte per token, and the definitional texts inside
    # six templates pass its 77-token limit (a real CLIP tokenizer needs about 20 tokens for them).
    result = te.vad_scores(images, dimensions=["dominance", "valence"], label_type="simple", templates="fer",
                           local_model_path=tiny_model)
    assert list(result) == ["dominance", "valence"]
    for dim in result:
        expected = pair_score(te.image_scores, images, SIMPLE_LABELS, dim, templates="fer",
                              local_model_path=tiny_model)
        assert result[dim] == pytest.approx(expected, abs=1e-4)


def test_a_text_shared_by_two_dimensions_is_scored_once(tiny_model, image_dir):
    # "calm" is both the low pole of arousal and the high pole of dominance: one class, two uses.
    labels = {"valence": {"positive": "a happy face", "negative": "a sad face"},
              "arousal": {"high": "an excited face", "low": "a calm face"},
              "dominance": {"high": "a calm face", "low": "a frightened face"}}
    image = str(image_dir / "astronaut.jpg")
    result = te.vad_scores(image, label_type="custom", custom_labels=labels, local_model_path=tiny_model)
    for dim in ("valence", "arousal", "dominance"):
        assert result[dim] == pytest.approx(pair_score(te.image_scores, image, labels, dim,
                                                       local_model_path=tiny_model), abs=1e-4)


def test_custom_labels_need_only_the_dimensions_asked_for(tiny_model, image_dir):
    # transforEmotion's own documented example (valence only), which its check of all three dimensions refuses.
    labels = {"valence": {"positive": "Customer satisfaction and positive brand sentiment",
                          "negative": "Customer complaints and negative brand sentiment"}}
    image = str(image_dir / "astronaut.jpg")
    result = te.vad_scores(image, dimensions="valence", label_type="custom", custom_labels=labels,
                           local_model_path=tiny_model)
    assert list(result) == ["valence"]
    assert result["valence"] == pytest.approx(pair_score(te.image_scores, image, labels, "valence",
                                                         local_model_path=tiny_model), abs=1e-4)


def test_every_face_gets_a_row_with_its_box(tiny_model, image_dir):
    image = str(image_dir / "two_faces.png")
    result = te.vad_scores(image, face_selection="all", local_model_path=tiny_model)
    assert list(result) == ["image", "face", "x", "y", "width", "height", "confidence",
                            "valence", "arousal", "dominance"]
    assert result["face"] == [0, 1] and result["image"] == [image, image]
    assert result["width"][0] > result["width"][1]  # the big face is on the left
    for dim in ("valence", "arousal", "dominance"):
        expected = pair_score(te.image_scores, image, DEFINITIONAL_LABELS, dim, face_selection="all",
                              local_model_path=tiny_model)
        assert result[dim] == pytest.approx(expected, abs=1e-4)
    right = te.vad_scores(image, dimensions="arousal", face_selection="right", face_boxes=True,
                          local_model_path=tiny_model)
    assert list(right) == ["x", "y", "width", "height", "confidence", "arousal"]
    assert right["x"] == [result["x"][1]]


def test_a_folder_is_scored_with_image_scores_dir(tiny_model, image_dir):
    with pytest.warns(te.TransforemotionWarning, match="blank.png"):
        result = te.vad_scores(str(image_dir), dimensions=["arousal"], local_model_path=tiny_model)
    assert result["image_id"] == ["astronaut.jpg", "blank.png", "two_faces.png"]
    assert math.isnan(result["arousal"][1])  # no face: NaN, not 0.5
    with pytest.warns(te.TransforemotionWarning, match="blank.png"):
        expected = pair_score(te.image_scores_dir, str(image_dir), DEFINITIONAL_LABELS, "arousal",
                              local_model_path=tiny_model)
    assert result["arousal"][0::2] == pytest.approx(expected[0::2], abs=1e-4)


def test_video_gives_one_row_per_sampled_frame(tiny_model, face_video):
    # The face leaves the picture after frame 40: frames 44 and 55 have no face.
    with pytest.warns(te.TransforemotionWarning, match="No face.*frame 44, frame 55"):
        result = te.vad_scores(face_video, nframes=6, ffreq=11, timestamps=True, local_model_path=tiny_model)
    assert list(result) == ["frame", "time", "valence", "arousal", "dominance"]
    assert result["frame"] == [0, 11, 22, 33, 44, 55]
    assert result["time"] == pytest.approx([0.0, 0.44, 0.88, 1.32, 1.76, 2.2])
    assert [math.isnan(v) for v in result["valence"]] == [False] * 4 + [True] * 2
    for dim in ("valence", "arousal", "dominance"):
        with pytest.warns(te.TransforemotionWarning):
            expected = pair_score(te.video_scores, face_video, DEFINITIONAL_LABELS, dim, nframes=6, ffreq=11,
                                  local_model_path=tiny_model)
        assert result[dim][:4] == pytest.approx(expected[:4], abs=1e-4)


def test_video_with_every_face_and_no_timestamps(tiny_model, face_video):
    plain = te.vad_scores(face_video, nframes=3, uniform=True, face_selection="none", local_model_path=tiny_model)
    assert list(plain) == ["valence", "arousal", "dominance"] and len(plain["valence"]) == 3
    every = te.vad_scores(face_video, dimensions="valence", nframes=2, ffreq=10, face_selection="all",
                          local_model_path=tiny_model)
    assert list(every)[:4] == ["frame", "time", "person", "face"] and every["frame"] == [0, 10]
    assert every["person"] == [0, 0]  # the one face, followed from frame to frame
    two = te.vad_scores(face_video, dimensions="valence", nframes=2, ffreq=10, face_selection="all",
                        persons=1, person_names=["speaker"], local_model_path=tiny_model)
    assert two["person"] == ["speaker", "speaker"]
    assert two["valence"] == every["valence"]


# --- arguments: transforEmotion's checks, and no silent change of method ----------------------

def test_input_type_detection():
    assert detect_input_type("This is some text") == "text"
    assert detect_input_type(["Text 1", "Text 2"]) == "text"
    assert detect_input_type("https://www.youtube.com/watch?v=test") == "video"
    assert detect_input_type("http://example.com/video.mp4") == "video"
    assert detect_input_type("https://example.com/face.JPG?size=2") == "image"
    assert detect_input_type("path/to/image.jpg") == "image"
    assert detect_input_type("image.PNG") == "image"
    assert detect_input_type("clip.MOV") == "video"
    with pytest.raises(ValueError, match="mixes image and video"):
        detect_input_type(["a.jpg", "b.mp4"])
    with pytest.raises(ValueError, match="Input must be character"):
        detect_input_type(123)


def test_the_folder_is_an_image_input(image_dir):
    assert detect_input_type(str(image_dir)) == "image"


@pytest.mark.parametrize("kwargs, message", [
    (dict(dimensions="invalid"), "dimensions must be one or more of"),
    (dict(dimensions=[]), "dimensions must be one or more of"),
    (dict(input_type="invalid"), "input_type must be one of"),
    (dict(label_type="invalid"), "label_type must be one of"),
    (dict(label_type="custom"), "custom_labels must be provided"),
    (dict(custom_labels={"valence": {"positive": "happy face", "negative": "sad face"}}),
     "label_type='custom' to score with your labels"),
    (dict(label_type="custom", custom_labels="not a list"), "custom_labels must be a list"),
    (dict(label_type="custom", custom_labels={"valence": {"positive": "good", "negative": "bad"}}),
     "custom_labels must have elements named: valence, arousal, dominance.*arousal, dominance missing"),
    (dict(label_type="custom", dimensions="valence", custom_labels={"valence": {"positive": "a happy face"}}),
     "'valence' of custom_labels must have poles: positive, negative"),
    (dict(label_type="custom", dimensions="valence", custom_labels={"valence": {"positive": 123, "negative": "x"}}),
     r"valence\$positive must be a single character string"),
    (dict(label_type="custom", dimensions="valence", custom_labels={"valnce": {"positive": "a", "negative": "b"}}),
     "'valnce', which are not dimensions"),
    (dict(label_type="custom", dimensions="arousal",
          custom_labels={"arousal": {"high": "the same", "low": "the same"}}), "two poles of arousal .* are the same"),
    (dict(label_type="custom", dimensions="arousal",
          custom_labels={"arousal": {"high": "frame", "low": "a calm face"}}), "cannot be 'frame'"),
])
def test_bad_arguments_are_refused_before_any_work(kwargs, message):
    with pytest.raises(ValueError, match=message):
        te.vad_scores("face.jpg", **kwargs)


def test_short_custom_labels_warn_as_in_transforemotion(tiny_model, image_dir):
    labels = {"arousal": {"high": "up", "low": "calm and quiet"}}
    with pytest.warns(te.TransforemotionWarning, match=r"arousal\$high is very short"):
        te.vad_scores(str(image_dir / "astronaut.jpg"), dimensions="arousal", label_type="custom",
                      custom_labels=labels, local_model_path=tiny_model)


@pytest.mark.parametrize("source", ["This is some text", "I feel great"])
def test_text_is_refused_with_the_reason(source):
    with pytest.raises(ValueError, match="scores faces in images and video; text input is not supported"):
        te.vad_scores(source)
    with pytest.raises(ValueError, match="text input is not supported"):
        te.vad_scores(source, input_type="text")


def test_a_non_text_input_is_refused_as_transforemotion_does():
    with pytest.raises(ValueError, match="Input must be character"):
        te.vad_scores(123)


def test_options_of_another_kind_of_input_are_not_ignored(image_dir, face_video, tiny_model):
    image = str(image_dir / "astronaut.jpg")
    with pytest.raises(ValueError, match="nframes=10 applies to a video only"):
        te.vad_scores(image, nframes=10, local_model_path=tiny_model)
    with pytest.raises(ValueError, match="uniform=True, timestamps=True apply to a video only"):
        te.vad_scores(image, uniform=True, timestamps=True, local_model_path=tiny_model)
    with pytest.raises(ValueError, match="persons=2 applies to a video only"):
        te.vad_scores(image, face_selection="all", persons=2, local_model_path=tiny_model)
    with pytest.raises(ValueError, match="needs face_selection='all'"):
        te.vad_scores(face_video, persons=2, local_model_path=tiny_model)
    with pytest.raises(ValueError, match="recursive=True applies to a folder of images only"):
        te.vad_scores(face_video, recursive=True, local_model_path=tiny_model)
    with pytest.raises(ValueError, match="must be one video"):
        te.vad_scores([face_video, face_video], local_model_path=tiny_model)
    with pytest.raises(ValueError, match="a folder among several inputs"):
        te.vad_scores([str(image_dir), image], local_model_path=tiny_model)


def test_a_missing_image_is_a_file_not_found_error(tmp_path, tiny_model):
    with pytest.raises(FileNotFoundError, match="missing.jpg"):
        te.vad_scores(str(tmp_path / "missing.jpg"), local_model_path=tiny_model)


# --- map_discrete_to_vad ------------------------------------------------------------------------

# (valence, arousal, dominance), made up for the test; round numbers so the means can be worked by hand.
LEXICON = {"joy": (0.9, 0.6, 0.7), "anger": (0.1, 0.8, 0.6), "fear": (0.2, 0.9, 0.3), "calm": (0.7, 0.1, 0.5)}


def lexicon_columns():
    return {"Word": list(LEXICON), "Valence": [v[0] for v in LEXICON.values()],
            "Arousal": [v[1] for v in LEXICON.values()], "Dominance": [v[2] for v in LEXICON.values()]}


def write_nrc_file(path, header=True):
    lines = ["Word\tValence\tArousal\tDominance"] if header else []
    lines += [f"{w}\t{v}\t{a}\t{d}" for w, (v, a, d) in LEXICON.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


RESULTS = {"image_id": ["a.jpg", "b.jpg", "c.jpg"],
           "joy": [0.5, 0.1, float("nan")], "anger": [0.3, 0.6, float("nan")], "fear": [0.2, 0.3, float("nan")]}
# Worked by hand. Row a: valence .5*.9 + .3*.1 + .2*.2 = .52, arousal .5*.6 + .3*.8 + .2*.9 = .72,
# dominance .5*.7 + .3*.6 + .2*.3 = .59. Row b: valence .1*.9 + .6*.1 + .3*.2 = .21,
# arousal .1*.6 + .6*.8 + .3*.9 = .81, dominance .1*.7 + .6*.6 + .3*.3 = .52.
WEIGHTED = {"valence": [0.52, 0.21], "arousal": [0.72, 0.81], "dominance": [0.59, 0.52]}


def test_weighted_mean_equals_the_hand_computed_one(tmp_path):
    result = te.map_discrete_to_vad(RESULTS, vad_lexicon=write_nrc_file(tmp_path / "NRC-VAD-Lexicon.txt"))
    assert list(result) == ["image_id", "valence", "arousal", "dominance"]
    assert result["image_id"] == ["a.jpg", "b.jpg", "c.jpg"]
    for dim in ("valence", "arousal", "dominance"):
        assert result[dim][:2] == pytest.approx(WEIGHTED[dim])
        assert math.isnan(result[dim][2])  # no face, no VAD


def test_top_label_mode_takes_the_vad_of_the_best_label():
    result = te.map_discrete_to_vad(RESULTS, weighted=False, vad_lexicon=lexicon_columns())
    assert [result[d][0] for d in ("valence", "arousal", "dominance")] == [0.9, 0.6, 0.7]  # joy
    assert [result[d][1] for d in ("valence", "arousal", "dominance")] == [0.1, 0.8, 0.6]  # anger


def test_labels_missing_from_the_lexicon_are_named_and_left_out():
    results = {"joy": [0.4, 0.1], "anger": [0.2, 0.15], "fear": [0.2, 0.05], "contempt": [0.2, 0.7]}
    with pytest.warns(te.TransforemotionWarning, match="1 label.*left out: 'contempt'") as caught:
        weighted = te.map_discrete_to_vad(results, vad_lexicon=LEXICON)
    assert len(caught) == 1  # one warning, not one per row
    # Renormalised over joy, anger, fear (0.8): weights 0.5, 0.25, 0.25.
    assert weighted["valence"][0] == pytest.approx(0.5 * 0.9 + 0.25 * 0.1 + 0.25 * 0.2)
    assert weighted["arousal"][0] == pytest.approx(0.5 * 0.6 + 0.25 * 0.8 + 0.25 * 0.9)
    assert weighted["dominance"][0] == pytest.approx(0.5 * 0.7 + 0.25 * 0.6 + 0.25 * 0.3)
    with pytest.warns(te.TransforemotionWarning, match="contempt"):
        top = te.map_discrete_to_vad(results, weighted=False, vad_lexicon=LEXICON)
    # contempt has the top score in row 2 but no entry; the best label the lexicon has is anger.
    assert (top["valence"][1], top["arousal"][1], top["dominance"][1]) == (0.1, 0.8, 0.6)


def test_video_results_keep_their_frame_and_time(tmp_path):
    results = {"frame": [0, 15], "time": [0.0, 0.6], "face": [0, 0], "x": [10, 12], "y": [5, 5], "width": [50, 50],
               "height": [60, 60], "confidence": [0.99, 0.98], "Joy": [0.25, 1.0], "calm": [0.75, 0.0]}
    result = te.map_discrete_to_vad(results, vad_lexicon=write_nrc_file(tmp_path / "lex.tsv", header=False))
    assert list(result)[:8] == list(results)[:8]
    assert result["frame"] == [0, 15] and result["confidence"] == [0.99, 0.98]
    assert result["valence"] == pytest.approx([0.25 * 0.9 + 0.75 * 0.7, 0.9])  # "Joy" matches "joy"
    assert result["arousal"] == pytest.approx([0.25 * 0.6 + 0.75 * 0.1, 0.6])


def test_pandas_tables_and_csv_files_work(tmp_path):
    pd = pytest.importorskip("pandas")
    csv_path = tmp_path / "lexicon.csv"
    pd.DataFrame(lexicon_columns()).to_csv(csv_path, index=False)
    from_csv = te.map_discrete_to_vad(pd.DataFrame(RESULTS), vad_lexicon=str(csv_path))
    from_frame = te.map_discrete_to_vad(RESULTS, vad_lexicon=pd.DataFrame(lexicon_columns()))
    assert from_csv["valence"][:2] == pytest.approx(from_frame["valence"][:2])
    assert from_csv["valence"][0] == pytest.approx(0.52)


def test_without_a_lexicon_the_error_says_how_to_get_one():
    with pytest.raises(ValueError, match=r"textdata::lexicon_nrc_vad\(\).*vad_lexicon='NRC-VAD-Lexicon.txt'"):
        te.map_discrete_to_vad(RESULTS)


def test_map_arguments_are_checked(tmp_path):
    with pytest.raises(ValueError, match="mapping must be one of 'nrc_vad'"):
        te.map_discrete_to_vad(RESULTS, mapping="warriner", vad_lexicon=LEXICON)
    with pytest.raises(ValueError, match="None of the labels"):
        te.map_discrete_to_vad({"happy face": [1.0], "sad face": [0.0]}, vad_lexicon=LEXICON)
    with pytest.raises(ValueError, match="no label columns"):
        te.map_discrete_to_vad({"image_id": ["a.jpg"]}, vad_lexicon=LEXICON)
    with pytest.raises(FileNotFoundError, match="nowhere.txt"):
        te.map_discrete_to_vad(RESULTS, vad_lexicon=str(tmp_path / "nowhere.txt"))
    bad = tmp_path / "bad.csv"
    bad.write_text("word,valence,arousal\njoy,0.9,0.6\n")
    with pytest.raises(ValueError, match="must have the columns word, valence, arousal and dominance"):
        te.map_discrete_to_vad(RESULTS, vad_lexicon=str(bad))
    with pytest.raises(ValueError, match="Text scores .* are not supported"):
        te.map_discrete_to_vad([0.5, 0.5], vad_lexicon=LEXICON)


def test_a_lexicon_file_is_read_again_when_it_changes(tmp_path):
    path = tmp_path / "lexicon.tsv"
    write_nrc_file(path)
    first = te.map_discrete_to_vad({"joy": [1.0], "anger": [0.0]}, vad_lexicon=str(path))
    path.write_text("word\tvalence\tarousal\tdominance\njoy\t0.5\t0.5\t0.5\nanger\t0.1\t0.8\t0.6\n"
                    "fear\t0.2\t0.9\t0.3\n")
    second = te.map_discrete_to_vad({"joy": [1.0], "anger": [0.0]}, vad_lexicon=str(path))
    assert (first["valence"][0], second["valence"][0]) == (0.9, 0.5)


def test_nothing_warns_when_every_label_is_known():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        te.map_discrete_to_vad(RESULTS, vad_lexicon=LEXICON)
