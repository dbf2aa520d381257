"""The scoring engine: every face with its box, templates, per-call options, no process-wide side effects."""

import math
import threading
import warnings

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

import transforemotion as te
from transforemotion import faces, media, models

CLASSES = ["joy", "anger", "surprise"]


def four_face_canvas(face):
    """Four copies of the astronaut's face of different sizes, in a row, on a plain background."""
    canvas = np.full((420, 1400, 3), 190, np.uint8)
    for x, (w, h) in zip((30, 380, 700, 1050), ((250, 300), (200, 240), (170, 204), (230, 276))):
        canvas[60 : 60 + h, x : x + w] = cv2.resize(face, (w, h))
    return canvas


@pytest.fixture(scope="module")
def group_photo(tmp_path_factory, face):
    path = tmp_path_factory.mktemp("group") / "group.png"
    Image.fromarray(four_face_canvas(face)).save(path)
    return str(path)


def reference_probabilities(model_dir, crop, texts_per_label):
    """Zero-shot CLIP written out by hand from transformers' own processor and tokenizer: each label's
    text vector is the mean of its sentences' unit vectors, normalised again."""
    from transformers import AutoTokenizer, CLIPModel

    try:
        from transformers import CLIPImageProcessorPil as Processor
    except ImportError:  # transformers 4.x
        from transformers import CLIPImageProcessor as Processor

    model = CLIPModel.from_pretrained(model_dir, local_files_only=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    processor = Processor.from_pretrained(model_dir, local_files_only=True)

    def unit(t):
        t = t if isinstance(t, torch.Tensor) else t.pooler_output
        return t / t.norm(dim=-1, keepdim=True)

    with torch.no_grad():
        pixels = processor(images=Image.fromarray(crop), return_tensors="pt")["pixel_values"]
        image = unit(model.get_image_features(pixel_values=pixels))
        label_vectors = []
        for sentences in texts_per_label:
            tokens = tokenizer(sentences, padding=True, return_tensors="pt")
            vectors = unit(model.get_text_features(input_ids=tokens["input_ids"],
                                                   attention_mask=tokens["attention_mask"]))
            mean = vectors.mean(dim=0)
            label_vectors.append(mean / mean.norm())
        text = torch.stack(label_vectors)
        return torch.softmax(model.logit_scale.exp() * image @ text.T, dim=-1)[0].numpy()


def row(result, i, classes=CLASSES):
    return np.array([result[c][i] for c in classes])


# --- every face ------------------------------------------------------------------------------

def test_all_gives_one_row_per_face_left_to_right_with_boxes(tiny_model, group_photo):
    result = te.image_scores(group_photo, CLASSES, face_selection="all", local_model_path=tiny_model)
    assert list(result) == ["image", "face", "x", "y", "width", "height", "confidence"] + CLASSES
    assert result["face"] == [0, 1, 2, 3]
    assert result["image"] == [group_photo] * 4
    assert result["x"] == sorted(result["x"])
    # Each face was pasted at a known place: the box centre lies inside it.
    pasted = [(30, 250), (380, 200), (700, 170), (1050, 230)]
    for i, (left, width) in enumerate(pasted):
        centre = result["x"][i] + result["width"][i] / 2
        assert left < centre < left + width
        assert all(type(result[c][i]) is int for c in ("x", "y", "width", "height"))
        assert result["confidence"][i] > 0.9
        assert sum(result[c][i] for c in CLASSES) == pytest.approx(1.0)


def test_each_face_row_equals_a_reference_score_of_that_face(tiny_model, group_photo):
    result = te.image_scores(group_photo, CLASSES, face_selection="all", local_model_path=tiny_model)
    picture = media.load_image(group_photo)
    boxes = faces.detect_faces(picture)
    boxes = boxes[np.argsort((boxes[:, 0] + boxes[:, 2]) / 2)]
    assert len(boxes) == 4
    for i, box in enumerate(boxes):
        expected = reference_probabilities(tiny_model, faces.crop_face(picture, box), [[c] for c in CLASSES])
        np.testing.assert_allclose(row(result, i), expected, atol=5e-3)


def test_a_group_photo_is_one_forward_pass(tiny_model, group_photo, monkeypatch):
    vlm = models.load_model(local_model_path=tiny_model)
    calls = []
    original = models.VisionLanguageModel.embed_pixels

    def counting(self, pixel_values):
        calls.append(len(pixel_values))
        return original(self, pixel_values)

    monkeypatch.setattr(models.VisionLanguageModel, "embed_pixels", counting)
    te.image_scores(group_photo, CLASSES, face_selection="all", local_model_path=tiny_model)
    assert calls == [4]
    assert vlm is models.load_model(local_model_path=tiny_model)


def test_all_keeps_a_row_for_a_picture_without_faces(tiny_model, image_dir, group_photo):
    blank = str(image_dir / "blank.png")
    with pytest.warns(te.TransforemotionWarning, match="blank.png"):
        result = te.image_scores([blank, group_photo], CLASSES, face_selection="all", local_model_path=tiny_model)
    assert result["image"] == [blank] + [group_photo] * 4
    for column in ["face", "x", "y", "width", "height", "confidence"] + CLASSES:
        assert math.isnan(result[column][0]), column
    assert result["face"][1:] == [0, 1, 2, 3]


def test_all_in_a_folder_and_a_video(tiny_model, image_dir, face_video):
    folder = te.image_scores_dir(str(image_dir), CLASSES, face_selection="all", local_model_path=tiny_model,
                                 pattern=r"two_faces")
    assert folder["image_id"] == ["two_faces.png", "two_faces.png"] and folder["face"] == [0, 1]
    assert folder["width"][0] > folder["width"][1]  # the big face is on the left
    with pytest.warns(te.TransforemotionWarning, match="No face"):
        video = te.video_scores(face_video, CLASSES, nframes=6, ffreq=11, face_selection="all",
                                local_model_path=tiny_model)
    assert list(video)[:4] == ["frame", "time", "person", "face"]  # frame and time always there with "all"
    assert video["frame"] == [0, 11, 22, 33, 44, 55]
    assert video["face"][:4] == [0, 0, 0, 0] and all(math.isnan(f) for f in video["face"][4:])
    # one person, followed while the face is in the picture; no person once it has left (no gap to fill)
    assert video["person"][:4] == [0, 0, 0, 0] and all(math.isnan(p) for p in video["person"][4:])


def test_face_boxes_report_the_scored_face(tiny_model, image_dir, face):
    path = str(image_dir / "two_faces.png")
    plain = te.image_scores(path, CLASSES, face_selection="right", local_model_path=tiny_model)
    boxed = te.image_scores(path, CLASSES, face_selection="right", face_boxes=True, local_model_path=tiny_model)
    assert list(boxed) == ["x", "y", "width", "height", "confidence"] + CLASSES
    assert row(boxed, 0) == pytest.approx(row(plain, 0))
    # two_face_canvas pastes the small face at x 600-725, y 150-300.
    assert 600 <= boxed["x"][0] and boxed["x"][0] + boxed["width"][0] <= 730
    assert 140 <= boxed["y"][0] and boxed["y"][0] + boxed["height"][0] <= 305
    with pytest.raises(ValueError, match="whole picture"):
        te.image_scores(path, CLASSES, face_selection="none", face_boxes=True, local_model_path=tiny_model)


# --- templates -------------------------------------------------------------------------------

def test_templates_average_the_sentences_per_label(tiny_model, image_dir):
    path = str(image_dir / "astronaut.jpg")
    templates = ["a photo of a {} face.", "someone who feels {}", "{}!"]
    result = te.image_scores(path, CLASSES, templates=templates, local_model_path=tiny_model)
    assert list(result) == CLASSES  # columns stay the labels as given
    picture = media.load_image(path)
    crop = faces.crop_face(picture, faces.choose_faces(picture, "largest")[0])
    sentences = [[t.replace("{}", c) for t in templates] for c in CLASSES]
    np.testing.assert_allclose(row(result, 0), reference_probabilities(tiny_model, crop, sentences), atol=5e-3)
    verbatim = te.image_scores(path, CLASSES, local_model_path=tiny_model)
    assert not np.allclose(row(result, 0), row(verbatim, 0), atol=1e-4)


def test_built_in_template_sets_and_one_template(tiny_model, image_dir):
    path = str(image_dir / "astronaut.jpg")
    fer = te.image_scores(path, CLASSES, templates="fer", local_model_path=tiny_model)
    by_hand = te.image_scores(path, CLASSES, templates=list(te.TEMPLATE_SETS["fer"]), local_model_path=tiny_model)
    assert row(fer, 0) == pytest.approx(row(by_hand, 0), abs=1e-9)
    assert len(te.TEMPLATE_SETS["fer"]) == 6 and "face" in te.TEMPLATE_SETS
    one = te.image_scores(path, CLASSES, templates="a photo of a {} face.", local_model_path=tiny_model)
    assert sum(row(one, 0)) == pytest.approx(1.0)


@pytest.mark.parametrize("templates", ["a photo of a face.", ["{} and {}"], ["ok {}", 3], [], "fear-set"])
def test_bad_templates_are_shown(tiny_model, image_dir, templates):
    with pytest.raises(ValueError, match="template") as info:
        te.image_scores(str(image_dir / "astronaut.jpg"), CLASSES, templates=templates, local_model_path=tiny_model)
    if isinstance(templates, str):
        assert templates in str(info.value)


def test_text_embeddings_are_cached_per_labels_and_templates(tiny_model):
    vlm = models.load_model(local_model_path=tiny_model)
    fer = te.TEMPLATE_SETS["fer"]
    assert vlm.embed_texts(CLASSES, fer) is vlm.embed_texts(list(CLASSES), list(fer))
    assert vlm.embed_texts(CLASSES, fer) is not vlm.embed_texts(CLASSES)
    assert vlm.embed_texts(CLASSES, fer).shape == vlm.embed_texts(CLASSES).shape


def test_a_label_longer_than_the_text_tower_reads_is_cut_with_a_warning(tiny_model, image_dir):
    long_label = "a very long description of a feeling " * 10  # ~370 characters, far over 77 tokens
    with pytest.warns(te.TransforemotionWarning, match="longer than the 77 tokens"):
        result = te.image_scores(str(image_dir / "astronaut.jpg"), ["joy", long_label], local_model_path=tiny_model)
    assert result["joy"][0] + result[long_label][0] == pytest.approx(1.0)


# --- per-call options ------------------------------------------------------------------------

@pytest.mark.parametrize("size", [0, -3, 2.5, "8", True, float("nan"), 10**9])
def test_bad_batch_size(tiny_model, image_dir, size):
    with pytest.raises(ValueError, match="batch_size"):
        te.image_scores(str(image_dir / "astronaut.jpg"), CLASSES, batch_size=size, local_model_path=tiny_model)


@pytest.mark.parametrize("raw", ["0", "abc", "-1"])
def test_bad_batch_size_in_the_environment_is_named_at_call_time(tiny_model, image_dir, monkeypatch, raw):
    monkeypatch.setenv("TRANSFOREMOTION_BATCH_SIZE", raw)
    import importlib

    importlib.reload(te)  # importing never fails because of the environment
    with pytest.raises(ValueError, match=f"TRANSFOREMOTION_BATCH_SIZE is '{raw}'"):
        te.image_scores(str(image_dir / "astronaut.jpg"), CLASSES, local_model_path=tiny_model)
    # an explicit argument wins over the environment
    te.image_scores(str(image_dir / "astronaut.jpg"), CLASSES, batch_size=4, local_model_path=tiny_model)


def test_batch_size_from_the_environment_is_used(tiny_model, group_photo, monkeypatch):
    calls = []
    original = models.VisionLanguageModel.embed_pixels
    monkeypatch.setattr(models.VisionLanguageModel, "embed_pixels",
                        lambda self, px: calls.append(len(px)) or original(self, px))
    monkeypatch.setenv("TRANSFOREMOTION_BATCH_SIZE", "3")
    te.image_scores(group_photo, CLASSES, face_selection="all", local_model_path=tiny_model)
    assert calls == [3, 1]  # four faces, at most three per pass


def test_device_is_checked_before_any_work(tiny_model, image_dir):
    with pytest.raises(ValueError, match="warp-drive"):
        te.image_scores(str(image_dir / "astronaut.jpg"), CLASSES, device="warp-drive", local_model_path=tiny_model)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            te.image_scores(str(image_dir / "astronaut.jpg"), CLASSES, device="cuda", local_model_path=tiny_model)
    result = te.image_scores(str(image_dir / "astronaut.jpg"), CLASSES, device="cpu", local_model_path=tiny_model)
    assert sum(row(result, 0)) == pytest.approx(1.0)


def test_progress_must_be_a_flag(tiny_model, image_dir, monkeypatch):
    with pytest.raises(ValueError, match="progress"):
        te.image_scores(str(image_dir / "astronaut.jpg"), CLASSES, progress="yes", local_model_path=tiny_model)
    monkeypatch.setenv("TRANSFOREMOTION_PROGRESS", "maybe")
    with pytest.raises(ValueError, match="TRANSFOREMOTION_PROGRESS"):
        te.image_scores(str(image_dir / "astronaut.jpg"), CLASSES, local_model_path=tiny_model)


def test_a_bad_first_input_fails_before_the_model_loads(tmp_path, image_dir):
    broken_model = tmp_path / "model"
    broken_model.mkdir()
    (broken_model / "config.json").write_text("{ this is not a model")
    (tmp_path / "text.jpg").write_text("not a picture")
    with pytest.raises(ValueError, match="text.jpg"):
        te.image_scores(str(tmp_path / "text.jpg"), CLASSES, local_model_path=str(broken_model))


# --- no process-wide side effects ------------------------------------------------------------

def test_overlapping_calls_leave_opencv_threads_as_they_were(tiny_model, image_dir):
    before = cv2.getNumThreads()
    cv2.setNumThreads(3)
    try:
        errors = []

        def score():
            try:
                te.image_scores([str(image_dir / "two_faces.png")] * 6, CLASSES, face_selection="left",
                                local_model_path=tiny_model)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=score) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert cv2.getNumThreads() == 3
    finally:
        cv2.setNumThreads(before)


