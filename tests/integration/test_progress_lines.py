"""With progress on, a long call says at once what it is doing on standard error; with progress off, nothing."""

import transforemotion as te
from conftest import quiet
from transforemotion.cli import main as cli_main
from transforemotion.models.loader import clear_model_cache


def test_a_short_video_says_it_loads_the_model_and_finds_faces(tiny_model, face_video, capfd):
    clear_model_cache()
    quiet(te.video_scores, face_video, ["joy", "anger"], nframes=12, ffreq=2, local_model_path=tiny_model,
          progress=True)
    err = capfd.readouterr().err
    assert "loading model" in err and "finding faces and scoring 12 frames" in err
    # Once the model is loaded, a call on a few pictures takes a moment and says nothing (a loop stays quiet).
    quiet(te.video_scores, face_video, ["joy", "anger"], nframes=3, local_model_path=tiny_model, progress=True)
    assert capfd.readouterr().err == ""
    clear_model_cache()
    quiet(te.video_scores, face_video, ["joy", "anger"], nframes=3, local_model_path=tiny_model, progress=False)
    assert capfd.readouterr().err == ""


def test_a_corpus_says_it_loads_the_model(tiny_model, face_video, tmp_path, capfd):
    clear_model_cache()
    quiet(te.score_corpus, [face_video], ["joy", "anger"], tmp_path / "c", nframes=3, local_model_path=tiny_model,
          progress=True)
    assert "loading model" in capfd.readouterr().err
    clear_model_cache()
    quiet(te.score_corpus, [face_video], ["joy", "anger"], tmp_path / "d", nframes=3, local_model_path=tiny_model,
          progress=False)
    assert "loading model" not in capfd.readouterr().err


def test_the_command_line_says_it_and_quiet_silences_it(tiny_model, face_video, tmp_path, capfd, monkeypatch):
    monkeypatch.delenv("TRANSFOREMOTION_PROGRESS", raising=False)
    clear_model_cache()
    base = ["video", str(face_video), "--classes", "joy", "anger", "--nframes", "12", "--ffreq", "2",
            "--local-model-path", tiny_model]
    assert cli_main(base + ["-o", str(tmp_path / "a.csv")]) in (0, 3)
    err = capfd.readouterr().err
    assert "loading model" in err and "finding faces" in err
    clear_model_cache()
    assert cli_main(base + ["--quiet", "-o", str(tmp_path / "b.csv")]) in (0, 3)
    err = capfd.readouterr().err
    assert "loading model" not in err and "finding faces" not in err

