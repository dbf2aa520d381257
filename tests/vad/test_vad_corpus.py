"""vad_corpus: the VAD of a corpus equals vad_scores on each video, and a rerun reads it back without scoring."""

import shutil

import pytest

import transforemotion as te
from transforemotion import cli

SAMPLING = dict(nframes=4, ffreq=10)


@pytest.fixture
def two_videos(face_video, tmp_path):
    folder = tmp_path / "videos"
    folder.mkdir()
    for name in ("a.avi", "b.avi"):
        shutil.copy(face_video, folder / name)
    return folder


def test_each_videos_rows_equal_vad_scores(tiny_model, two_videos, tmp_path):
    out = tmp_path / "vad-out"
    table = te.vad_corpus(str(two_videos), str(out), dimensions=["valence", "arousal"], local_model_path=tiny_model,
                          progress=False, **SAMPLING)
    assert list(table) == ["source", "frame", "time", "valence", "arousal"]
    one = te.vad_scores(str(two_videos / "a.avi"), dimensions=["valence", "arousal"], timestamps=True,
                        local_model_path=tiny_model, **SAMPLING)
    rows = [i for i, s in enumerate(table["source"]) if s == "a.avi"]
    assert [table["frame"][i] for i in rows] == one["frame"] == [0, 10, 20, 30]
    for dim in ("valence", "arousal"):
        assert [table[dim][i] for i in rows] == pytest.approx(one[dim], abs=1e-5)
    # The parts hold the pole descriptions' scores; a rerun reads them back and scores nothing.
    assert te.read_corpus(str(out)).keys() >= {"source", "frame"}
    again = te.vad_corpus(str(two_videos), str(out), dimensions=["valence", "arousal"], local_model_path=tiny_model,
                          progress=False, **SAMPLING)
    assert again == table


def test_options_that_score_corpus_does_not_take_are_named(tmp_path):
    with pytest.raises(ValueError, match="does not take nfames.*passes these options on to score_corpus"):
        te.vad_corpus(str(tmp_path), str(tmp_path / "out"), nfames=3)
    with pytest.raises(ValueError, match="dimensions"):
        te.vad_corpus(str(tmp_path), str(tmp_path / "out"), dimensions=["happiness"])


def test_the_command_line_scores_a_corpus_for_vad(tiny_model, two_videos, tmp_path, capsys):
    out = tmp_path / "cli-out"
    code = cli.main(["corpus", str(two_videos), "--output-dir", str(out), "--vad", "--dimensions", "valence",
                     "--label-type", "simple", "--nframes", "4", "--ffreq", "10", "--local-model-path", tiny_model,
                     "--quiet", "--format", "csv"])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "source,frame,time,valence" and len(lines) == 1 + 8
    assert cli.main(["corpus", str(two_videos), "--output-dir", str(out), "--vad", "--classes", "a", "b"]) == 2
    assert "leave out --classes" in capsys.readouterr().err
    assert cli.main(["corpus", str(two_videos), "--output-dir", str(tmp_path / "x")]) == 2
    assert "--classes is required" in capsys.readouterr().err