def test_loading_a_model_leaves_transformers_logging_as_it_was(tiny_model, tmp_path):
    from transformers.utils import logging as transformers_logging

    from transforemotion.testing import build_tiny_clip

    folder = build_tiny_clip(str(tmp_path / "fresh"), seed=5)
    transformers_logging.set_verbosity_info()
    bars = transformers_logging.is_progress_bar_enabled()  # off where HF_HUB_DISABLE_PROGRESS_BARS is set
    try:
        models.load_model(local_model_path=folder)
        assert transformers_logging.get_verbosity() == transformers_logging.INFO
        assert transformers_logging.is_progress_bar_enabled() == bars
    finally:
        transformers_logging.set_verbosity_warning()


def test_warnings_point_at_the_callers_line(tiny_model, image_dir):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        te.image_scores(str(image_dir / "blank.png"), CLASSES, local_model_path=tiny_model)
    ours = [w for w in caught if issubclass(w.category, te.TransforemotionWarning)]
    assert len(ours) == 1 and ours[0].filename == __file__


# --- pictures of odd shapes ------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(1, 200_000), (200_000, 1), (1, 1), (3, 7)])
def test_extreme_shapes_are_scored_whole(tiny_model, tmp_path, shape):
    path = tmp_path / "strip.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, shape + (3,), dtype=np.uint8)).save(path)
    result = te.image_scores(str(path), CLASSES, face_selection="none", local_model_path=tiny_model)
    assert sum(row(result, 0)) == pytest.approx(1.0)


