"""Score once, ask again: embed_images / embed_dir / embed_video, rescore, save_embeddings / load_embeddings.

The reference for every rescore is a fresh scoring run with the same labels; the reference for the arithmetic is
zero-shot CLIP written out by hand from transformers' own model and tokenizer.
"""

import math
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import transforemotion as te
from conftest import quiet
from transforemotion.core.errors import ArgumentError, InputNotFoundError
from transforemotion.testing import build_tiny_clip

pytest.importorskip("pyarrow")

LABELS = ["joy", "anger", "surprise"]
NEW_LABELS = ["calm", "disgust", "a face full of contempt", "fear"]


def assert_same_result(got, want, atol=1e-5):
    """The same columns in the same order; text equal, numbers equal to ``atol`` (NaN where NaN)."""
    assert list(got) == list(want)
    for name in want:
        if any(isinstance(v, str) for v in want[name]):
            assert got[name] == want[name], name
        else:
            np.testing.assert_allclose(np.array(got[name], float), np.array(want[name], float), rtol=0, atol=atol,
                                       equal_nan=True, err_msg=name)


@pytest.fixture(scope="module")
def pictures(image_dir, tmp_path_factory):
    """A face, a group of two, a picture without a face, and a file that is not an image."""
    bad = tmp_path_factory.mktemp("bad") / "broken.jpg"
    bad.write_bytes(b"not an image")
    return [str(image_dir / "astronaut.jpg"), str(image_dir / "two_faces.png"), str(image_dir / "blank.png"),
            str(bad)]


@pytest.fixture(scope="module")
def other_model(tmp_path_factory):
    return build_tiny_clip(str(tmp_path_factory.mktemp("other-clip")), seed=1)


# --- rescore equals a fresh run -------------------------------------------------------------

@pytest.mark.parametrize("selection, boxes, templates", [("largest", True, None), ("all", False, "fer"),
                                                         ("none", False, "a photo of a {} face."),
                                                         ("right", False, None)])
def test_rescore_equals_image_scores(tiny_model, pictures, selection, boxes, templates):
    emb = quiet(te.embed_images, pictures, face_selection=selection, face_boxes=boxes, local_model_path=tiny_model)
    fresh = quiet(te.image_scores, pictures, NEW_LABELS, face_selection=selection, face_boxes=boxes,
                  templates=templates, local_model_path=tiny_model)
    assert_same_result(te.rescore(emb, NEW_LABELS, templates=templates), fresh)
    # The rows are image_scores' rows: no label columns, one vector per row.
    assert list(emb.rows) == [c for c in fresh if c not in NEW_LABELS]
    assert emb.vectors.shape == (len(fresh[NEW_LABELS[0]]), emb.model["dim"]) and emb.vectors.dtype == np.float32
    embedded = np.isfinite(emb.vectors).all(axis=1)
    assert (embedded == np.isfinite(fresh[NEW_LABELS[0]])).all()
    np.testing.assert_allclose(np.linalg.norm(emb.vectors[embedded], axis=1), 1.0, atol=1e-5)


def test_one_image_that_cannot_be_read_is_an_error_as_in_image_scores(tiny_model, pictures):
    with pytest.raises(ValueError, match="broken.jpg"):
        te.embed_images(pictures[3], local_model_path=tiny_model)


def test_rescore_equals_image_scores_dir(tiny_model, image_dir):
    emb = quiet(te.embed_dir, str(image_dir), face_selection="all", local_model_path=tiny_model)
    assert emb.rows["image_id"] == ["astronaut.jpg", "blank.png", "two_faces.png", "two_faces.png"]
    fresh = quiet(te.image_scores_dir, str(image_dir), NEW_LABELS, face_selection="all", local_model_path=tiny_model)
    assert_same_result(te.rescore(emb, NEW_LABELS), fresh)


