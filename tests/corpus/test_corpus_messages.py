"""Issue 27: messages of the corpus and file layers that say what happened and what to do."""

import os

import pytest

import transforemotion as te
from conftest import quiet
from transforemotion.core import files
from transforemotion.core.errors import ArgumentError

pytest.importorskip("pyarrow")

LABELS = ["joy", "anger"]


def test_rescoring_a_rescored_folder_names_the_folder_it_came_from(tiny_model, corpus, tmp_path):
    kept, into = str(tmp_path / "kept"), str(tmp_path / "into")
    quiet(te.score_corpus, [str(corpus / "d_face.jpg")], LABELS, kept, keep_embeddings=True,
          local_model_path=tiny_model, progress=False)
    quiet(te.rescore_corpus, kept, ["calm", "tense"], into=into)
    with pytest.raises(ArgumentError) as refused:
        te.rescore_corpus(into, ["happy", "sad"])
    message = str(refused.value)
    assert "rescored folder" in message and os.path.abspath(kept) in message
    assert "keep_embeddings=True" not in message


def test_keeping_embeddings_now_is_refused_without_a_precision_of_none(tiny_model, corpus, tmp_path):
    out = str(tmp_path / "plain")
    quiet(te.score_corpus, [str(corpus / "d_face.jpg")], LABELS, out, local_model_path=tiny_model, progress=False)
    with pytest.raises(ArgumentError) as refused:
        te.score_corpus([str(corpus / "d_face.jpg")], LABELS, out, keep_embeddings=True,
                        local_model_path=tiny_model, progress=False)
    assert "keep_embeddings was False, now True" in str(refused.value)
    assert "None" not in str(refused.value)


def test_a_folder_that_refuses_the_write_names_the_target_not_the_temporary_file(tmp_path, monkeypatch):
    real_open = os.open

    def no_permission(path, *args, **kwargs):  # as in a read-only folder (the tests may run as root)
        if str(path).endswith(".tmp"):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(files.os, "open", no_permission)
    target = tmp_path / "scores.csv"
    with pytest.raises(PermissionError) as refused:
        with files.atomic_write(str(target)) as fh:
            fh.write("a")
    message = str(refused.value)
    assert str(target) in message and ".tmp" not in message and "te-" not in message
    assert "folder" in message and refused.value.errno == 13


@pytest.mark.parametrize("truth, said", [(["joy", "joy", "joy", "joy"], "'angry' never occurs in the truth"),
                                         (["joy", "joy", "joy", "joy"], "'angry', 'calm' never occur")])
def test_a_label_that_never_occurs_is_said_in_the_singular(truth, said):
    scores = {"joy": [.6, .5, .7, .4], "angry": [.2, .3, .1, .3], "calm": [.2, .2, .2, .3]}
    if "calm" not in said:
        scores = {"joy": [.6, .5, .7, .4], "angry": [.4, .5, .3, .6]}
    notes = te.evaluate_scores(scores, truth)["notes"]
    assert any(said in note for note in notes), notes


def test_videos_too_short_for_the_frames_asked_for_say_what_to_change_not_to_run_again(tiny_model, corpus,
                                                                                      tmp_path):
    out = str(tmp_path / "short")
    videos = sorted(str(corpus / name) for name in os.listdir(corpus) if name.endswith(".avi"))
    with pytest.warns(te.TransforemotionWarning) as caught:
        te.score_corpus(videos, LABELS, out, nframes=500, local_model_path=tiny_model, progress=False)
    said = " ".join(str(w.message) for w in caught)
    assert "too short for the frames asked for" in said and "nframes" in said
    assert "run the same call again" not in said
    with pytest.warns(te.TransforemotionWarning) as caught:
        te.read_corpus(out)
    said = " ".join(str(w.message) for w in caught)
    assert "lower nframes or ffreq" in said and "with the same arguments to finish" not in said


def test_a_run_that_stopped_early_still_says_to_run_again(tiny_model, corpus, tmp_path):
    out = str(tmp_path / "stopped")
    quiet(te.score_corpus, [str(corpus / "d_face.jpg")], LABELS, out, local_model_path=tiny_model, progress=False)
    parts = os.path.join(out, "parts")
    for name in os.listdir(parts):
        os.remove(os.path.join(parts, name))
    with pytest.warns(te.TransforemotionWarning, match="again with the same arguments to finish"):
        te.read_corpus(out)