def test_all_on_a_real_group_photo_scores_every_face_the_reference_finds(tiny_model, tmp_path):
    """Twelve real faces (Labeled Faces in the Wild, at three times their size): one row per face the
    reference MTCNN finds, each row's box on one of the reference's boxes, all in one forward pass."""
    import face_corpus

    picture = face_corpus.lfw_mosaic(0, 12, per_row=4, border=20, zoom=3)
    path = tmp_path / "group.png"
    Image.fromarray(picture).save(path)
    reference = face_corpus.reference_faces(face_corpus.reference_detector(), picture)
    reference = reference[reference[:, 4] >= 0.9]
    result = te.image_scores(str(path), CLASSES, face_selection="all", local_model_path=tiny_model)
    assert len(reference) >= 10 and len(result["face"]) == len(reference)
    ours = np.array([[x, y, x + w - 1, y + h - 1] for x, y, w, h in
                     zip(result["x"], result["y"], result["width"], result["height"])], float)
    assert (face_corpus.iou(ours, reference[:, :4]).max(axis=1) >= 0.5).all()
    assert result["face"] == list(range(len(reference)))


def test_rows_carry_each_faces_image_embedding_when_asked(tiny_model, group_photo, tmp_path):
    from transforemotion.engine import Picture, ScoringPlan, score_all

    vlm = models.load_model(local_model_path=tiny_model)
    picture = media.load_image(group_photo)
    blank = np.full((64, 64, 3), 127, np.uint8)
    pictures = [Picture(0, picture), Picture(1, blank), Picture(2, None, "unreadable")]
    plan = ScoringPlan(tuple(CLASSES), "all", 3, keep_embeddings=True)
    rows = score_all(vlm, pictures, plan)
    boxes = faces.choose_faces(picture, "all")
    assert len(boxes) == 4 and rows.embeddings.shape == (6, vlm.embed_texts(CLASSES).shape[1])
    by_hand = vlm.embed_images([faces.crop_face(picture, b) for b in boxes]).numpy()
    np.testing.assert_allclose(rows.embeddings[:4], by_hand, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(rows.embeddings[:4], axis=1), 1.0, atol=1e-5)
    assert np.isnan(rows.embeddings[4:]).all()  # no face, and no picture
    # The scores are the embeddings' scores: nothing else went into them.
    np.testing.assert_allclose(rows.scores[:4], vlm.probabilities(torch.from_numpy(by_hand), vlm.embed_texts(CLASSES)),
                               atol=1e-6)
    # Not asked: not kept (a long video's rows stay small), though the stream had them.
    assert score_all(vlm, pictures, ScoringPlan(tuple(CLASSES), "all", 3)).embeddings is None
    assert rows.slice(1, 3).embeddings.shape == (2, rows.embeddings.shape[1])
