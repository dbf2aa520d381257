"""Every argument, the model and the device included, is checked before any file is created, locked or deleted.

For each public function that writes, a folder holding earlier results is
called again with ``overwrite=True`` (where the function has it) and a device
or model that cannot be used: the call fails naming the argument, and every
file in the folder is as it was, byte for byte, with its modification time.
"""

from __future__ import annotations

import hashlib
import os
import warnings

import pytest

import local_http
import transforemotion as te

BAD_DEVICE = "warp-drive"
LABELS = ["joy", "anger"]


def snapshot(folder) -> dict:
    """Every file and folder under ``folder``: its bytes' digest and modification time (folders: time only)."""
    seen = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs:
            path = os.path.join(root, name)
            seen[os.path.relpath(path, folder)] = ("folder", os.stat(path).st_mtime_ns)
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as fh:
                digest = hashlib.sha256(fh.read()).hexdigest()
            seen[os.path.relpath(path, folder)] = (digest, os.stat(path).st_mtime_ns)
    return seen


def quietly(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


@pytest.fixture(scope="module")
def scored(tmp_path_factory, image_dir, tiny_model):
    """A corpus scored with kept embeddings, and its rescoring into a second folder."""
    out = tmp_path_factory.mktemp("scored")
    quietly(te.score_corpus, str(image_dir), LABELS, str(out), keep_embeddings=True, local_model_path=tiny_model,
            progress=False)
    into = tmp_path_factory.mktemp("rescored")
    quietly(te.rescore_corpus, str(out), ["calm", "tense"], into=str(into), progress=False)
    return out, into


@pytest.mark.parametrize("bad", [{"device": BAD_DEVICE}, {"model": "no-such-model"}], ids=["device", "model"])
def test_score_corpus_with_overwrite_leaves_the_folder_as_it_was(scored, image_dir, tiny_model, bad):
    out, _ = scored
    before = snapshot(out)
    model = {} if "model" in bad else {"local_model_path": tiny_model}
    with pytest.raises(ValueError, match="device|model"):
        te.score_corpus(str(image_dir), ["calm", "tense"], str(out), overwrite=True, progress=False, **model, **bad)
    assert snapshot(out) == before


@pytest.mark.parametrize("bad", [{"device": BAD_DEVICE}, {"local_model_path": "no-such-folder"}],
                         ids=["device", "model"])
def test_rescore_corpus_into_with_overwrite_leaves_both_folders_as_they_were(scored, bad):
    out, into = scored
    before, before_into = snapshot(out), snapshot(into)
    with pytest.raises((ValueError, FileNotFoundError), match="device|no-such-folder"):
        te.rescore_corpus(str(out), ["relaxed", "alert"], into=str(into), overwrite=True, progress=False, **bad)
    assert snapshot(into) == before_into
    assert snapshot(out) == before


def test_vad_corpus_with_overwrite_leaves_the_folder_as_it_was(tmp_path, image_dir, tiny_model):
    out = tmp_path / "vad"
    quietly(te.vad_corpus, str(image_dir), str(out), dimensions=["valence"], local_model_path=tiny_model,
            progress=False)
    before = snapshot(out)
    with pytest.raises(ValueError, match="device"):
        te.vad_corpus(str(image_dir), str(out), dimensions=["arousal"], overwrite=True, device=BAD_DEVICE,
                      local_model_path=tiny_model, progress=False)
    assert snapshot(out) == before


def test_save_embeddings_with_a_bad_precision_leaves_the_file_as_it_was(tmp_path, image_dir, tiny_model):
    path = tmp_path / "e.parquet"
    emb = quietly(te.embed_dir, str(image_dir), local_model_path=tiny_model, progress=False)
    te.save_embeddings(emb, str(path))
    before = snapshot(tmp_path)
    with pytest.raises(ValueError, match="precision"):
        te.save_embeddings(emb, str(path), precision="float64")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("function", [te.video_scores, te.embed_video])
def test_saving_frames_with_a_bad_device_writes_nothing(tmp_path, face_video, tiny_model, function):
    save_dir = tmp_path / "frames"
    save_dir.mkdir()
    (save_dir / "kept.txt").write_text("earlier work")
    before = snapshot(tmp_path)
    labels = (LABELS,) if function is te.video_scores else ()
    with pytest.raises(ValueError, match="device"):
        function(str(face_video), *labels, nframes=3, save_frames=True, save_dir=str(save_dir),
                 local_model_path=tiny_model, device=BAD_DEVICE)
    assert snapshot(tmp_path) == before


def test_a_video_link_with_a_bad_device_is_neither_fetched_nor_saved(tmp_path, face_video, tiny_model):
    server = local_http.LocalServer()
    try:
        with open(face_video, "rb") as fh:
            url = server.route("/clip.avi", local_http.file(fh.read(), "video/x-msvideo"))
        with pytest.raises(ValueError, match="device"):
            te.video_scores(url, LABELS, nframes=3, save_video=True, save_dir=str(tmp_path / "saved"),
                            local_model_path=tiny_model, device=BAD_DEVICE)
        assert server.requests == []
    finally:
        server.close()
    assert os.listdir(tmp_path) == []
