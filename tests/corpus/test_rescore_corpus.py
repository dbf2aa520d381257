"""score_corpus(keep_embeddings=True) and rescore_corpus: new labels from the parts, equal to a fresh score_corpus
row for row, without reading a video; into a folder of its own, resumably; refusals that say what to do."""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import transforemotion as te
from conftest import quiet
from transforemotion.core.errors import ArgumentError
from transforemotion.testing import build_tiny_clip

pa = pytest.importorskip("pyarrow")
import pyarrow.parquet as pq  # noqa: E402

LABELS = ["joy", "anger", "surprise"]
NEW_LABELS = ["calm", "disgust", "fear", "a face full of contempt"]
SAMPLING = dict(nframes=10, ffreq=3, unit_size=4, progress=False)


def read_json(path):
    return json.loads(Path(path).read_text())


def assert_same_result(got, want, atol=1e-5):
    assert list(got) == list(want)
    for name in want:
        if any(isinstance(v, str) for v in want[name]):
            assert got[name] == want[name], name
        else:
            np.testing.assert_allclose(np.array(got[name], float), np.array(want[name], float), rtol=0, atol=atol,
                                       equal_nan=True, err_msg=name)


@pytest.fixture(scope="module")
def kept(tiny_model, corpus, tmp_path_factory):
    """The corpus scored once with every face kept, and the embeddings in the parts."""
    out = str(tmp_path_factory.mktemp("kept") / "out")
    quiet(te.score_corpus, str(corpus), LABELS, out, face_selection="all", keep_embeddings=True,
          local_model_path=tiny_model, **SAMPLING)
    return out


def no_video_reading(monkeypatch):
    """Any attempt to open a video or an image from here on fails the test."""
    from transforemotion.corpus import units

    def refuse(*args, **kwargs):
        raise AssertionError("rescore_corpus read a picture")

    monkeypatch.setattr(units, "open_video", refuse)
    monkeypatch.setattr(units, "load_image", refuse)
    monkeypatch.setattr(te.media, "open_video", refuse, raising=False)


@pytest.mark.parametrize("selection, boxes, templates", [("largest", True, None), ("all", False, "fer")])
def test_rescore_corpus_equals_a_fresh_score_corpus(tiny_model, corpus, tmp_path, monkeypatch, selection, boxes,
                                                    templates):
    out, fresh = str(tmp_path / "out"), str(tmp_path / "fresh")
    quiet(te.score_corpus, str(corpus), LABELS, out, face_selection=selection, face_boxes=boxes,
          keep_embeddings=True, local_model_path=tiny_model, **SAMPLING)
    quiet(te.score_corpus, str(corpus), NEW_LABELS, fresh, face_selection=selection, face_boxes=boxes,
          templates=templates, local_model_path=tiny_model, **SAMPLING)
    want = quiet(te.read_corpus, fresh)
    no_video_reading(monkeypatch)
    assert_same_result(quiet(te.rescore_corpus, out, NEW_LABELS, templates=templates), want)
    # Into a folder of its own: a corpus read_corpus reads, equal again.
    into = str(tmp_path / "into")
    assert_same_result(quiet(te.rescore_corpus, out, NEW_LABELS, templates=templates, into=into), want)
    assert_same_result(quiet(te.read_corpus, into), want)
    assert sorted(os.listdir(os.path.join(into, "parts"))) == sorted(os.listdir(os.path.join(fresh, "parts")))


def test_parts_keep_embed_videos_embeddings_and_read_corpus_leaves_them_out(tiny_model, corpus, kept):
    result = quiet(te.read_corpus, kept)
    assert "embedding" not in result and list(result)[-3:] == LABELS
    video = quiet(te.embed_video, str(corpus / "a_moving.avi"), nframes=10, ffreq=3, face_selection="all",
                  local_model_path=tiny_model)
    tables = []
    record = read_json(os.path.join(kept, "corpus.json"))
    for unit in record["units"][:3]:  # the first video's three segments
        tables.append(pq.read_table(os.path.join(kept, "parts", unit + ".parquet")))
    table = pa.concat_tables(tables)
    vectors = np.array([np.full(16, np.nan) if v is None else v for v in table.column("embedding").to_pylist()])
    np.testing.assert_allclose(vectors, video.vectors, atol=1e-6, equal_nan=True)
    meta = json.loads(tables[0].schema.metadata[b"transforemotion.embeddings"])
    assert meta["model"] == video.model and meta["precision"] == "float32"


def test_float16_parts_are_smaller_and_close(tiny_model, corpus, kept, tmp_path):
    half = str(tmp_path / "half")
    quiet(te.score_corpus, str(corpus), LABELS, half, face_selection="all", keep_embeddings=True,
          embedding_precision="float16", local_model_path=tiny_model, **SAMPLING)
    column = pq.read_table(os.path.join(half, "parts", os.listdir(os.path.join(half, "parts"))[0])).column("embedding")
    assert str(column.type.value_type) == "halffloat"
    assert_same_result(quiet(te.rescore_corpus, half, NEW_LABELS), quiet(te.rescore_corpus, kept, NEW_LABELS),
                       atol=1e-3)


def test_into_resumes_and_rescores_only_what_is_missing_or_newer(kept, tmp_path):
    into = str(tmp_path / "into")
    first = quiet(te.rescore_corpus, kept, NEW_LABELS, into=into)
    parts = os.path.join(into, "parts")
    names = sorted(os.listdir(parts))
    stamps = {n: os.stat(os.path.join(parts, n)).st_mtime_ns for n in names}
    os.remove(os.path.join(parts, names[2]))  # as if the run had stopped before it
    again = quiet(te.rescore_corpus, kept, NEW_LABELS, into=into)
    assert_same_result(again, first, atol=0)
    assert sorted(os.listdir(parts)) == names
    assert all(os.stat(os.path.join(parts, n)).st_mtime_ns == stamps[n] for n in names if n != names[2])


