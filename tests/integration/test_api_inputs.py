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


def test_frame_names_too_long_for_the_file_system_are_reported(tiny_model, face_video, tmp_path):
    with pytest.warns(te.TransforemotionWarning, match=r"3 of 3 frames could not be saved.*too long"):
        result = small_run(face_video, tiny_model, save_frames=True, save_dir=str(tmp_path), video_name="x" * 300)
    assert len(result["joy"]) == 3


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