@pytest.mark.parametrize("selection, timestamps", [("largest", False), ("largest", True), ("all", False)])
def test_rescore_equals_video_scores(tiny_model, face_video, selection, timestamps):
    sampling = dict(nframes=12, ffreq=5, face_selection=selection, timestamps=timestamps, local_model_path=tiny_model)
    emb = quiet(te.embed_video, face_video, **sampling)
    fresh = quiet(te.video_scores, face_video, NEW_LABELS, **sampling)
    assert_same_result(te.rescore(emb, NEW_LABELS), fresh)
    assert len(emb) == len(fresh[NEW_LABELS[0]])
    assert ("frame" in emb.rows) == (timestamps or selection == "all")


def test_rescore_is_zero_shot_clip_by_hand(tiny_model, image_dir):
    """Softmax of exp(logit_scale) x image . text, with the text side from transformers directly."""
    from transformers import AutoTokenizer, CLIPModel

    emb = te.embed_images(str(image_dir / "astronaut.jpg"), local_model_path=tiny_model)
    model = CLIPModel.from_pretrained(tiny_model, local_files_only=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_model, local_files_only=True)
    with torch.no_grad():
        tokens = tokenizer(NEW_LABELS, padding=True, return_tensors="pt")
        text = model.get_text_features(input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"])
        text = text if isinstance(text, torch.Tensor) else text.pooler_output
        text = (text / text.norm(dim=-1, keepdim=True)).numpy().astype(float)
        scale = float(model.logit_scale.exp())
    logits = scale * emb.vectors[0].astype(float) @ text.T
    expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    got = te.rescore(emb, NEW_LABELS)
    np.testing.assert_allclose([got[label][0] for label in NEW_LABELS], expected, atol=1e-5)


def test_nothing_embedded_gives_missing_scores(tiny_model, image_dir):
    emb = quiet(te.embed_images, [str(image_dir / "blank.png")], local_model_path=tiny_model)
    assert np.isnan(emb.vectors).all() and emb.vectors.shape == (1, emb.model["dim"])
    assert all(math.isnan(v[0]) for v in te.rescore(emb, LABELS).values())


# --- which model ----------------------------------------------------------------------------

def test_embeddings_of_another_model_are_refused(tiny_model, other_model, image_dir):
    emb = te.embed_images(str(image_dir / "astronaut.jpg"), local_model_path=tiny_model)
    with pytest.raises(ArgumentError, match="were made by the model .*other weights") as info:
        te.rescore(emb, LABELS, local_model_path=other_model)
    assert tiny_model in str(info.value) and other_model in str(info.value)
    with pytest.raises(ArgumentError, match="another image preprocessing"):
        te.rescore(emb, LABELS, local_model_path=build_tiny_clip(
            os.path.join(os.path.dirname(other_model), "wide"), image_size=48))  # another input size


def test_the_same_weights_in_another_folder_are_accepted(tiny_model, image_dir, tmp_path):
    emb = te.embed_images(str(image_dir / "astronaut.jpg"), local_model_path=tiny_model)
    moved = shutil.copytree(tiny_model, tmp_path / "moved")
    assert_same_result(te.rescore(emb, LABELS, local_model_path=str(moved)), te.rescore(emb, LABELS), atol=1e-7)


def test_a_model_folder_that_is_gone_is_named(image_dir, tmp_path):
    folder = build_tiny_clip(str(tmp_path / "gone"))
    emb = te.embed_images(str(image_dir / "astronaut.jpg"), local_model_path=folder)
    shutil.rmtree(folder)
    with pytest.raises(InputNotFoundError, match="not there any more.*local_model_path"):
        te.rescore(emb, LABELS)


def test_the_record_says_which_model_and_preprocessing(tiny_model, image_dir):
    emb = te.embed_images(str(image_dir / "astronaut.jpg"), local_model_path=tiny_model)
    record = emb.model
    assert record["model"] == os.path.abspath(tiny_model) and record["architecture"] == "clip"
    assert record["dim"] == 16 and record["dtype"] == "float32"
    # build_tiny_clip writes a 32-pixel input with CLIP's mean and std.
    assert record["preprocess"] == {"size": 32, "mean": pytest.approx([0.48145466, 0.4578275, 0.40821073]),
                                    "std": pytest.approx([0.26862954, 0.26130258, 0.27577711])}
    assert len(record["probe"]["text"]) == 16 and len(record["probe"]["image"]) == 16
    assert "16 dimensions" in repr(emb) and "1 embedded" in repr(emb)


# --- the rows -------------------------------------------------------------------------------

def test_unknown_row_columns_ride_along(tiny_model, image_dir, tmp_path):
    """A column a newer engine adds (such as person) passes through rescore, save and load unchanged."""
    emb = quiet(te.embed_images, [str(image_dir / "two_faces.png"), str(image_dir / "blank.png")],
                face_selection="all", local_model_path=tiny_model)
    rows = {"person": [1, 0, float("nan")], **emb.rows}
    tracked = te.Embeddings(rows, emb.vectors, emb.model)
    scores = te.rescore(tracked, LABELS)
    assert list(scores)[:2] == ["person", "image"] and scores["person"][:2] == [1, 0]
    path = te.save_embeddings(tracked, str(tmp_path / "tracked.parquet"))
    back = te.load_embeddings(path)
    assert back.rows["person"][:2] == [1, 0] and type(back.rows["person"][0]) is int
    assert math.isnan(back.rows["person"][2])


def test_a_label_named_like_a_row_column_is_refused(tiny_model, image_dir):
    emb = quiet(te.embed_images, [str(image_dir / "two_faces.png")], face_selection="all",
                local_model_path=tiny_model)
    with pytest.raises(ArgumentError, match="'face'.* same name as a column"):
        te.rescore(emb, ["face", "joy"])


def test_embeddings_that_do_not_fit_together_are_refused(tiny_model, image_dir):
    emb = te.embed_images(str(image_dir / "astronaut.jpg"), local_model_path=tiny_model)
    with pytest.raises(ArgumentError, match="1 rows, but the column"):
        te.Embeddings({"image": ["a", "b"]}, emb.vectors, emb.model)
    with pytest.raises(ArgumentError, match="8 dimensions, but their model record says 16"):
        te.Embeddings({}, emb.vectors[:, :8], emb.model)
    with pytest.raises(ArgumentError, match="lacks probe"):
        te.Embeddings({}, emb.vectors, {k: v for k, v in emb.model.items() if k != "probe"})
    with pytest.raises(ArgumentError, match="embeddings made by embed_images"):
        te.rescore({"joy": [0.5]}, LABELS)


def test_a_record_handed_back_by_r_is_read_exactly(tiny_model, image_dir):
    """R gives whole numbers as doubles and one-element vectors as scalars."""
    emb = te.embed_images(str(image_dir / "astronaut.jpg"), local_model_path=tiny_model)
    from_r = dict(emb.model, dim=float(emb.model["dim"]),
                  preprocess=dict(emb.model["preprocess"], size=float(emb.model["preprocess"]["size"])))
    again = te.Embeddings({}, emb.vectors.astype(float), from_r)
    assert again.model == emb.model
    assert_same_result(te.rescore(again, LABELS), te.rescore(emb, LABELS), atol=0)


# --- the file -------------------------------------------------------------------------------

def test_float32_file_round_trips_exactly(tiny_model, pictures, tmp_path):
    emb = quiet(te.embed_images, pictures, face_selection="all", local_model_path=tiny_model)
    path = te.save_embeddings(emb, str(tmp_path / "e.parquet"))
    back = te.load_embeddings(path)
    np.testing.assert_array_equal(back.vectors, emb.vectors)
    assert back.model == emb.model
    assert_same_result(back.rows, emb.rows, atol=0)
    assert [type(v) for v in back.rows["face"]] == [type(v) for v in emb.rows["face"]]
    assert_same_result(te.rescore(back, NEW_LABELS), te.rescore(emb, NEW_LABELS), atol=0)
    assert [n for n in os.listdir(tmp_path)] == ["e.parquet"]  # no temporary file left


def test_the_file_is_plain_parquet_for_pandas_and_arrow(tiny_model, pictures, tmp_path):
    import json

    import pandas as pd
    import pyarrow.parquet as pq

    emb = quiet(te.embed_images, pictures, face_selection="all", local_model_path=tiny_model)
    path = te.save_embeddings(emb, str(tmp_path / "e.parquet"), precision="float16")
    frame = pd.read_parquet(path)
    assert list(frame.columns) == list(emb.rows) + ["embedding"]
    assert frame["embedding"].isna().tolist() == np.isnan(emb.vectors[:, 0]).tolist()
    first = np.asarray(frame["embedding"][0], float)
    np.testing.assert_allclose(first, emb.vectors[0], atol=1e-3)
    schema = pq.read_schema(path)
    kind = schema.field("embedding").type
    assert kind.list_size == 16 and str(kind.value_type) == "halffloat"
    meta = json.loads(schema.metadata[b"transforemotion.embeddings"])
    assert meta["format"] == "transforemotion-embeddings" and meta["version"] == 1
    assert meta["precision"] == "float16" and meta["model"] == emb.model


def test_float16_halves_the_vectors_and_moves_scores_little(tiny_model, pictures, tmp_path):
    emb = quiet(te.embed_images, pictures, face_selection="all", local_model_path=tiny_model)
    half = te.load_embeddings(te.save_embeddings(emb, str(tmp_path / "h.parquet"), precision="float16"))
    ok = np.isfinite(emb.vectors[:, 0])
    np.testing.assert_allclose(half.vectors[ok], emb.vectors[ok], atol=1e-3)
    np.testing.assert_array_equal(half.vectors[ok], emb.vectors[ok].astype(np.float16).astype(np.float32))
    assert_same_result(te.rescore(half, NEW_LABELS), te.rescore(emb, NEW_LABELS), atol=1e-3)


def test_save_replaces_a_file_atomically(tiny_model, image_dir, tmp_path, monkeypatch):
    emb = te.embed_images(str(image_dir / "astronaut.jpg"), local_model_path=tiny_model)
    path = str(tmp_path / "e.parquet")
    te.save_embeddings(emb, path)
    before = Path(path).read_bytes()

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        te.save_embeddings(emb, path, precision="float16")
    monkeypatch.undo()
    assert Path(path).read_bytes() == before and os.listdir(tmp_path) == ["e.parquet"]


def test_bad_save_arguments(tiny_model, image_dir, tmp_path):
    emb = te.embed_images(str(image_dir / "astronaut.jpg"), local_model_path=tiny_model)
    with pytest.raises(ArgumentError, match="precision"):
        te.save_embeddings(emb, str(tmp_path / "e.parquet"), precision="float64")
    with pytest.raises(ArgumentError, match="does not exist"):
        te.save_embeddings(emb, str(tmp_path / "no" / "e.parquet"))
    with pytest.raises(ArgumentError, match="embed_images"):
        te.save_embeddings({"joy": [1.0]}, str(tmp_path / "e.parquet"))


def test_damaged_and_foreign_files_are_named(tiny_model, image_dir, tmp_path):
    import pandas as pd

    emb = te.embed_images(str(image_dir / "astronaut.jpg"), local_model_path=tiny_model)
    good = Path(te.save_embeddings(emb, str(tmp_path / "e.parquet"))).read_bytes()
    damaged = tmp_path / "damaged.parquet"
    damaged.write_bytes(good[: len(good) // 2])
    with pytest.raises(ArgumentError, match=f"{damaged} cannot be read as Parquet.*damaged"):
        te.load_embeddings(str(damaged))
    foreign = tmp_path / "foreign.parquet"
    pd.DataFrame({"joy": [0.5]}).to_parquet(foreign)
    with pytest.raises(ArgumentError, match=f"{foreign} holds no embeddings written by transforemotion"):
        te.load_embeddings(str(foreign))
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ArgumentError, match="notes.txt cannot be read as Parquet"):
        te.load_embeddings(str(text))
    with pytest.raises(InputNotFoundError, match="missing.parquet"):
        te.load_embeddings(str(tmp_path / "missing.parquet"))
    with pytest.raises(ArgumentError, match="is a folder"):
        te.load_embeddings(str(tmp_path))


def test_embedding_arguments_are_checked_before_any_work(tiny_model, image_dir, tmp_path):
    with pytest.raises(ArgumentError, match="face_selection"):
        te.embed_images(str(image_dir / "astronaut.jpg"), face_selection="biggest", local_model_path=tiny_model)
    with pytest.raises(ArgumentError, match="face_boxes"):
        te.embed_dir(str(image_dir), face_selection="none", face_boxes=True, local_model_path=tiny_model)
    with pytest.raises(FileNotFoundError):
        te.embed_video(str(tmp_path / "missing.avi"), local_model_path=tiny_model)
    with pytest.raises(ArgumentError, match="ffreq"):
        te.embed_video(str(tmp_path / "missing.avi"), ffreq=0, local_model_path=tiny_model)
    emb = te.embed_images(str(image_dir / "astronaut.jpg"), local_model_path=tiny_model)
    with pytest.raises(ArgumentError, match="at least two labels"):
        te.rescore(emb, ["joy"])
    with pytest.raises(ArgumentError, match="templates"):
        te.rescore(emb, LABELS, templates="no placeholder")


def test_an_empty_folder_gives_empty_embeddings(tiny_model, tmp_path):
    (tmp_path / "empty").mkdir()
    emb = quiet(te.embed_dir, str(tmp_path / "empty"), local_model_path=tiny_model)
    assert len(emb) == 0 and emb.rows == {"image_id": []}
    assert te.rescore(emb, LABELS) == {"image_id": [], "joy": [], "anger": [], "surprise": []}


def test_the_r_bridge_round_trip_keeps_rows_vectors_and_record(tiny_model, pictures):
    """What R receives (a flat column-major vector) and hands back (columns as doubles, one-row columns as scalars)."""
    from transforemotion import _bridge

    emb = quiet(te.embed_images, pictures, face_selection="all", local_model_path=tiny_model)
    sent = _bridge.embeddings_for_r(emb)
    assert sent["n"] == len(emb) and sent["dim"] == 16
    matrix = np.array(sent["vectors"]).reshape((16, len(emb))).T  # R's matrix(x, nrow = n)
    np.testing.assert_array_equal(matrix, emb.vectors)
    rows = {name: [float(v) if isinstance(v, int) else v for v in column] for name, column in emb.rows.items()}
    back = _bridge.embeddings_from_r(rows, sent["vectors"], sent["n"], emb.model, ["face", "x", "y", "width", "height"])
    assert_same_result(back.rows, emb.rows, atol=0)
    assert [type(v) for v in back.rows["face"]] == [type(v) for v in emb.rows["face"]]
    np.testing.assert_array_equal(back.vectors, emb.vectors)
    one = _bridge.embeddings_from_r({"image": "a.jpg"}, emb.vectors[0].tolist(), 1, emb.model, "face")
    assert one.rows == {"image": ["a.jpg"]} and one.vectors.shape == (1, 16)


def test_embedding_columns_in_several_chunks_and_slices_are_read_whole():
    """A large file comes back in several chunks; a column may be a slice of a bigger one."""
    import pyarrow as pa

    from transforemotion.embeddings import embedding_array, vectors_from_column

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((10, 4)).astype(np.float32)
    vectors[[2, 7]] = np.nan
    for precision, exact in (("float32", vectors), ("float16", vectors.astype(np.float16).astype(np.float32))):
        column = embedding_array(vectors, precision)
        assert column.null_count == 2
        chunked = pa.chunked_array([column.slice(0, 3), column.slice(3, 5), column.slice(8)])
        np.testing.assert_array_equal(vectors_from_column(chunked, 4, "test"), exact)
        np.testing.assert_array_equal(vectors_from_column(column.slice(6, 3), 4, "test"), exact[6:9])
    with pytest.raises(ArgumentError, match="lists of 5 numbers"):
        vectors_from_column(column, 5, "test")
    ints = pa.FixedSizeListArray.from_arrays(pa.array(np.arange(40, dtype=np.int32)), 4)
    with pytest.raises(ArgumentError, match="lists of 4 numbers"):
        vectors_from_column(ints, 4, "test")
    doubles = pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1).astype(np.float64)), 4)
    np.testing.assert_array_equal(vectors_from_column(doubles, 4, "test"), vectors)


