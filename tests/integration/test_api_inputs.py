"""Behaviour that shows only through video_scores: downloads that never touch the user's files,
frames that cannot be written, and video files whose header lies about their length."""

import os

import pytest

import transforemotion as te

import local_http
from conftest import claim_frames, moving_face_frames, write_video

CLASSES = ["joy", "anger", "surprise"]


@pytest.fixture
def server(face_video):
    running = local_http.LocalServer()
    with open(face_video, "rb") as fh:
        running.route("/clip.avi", local_http.file(fh.read(), "video/x-msvideo"))
    yield running
    running.close()


def small_run(video, tiny_model, **kwargs):
    return te.video_scores(video, CLASSES, nframes=3, ffreq=10, face_selection="none", timestamps=True,
                           local_model_path=tiny_model, **kwargs)


def test_a_url_video_leaves_the_users_temp_file_alone(tiny_model, server, tmp_path):
    # The default video_name is "temp": the download used to become save_dir/temp.avi, then be deleted.
    (tmp_path / "temp.avi").write_bytes(b"my own recording")
    result = small_run(server.url("/clip.avi"), tiny_model, save_dir=str(tmp_path))
    assert result["frame"] == [0, 10, 20]
    assert os.listdir(tmp_path) == ["temp.avi"] and (tmp_path / "temp.avi").read_bytes() == b"my own recording"


def test_a_failed_url_download_leaves_no_save_dir_behind(tiny_model, server, in_tmp_cwd):
    with pytest.raises(ValueError, match="404"):
        small_run(server.url("/missing.mp4"), tiny_model, save_dir="new/dl")
    assert os.listdir(in_tmp_cwd) == []


def test_a_save_dir_made_only_for_the_download_is_removed_afterwards(tiny_model, server, in_tmp_cwd):
    small_run(server.url("/clip.avi"), tiny_model, save_dir="dl")
    assert os.listdir(in_tmp_cwd) == []


def test_kept_video_over_an_existing_file_is_refused_before_downloading(tiny_model, server, tmp_path):
    (tmp_path / "clip.avi").write_bytes(b"mine")
    with pytest.raises(ValueError, match=r"clip.avi already exists.*video_name"):
        small_run(server.url("/clip.avi"), tiny_model, save_dir=str(tmp_path), save_video=True, video_name="clip")
    assert server.requests == []


def test_frames_that_cannot_be_written_give_one_warning_and_the_scores(tiny_model, face_video, tmp_path):
    (tmp_path / "clip-frame-1.jpg").mkdir()  # a folder where frame 1 should go
    with pytest.warns(te.TransforemotionWarning, match="1 of 3 frames could not be saved") as caught:
        result = small_run(face_video, tiny_model, save_frames=True, save_dir=str(tmp_path), video_name="clip")
    assert len(caught) == 1
    assert result["frame"] == [0, 10, 20] and len(result["joy"]) == 3
    assert sorted(os.listdir(tmp_path)) == ["clip-frame-0.jpg", "clip-frame-1.jpg", "clip-frame-2.jpg"]


@pytest.fixture
def count_loads(monkeypatch):
    """How often a model is loaded: a refusal "before any scoring" must come before the model."""
    from transforemotion.engine import request

    loads = []
    real = request.ScoringRequest.load
    monkeypatch.setattr(request.ScoringRequest, "load", lambda self: loads.append(1) or real(self))
    return loads


def test_a_video_name_too_long_for_the_file_system_is_refused_before_scoring(tiny_model, face_video, tmp_path,
                                                                              count_loads):
    # 300 + len("-frame-2.jpg") = 312 bytes: three frames are rows 0-2.
    with pytest.raises(ValueError, match=r"video_name is too long to name the frames: 'x{30}\.\.\.' would be 312 "
                                         r"bytes, more than the 255"):
        small_run(face_video, tiny_model, save_frames=True, save_dir=str(tmp_path), video_name="x" * 300)
    assert os.listdir(tmp_path) == [] and count_loads == []


@pytest.mark.parametrize("where, reason", [
    ("file/frames", r"file is a file, not a folder"),
    ("file", r"file is a file, not a folder"),
    ("/proc/transforemotion-frames", r"No such file or directory|Permission denied|Read-only"),
])
def test_a_save_dir_that_cannot_be_used_is_refused_before_scoring(tiny_model, face_video, in_tmp_cwd, count_loads,
                                                                  where, reason):
    (in_tmp_cwd / "file").write_text("in the way")
    with pytest.raises(ValueError, match=r"save_dir='" + where + r"' cannot take the frames: .*(" + reason + ")"):
        small_run(face_video, tiny_model, save_frames=True, save_dir=where, video_name="clip")
    assert count_loads == [] and os.listdir(in_tmp_cwd) == ["file"]


def test_checking_a_new_save_dir_leaves_nothing_when_nothing_is_saved(tiny_model, face_video, in_tmp_cwd):
    with pytest.raises(FileNotFoundError, match="missing.avi"):  # found after the folder was checked
        small_run(str(in_tmp_cwd / "missing.avi"), tiny_model, save_frames=True, save_dir="new/frames")
    assert os.listdir(in_tmp_cwd) == []
    small_run(face_video, tiny_model, save_frames=True, save_dir="new/frames", video_name="clip")
    assert sorted(os.listdir(in_tmp_cwd / "new" / "frames")) == [f"clip-frame-{i}.jpg" for i in range(3)]


@pytest.fixture(scope="module")
def lying_video(tmp_path_factory, face):
    path = write_video(tmp_path_factory.mktemp("lying-api") / "lying.avi", moving_face_frames(face, count=60))
    return claim_frames(path, 10**9)


def test_a_lying_header_cannot_make_a_run_score_thousands_of_missing_frames(tiny_model, lying_video):
    with pytest.raises(ValueError, match="only 60 can be decoded"):
        te.video_scores(lying_video, CLASSES, nframes=5000, uniform=True, local_model_path=tiny_model)


def test_a_lying_header_with_uniform_scores_frames_spread_over_the_real_ones(tiny_model, lying_video):
    with pytest.warns(te.TransforemotionWarning, match="only 60 can be decoded"):
        result = te.video_scores(lying_video, CLASSES, nframes=6, uniform=True, face_selection="none",
                                 timestamps=True, local_model_path=tiny_model)
    assert result["frame"] == [0, 10, 20, 30, 40, 50]