def test_other_labels_into_the_same_folder_are_refused_unless_overwrite(kept, tmp_path):
    into = str(tmp_path / "into")
    quiet(te.rescore_corpus, kept, NEW_LABELS, into=into)
    with pytest.raises(ArgumentError, match="holds other scores.*classes.*overwrite"):
        quiet(te.rescore_corpus, kept, ["happy", "sad"], into=into)
    result = quiet(te.rescore_corpus, kept, ["happy", "sad"], into=into, overwrite=True)
    assert list(result)[-2:] == ["happy", "sad"] and list(quiet(te.read_corpus, into))[-2:] == ["happy", "sad"]


def test_a_corpus_without_embeddings_is_refused_with_what_to_do(tiny_model, corpus, tmp_path):
    out = str(tmp_path / "plain")
    quiet(te.score_corpus, [str(corpus / "d_face.jpg")], LABELS, out, local_model_path=tiny_model, progress=False)
    with pytest.raises(ArgumentError, match="without keep_embeddings=True.*score_corpus"):
        te.rescore_corpus(out, NEW_LABELS)
    # Keeping them now would mix parts with and without: refused like any other change.
    with pytest.raises(ArgumentError, match="keep_embeddings was False, now True"):
        te.score_corpus([str(corpus / "d_face.jpg")], LABELS, out, keep_embeddings=True, local_model_path=tiny_model,
                        progress=False)


def test_a_folder_scored_before_embeddings_existed_resumes(tiny_model, corpus, tmp_path):
    out = str(tmp_path / "old")
    quiet(te.score_corpus, [str(corpus / "d_face.jpg")], LABELS, out, local_model_path=tiny_model, progress=False)
    path = os.path.join(out, "corpus.json")
    record = read_json(path)
    for key in ("keep_embeddings", "embedding_precision"):
        del record["arguments"][key]
    with open(path, "w") as fh:
        json.dump(record, fh)
    summary = te.score_corpus([str(corpus / "d_face.jpg")], LABELS, out, local_model_path=tiny_model, progress=False)
    assert summary["status"] == ["skipped"]


def test_another_model_is_refused_and_a_moved_one_accepted(kept, tmp_path):
    other = build_tiny_clip(str(tmp_path / "other"), seed=3)
    with pytest.raises(ArgumentError, match="were made by the model"):
        te.rescore_corpus(kept, NEW_LABELS, local_model_path=other)
    record = read_json(os.path.join(kept, "corpus.json"))
    moved = shutil.copytree(record["arguments"]["model"], tmp_path / "moved")
    assert_same_result(quiet(te.rescore_corpus, kept, NEW_LABELS, local_model_path=str(moved)),
                       quiet(te.rescore_corpus, kept, NEW_LABELS), atol=1e-7)


def test_failed_units_are_carried_and_warned(tiny_model, corpus, tmp_path):
    out = str(tmp_path / "out")
    missing = str(tmp_path / "gone.avi")
    quiet(te.score_corpus, [str(corpus / "d_face.jpg"), missing], LABELS, out, keep_embeddings=True,
          local_model_path=tiny_model, progress=False)
    into = str(tmp_path / "into")
    with pytest.warns(te.TransforemotionWarning, match="incomplete: 1 unit.* failed there"):
        result = te.rescore_corpus(out, NEW_LABELS, into=into)
    assert result["source"] == [str(corpus / "d_face.jpg")]
    assert Path(into, "failures.csv").read_text() == Path(out, "failures.csv").read_text()


def test_bad_arguments(kept, tmp_path):
    with pytest.raises(ArgumentError, match="into must be another folder"):
        te.rescore_corpus(kept, NEW_LABELS, into=kept)
    with pytest.raises(ArgumentError, match="at least two labels"):
        te.rescore_corpus(kept, ["joy"])
    with pytest.raises(ArgumentError, match="'frame'.* same name as a column"):
        te.rescore_corpus(kept, ["frame", "joy"])
    with pytest.raises(ArgumentError, match="'embedding'"):
        te.rescore_corpus(kept, ["embedding", "joy"])
    with pytest.raises(FileNotFoundError, match="no scored corpus"):
        te.rescore_corpus(str(tmp_path), NEW_LABELS)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ArgumentError, match="into must be a folder"):
        te.rescore_corpus(kept, NEW_LABELS, into=str(tmp_path / "file"))
    with pytest.raises(ArgumentError, match="embedding_precision"):
        te.score_corpus(str(tmp_path), LABELS, str(tmp_path / "o"), keep_embeddings=True, embedding_precision="int8")


def test_a_damaged_part_is_named(kept, tmp_path):
    copy = shutil.copytree(kept, tmp_path / "copy")
    part = sorted((copy / "parts").iterdir())[0]
    part.write_bytes(part.read_bytes()[:100])
    with pytest.raises(ArgumentError, match=f"{part} is damaged"):
        te.rescore_corpus(str(copy), NEW_LABELS)


def test_messages_from_the_reading_threads_are_spelled_for_the_caller(kept, tmp_path):
    from transforemotion.core.messages import caller

    copy = shutil.copytree(kept, tmp_path / "copy")
    part = sorted((copy / "parts").iterdir())[0]
    part.write_bytes(part.read_bytes()[:100])
    with caller("r"), pytest.raises(ArgumentError, match=r"with the same arguments") as info:
        te.rescore_corpus(str(copy), NEW_LABELS)
    assert "corpus_scores()" in str(info.value)  # R's name, though a reading thread raised it