@pytest.mark.parametrize("precision", ["float16", "float32"])
def test_a_file_of_many_row_groups_is_read_whole_and_in_order(tiny_model, pictures, tmp_path, monkeypatch,
                                                              precision):
    """Large files are written in row groups that threads read side by side; their rows come back in order."""
    import pyarrow.parquet as pq

    from transforemotion.embeddings import parquet as files

    emb = quiet(te.embed_images, pictures * 3, face_selection="all", local_model_path=tiny_model)
    monkeypatch.setattr(files, "ROW_GROUP_ROWS", 2)
    monkeypatch.setattr(files, "usable_cores", lambda: 3)
    path = te.save_embeddings(emb, str(tmp_path / "e.parquet"), precision=precision)
    assert pq.ParquetFile(path).num_row_groups == math.ceil(len(emb.vectors) / 2) > 3
    back = te.load_embeddings(path)
    want = emb.vectors.astype(np.float16).astype(np.float32) if precision == "float16" else emb.vectors
    np.testing.assert_array_equal(back.vectors, want)
    assert_same_result(back.rows, emb.rows, atol=0)


def test_float16_storage_rounds_as_numpy_does_even_at_the_extremes():
    """Tiny (subnormal), huge (overflowing) and ordinary numbers are rounded to the same float16 bits as NumPy's."""
    from transforemotion.embeddings import embedding_array

    rng = np.random.default_rng(1)
    scale = rng.choice([1e-7, 1e-5, 1e-3, 1.0, 6e4, 7e4], (2000, 1))
    vectors = (rng.standard_normal((2000, 64)) * scale).astype(np.float32)
    vectors[[5, 9]] = np.nan
    column = embedding_array(vectors, "float16")
    stored = column.values.to_numpy(zero_copy_only=False).reshape(-1, 64)
    with np.errstate(over="ignore"):
        want = np.where(np.isnan(vectors), 0, vectors).astype(np.float16)
    np.testing.assert_array_equal(stored.view(np.uint16), want.view(np.uint16))
    assert column.null_count == 2


def test_an_error_in_a_thread_reading_row_groups_is_spelled_for_an_r_caller(tiny_model, pictures, tmp_path,
                                                                           monkeypatch):
    """The row groups are read by threads; a message raised there is spelled for the caller, not for Python."""
    from transforemotion.core.messages import arg, caller
    from transforemotion.embeddings import parquet as files

    emb = quiet(te.embed_images, pictures * 3, face_selection="all", local_model_path=tiny_model)
    monkeypatch.setattr(files, "ROW_GROUP_ROWS", 2)
    monkeypatch.setattr(files, "usable_cores", lambda: 3)
    path = te.save_embeddings(emb, str(tmp_path / "e.parquet"))

    def failing(out, column, dim, where):
        raise ArgumentError(f"try {arg('precision', 'float32')}")

    monkeypatch.setattr(files, "fill_vectors", failing)
    with caller("r"), pytest.raises(ArgumentError) as info:
        files.read_embeddings(path)
    assert str(info.value) == 'try precision = "float32"'
