"""Hostile and careless input to frame sampling and video downloads (issue #9).

Expected frame lists are written out from transforEmotion's rules, not
computed by the code under test. Videos are real files written by OpenCV;
downloads come from a real HTTP server on 127.0.0.1.
"""

import os
import time
import tracemalloc

import numpy as np
import pytest

import transforemotion as te
from transforemotion import media as video
from transforemotion.media import FrameSampling

import local_http
from conftest import claim_frames, moving_face_frames, write_video


# --- numbers ----------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    (dict(start=float("inf")), "start.*finite"),
    (dict(end=float("inf")), "end.*finite"),
    (dict(start=float("nan")), "start.*finite"),
    (dict(end=float("nan")), "end.*finite"),
    (dict(start=-3), "start.*0 or more"),
    (dict(end=-2), "end.*0 or more"),
    (dict(start=True), "start"),
    (dict(nframes=True), "nframes"),
    (dict(nframes=2.5), "nframes.*whole"),
    (dict(nframes=float("inf")), "nframes"),
    (dict(nframes=-4), "nframes"),
    (dict(nframes=10**8, uniform=True), "nframes.*at most 10,000,000"),
    (dict(ffreq=float("nan")), "ffreq"),
    (dict(ffreq=False), "ffreq"),
    (dict(start=1e300), r"start \(1e\+300 s\) is at or after the end of the video, which is 12 s long"),
    (dict(start=20, end=1e308), r"start \(20 s\) is at or after the end"),
])
def test_bad_numbers_are_clear_value_errors(kwargs, message):
    arguments = dict(nframes=4)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        video.sample_frame_indices(300, 25.0, **arguments)


@pytest.mark.parametrize("fps", [float("inf"), float("nan"), 0.0, -25.0, True])
def test_a_bad_frame_rate_is_a_clear_value_error(fps):
    with pytest.raises(ValueError, match="frame rate"):
        video.sample_frame_indices(300, fps, nframes=4)


def test_an_end_far_past_the_video_means_its_end():
    # 1e308 seconds overflowed to an OverflowError; it is simply past the end.
    assert video.sample_frame_indices(300, 25.0, nframes=3, start=2, end=1e308, ffreq=10) == [50, 60, 70]
    assert video.frames_to_score(300, 25.0, 3, start=2, end=1e308, uniform=True) == [50, 134, 218]


def test_whole_numbers_sent_as_floats_are_accepted():
    # R sends 5 as 5.0.
    assert video.sample_frame_indices(300, 25.0, nframes=5.0, ffreq=15.0) == [0, 15, 30, 45, 60]


# --- lazy indices -----------------------------------------------------------------------

def test_a_huge_request_is_not_materialised():
    tracemalloc.start()
    try:
        indices = video.sample_frame_indices(10**7, 25.0, nframes=10**6, uniform=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 100_000  # a list of a million ints is about 36 MB
    assert len(indices) == 10**6
    assert indices[0] == 0 and indices[1] == 10 and indices[-1] == 9_999_990


def test_frame_indices_behave_like_the_list_they_stand_for():
    indices = video.sample_frame_indices(300, 25.0, nframes=5, ffreq=15)
    assert indices == [0, 15, 30, 45, 60] and [0, 15, 30, 45, 60] == indices
    assert indices == (0, 15, 30, 45, 60) and indices == range(0, 75, 15)
    assert indices != [0, 15, 30, 45] and indices != [0, 15, 30, 45, 61]
    assert list(indices) == [0, 15, 30, 45, 60] and len(indices) == 5
    assert indices[-1] == 60 and indices[1:3] == [15, 30] and 45 in indices and 46 not in indices
    assert indices.index(45) == 3 and list(reversed(indices)) == [60, 45, 30, 15, 0]
    assert np.array_equal(np.asarray(indices), [0, 15, 30, 45, 60])
    assert repr(indices) == "FrameIndices([0, 15, 30, 45, 60])"


# --- headers that claim more frames than the file holds ------------------------------------

@pytest.fixture(scope="module")
def lying_video(tmp_path_factory, face):
    """60 real frames at 25 fps; the header says a billion."""
    folder = tmp_path_factory.mktemp("lying")
    path = write_video(folder / "lying.avi", moving_face_frames(face, count=60))
    claim_frames(path, 10**9)
    capture, total, fps = video.open_video(path)
    capture.release()
    assert total == 10**9 and fps == 25.0  # OpenCV believes the header
    return path


def test_a_lying_header_with_a_huge_uniform_request_is_refused_with_the_real_count(lying_video):
    with pytest.raises(ValueError, match=r"1000000000 frames, but only 60 can be decoded.*nframes=1000000"):
        video.choose_frames(lying_video, 10**9, 25.0, FrameSampling(nframes=10**6, uniform=True))


def test_a_lying_header_with_uniform_spreads_over_the_real_frames(lying_video):
    with pytest.warns(te.TransforemotionWarning, match="only 60 can be decoded") as caught:
        indices = video.choose_frames(lying_video, 10**9, 25.0, FrameSampling(nframes=6, uniform=True))
    assert indices == [0, 10, 20, 30, 40, 50]
    assert len(caught) == 1


def test_a_lying_header_with_the_default_nframes_scores_what_fits_with_one_warning(lying_video):
    with pytest.warns(te.TransforemotionWarning, match=r"only 60 can be decoded.*the 4 frames") as caught:
        indices = video.choose_frames(lying_video, 10**9, 25.0, FrameSampling(nframes=None, ffreq=15))
    assert indices == [0, 15, 30, 45]
    assert len(caught) == 1


def test_a_lying_header_with_explicit_nframes_every_ffreq(lying_video):
    # At most as many rows as real frames: transforEmotion's indices, the missing ones read as NaN.
    assert video.choose_frames(lying_video, 10**9, 25.0, FrameSampling(nframes=40, ffreq=2)) == list(range(0, 80, 2))
    # More than the file holds: still transforEmotion's indices (the rule for truncated files, in the README).
    assert video.choose_frames(lying_video, 10**9, 25.0, FrameSampling(nframes=61, ffreq=2)) == list(range(0, 122, 2))
    with pytest.raises(ValueError, match=r"start \(10 s\) is past the last of them"):
        video.choose_frames(lying_video, 10**9, 25.0, FrameSampling(nframes=3, start=10, ffreq=2))


def test_a_sound_file_keeps_its_indices_without_a_warning(face_video):
    assert video.choose_frames(face_video, 60, 25.0, FrameSampling(nframes=4, ffreq=10)) == [0, 10, 20, 30]
    assert video.choose_frames(face_video, 60, 25.0, FrameSampling(nframes=60, uniform=True)) == list(range(60))


def test_a_truncated_file_keeps_transforemotions_indices(face, tmp_path):
    path = write_video(tmp_path / "whole.avi", moving_face_frames(face, count=40, step=2))
    with open(path, "rb") as fh:
        data = fh.read()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])
    assert video.choose_frames(str(cut), 40, 25.0, FrameSampling(nframes=8, ffreq=5)) == [0, 5, 10, 15, 20, 25, 30, 35]


# --- downloads -------------------------------------------------------------------------

@pytest.fixture
def server(face_video):
    running = local_http.LocalServer()
    with open(face_video, "rb") as fh:
        running.video_bytes = fh.read()
    running.route("/clip.avi", local_http.file(running.video_bytes, "video/x-msvideo"))
    yield running
    running.close()


def frame_count(path):
    capture, total, _ = video.open_video(path)
    capture.release()
    return total


def test_a_download_never_touches_the_users_file_of_the_same_name(server, tmp_path):
    save_dir = tmp_path / "temp"
    save_dir.mkdir()
    mine = save_dir / "temp.avi"
    mine.write_bytes(b"my own recording")
    with video.downloaded_video(server.url("/clip.avi"), str(save_dir), "temp", keep=False) as path:
        assert os.path.abspath(path) != os.path.abspath(mine)
        assert frame_count(path) == 60
    assert os.listdir(save_dir) == ["temp.avi"] and mine.read_bytes() == b"my own recording"


def test_keeping_a_download_over_an_existing_file_is_refused_before_downloading(server, tmp_path):
    (tmp_path / "clip.avi").write_bytes(b"my own recording")
    with pytest.raises(ValueError, match=r"clip.avi already exists.*Nothing was downloaded.*video_name"):
        with video.downloaded_video(server.url("/clip.avi"), str(tmp_path), "clip", keep=True):
            pass
    assert server.requests == []
    assert os.listdir(tmp_path) == ["clip.avi"] and (tmp_path / "clip.avi").read_bytes() == b"my own recording"


def test_a_kept_download_is_the_servers_file_under_the_users_name(server, tmp_path):
    with video.downloaded_video(server.url("/clip.avi"), str(tmp_path / "out"), "interview", keep=True) as path:
        assert path == str(tmp_path / "out" / "interview.avi")
    assert os.listdir(tmp_path / "out") == ["interview.avi"]
    assert (tmp_path / "out" / "interview.avi").read_bytes() == server.video_bytes


def test_a_save_dir_created_for_a_download_is_removed_when_nothing_is_kept(server, tmp_path):
    save_dir = tmp_path / "a" / "b"
    with video.downloaded_video(server.url("/clip.avi"), str(save_dir)) as path:
        assert frame_count(path) == 60
    assert os.listdir(tmp_path) == []
    # ... and when the body fails.
    with pytest.raises(RuntimeError):
        with video.downloaded_video(server.url("/clip.avi"), str(save_dir)):
            raise RuntimeError("scoring failed")
    assert os.listdir(tmp_path) == []


def test_a_failed_download_leaves_no_folder_behind(server, tmp_path):
    with pytest.raises(ValueError, match="404"):
        with video.downloaded_video(server.url("/missing.mp4"), str(tmp_path / "new" / "dl")):
            pass
    assert os.listdir(tmp_path) == []
    existing = tmp_path / "existing"
    existing.mkdir()
    with pytest.raises(ValueError, match="404"):
        with video.downloaded_video(server.url("/missing.mp4"), str(existing), keep=True):
            pass
    assert os.listdir(tmp_path) == ["existing"] and os.listdir(existing) == []  # not ours to remove


def test_a_save_dir_that_receives_other_files_is_kept(server, tmp_path):
    save_dir = tmp_path / "dl"
    with video.downloaded_video(server.url("/clip.avi"), str(save_dir)):
        (save_dir / "clip-frame-0.jpg").write_bytes(b"frame")
    assert os.listdir(save_dir) == ["clip-frame-0.jpg"]


def test_a_slow_video_download_stops_at_its_total_limit(server, tmp_path):
    url = server.route("/slow.avi", local_http.slow_body(server.video_bytes, interval=0.05))
    with pytest.raises(ValueError, match="longer than 1 s"):
        with video.downloaded_video(url, str(tmp_path / "dl"), max_seconds=1.0):
            pass
    assert os.listdir(tmp_path) == []


def test_a_kept_download_never_overwrites(server, tmp_path):
    (tmp_path / "temp.avi").write_bytes(b"mine")
    with pytest.raises(ValueError, match="already exists"):
        with video.downloaded_video(server.url("/clip.avi"), str(tmp_path), "temp", keep=True):
            pass
    assert (tmp_path / "temp.avi").read_bytes() == b"mine"


# yt-dlp's generic extractor finds the <video> of a plain page: a real page download, offline.
PAGE = b"<!DOCTYPE html><html><head><title>Interview</title></head><body><video src='clip.avi'></video></body></html>"


@pytest.mark.slow
def test_a_web_page_goes_through_the_same_rules(server, tmp_path):
    pytest.importorskip("yt_dlp")
    url = server.route("/watch", local_http.file(PAGE, "text/html"))
    (tmp_path / "temp.avi").write_bytes(b"mine")
    with video.downloaded_video(url, str(tmp_path), "temp", keep=False) as path:
        assert frame_count(path) == 60
    assert os.listdir(tmp_path) == ["temp.avi"] and (tmp_path / "temp.avi").read_bytes() == b"mine"
    with pytest.raises(ValueError, match=r"temp.avi already exists.*discarded"):
        with video.downloaded_video(url, str(tmp_path), "temp", keep=True):
            pass
    assert os.listdir(tmp_path) == ["temp.avi"] and (tmp_path / "temp.avi").read_bytes() == b"mine"
    with video.downloaded_video(url, str(tmp_path), "page", keep=True) as path:
        assert path == str(tmp_path / "page.avi")
    assert sorted(os.listdir(tmp_path)) == ["page.avi", "temp.avi"]
    assert (tmp_path / "page.avi").read_bytes() == server.video_bytes


def test_video_scores_with_an_end_far_past_the_video(tiny_model, face_video):
    # Through the public function: this was an OverflowError.
    result = te.video_scores(face_video, ["joy", "anger"], nframes=3, ffreq=10, end=1e308, face_selection="none",
                             timestamps=True, local_model_path=tiny_model)
    assert result["frame"] == [0, 10, 20]


@pytest.mark.slow
def test_a_slow_video_behind_a_web_page_stops_at_the_total_limit(server, tmp_path):
    pytest.importorskip("yt_dlp")
    server.route("/slow.avi", local_http.slow_body(server.video_bytes, interval=0.05))
    url = server.route("/watch-slow", local_http.file(PAGE.replace(b"clip.avi", b"slow.avi"), "text/html"))
    began = time.monotonic()
    with pytest.raises(ValueError, match="longer than 3 s"):
        with video.downloaded_video(url, str(tmp_path / "dl"), max_seconds=3.0):
            pass
    assert time.monotonic() - began < 8
    assert os.listdir(tmp_path) == []


def test_a_page_without_a_video_is_a_value_error_with_yt_dlps_reason(server, tmp_path):
    pytest.importorskip("yt_dlp")
    url = server.route("/empty-page", local_http.file(b"<html><body>No video here</body></html>", "text/html"))
    with pytest.raises(ValueError, match=r"Could not download the video at .*empty-page: .*\S"):
        with video.downloaded_video(url, str(tmp_path / "dl")):
            pass
    assert os.listdir(tmp_path) == []


def test_a_clip_too_short_for_nframes_times_ffreq_says_that_ffreq_multiplies_the_need():
    # The README's old corpus example (nframes=500, ffreq=5) on a 10-second clip at 25 frames per second.
    with pytest.raises(ValueError) as caught:
        video.sample_frame_indices(250, 25.0, nframes=500, ffreq=5)
    message = str(caught.value)
    assert "nframes=500 frames, one every ffreq=5 frames, need (500 - 1) × 5 + 1 = 2496 frames" in message
    assert "the video has 250 frames (10 s at 25 frames per second)" in message
    assert "at most 50 fit every 5 frames" in message  # frames 0, 5, ..., 245
    assert video.sample_frame_indices(250, 25.0, nframes=50, ffreq=5)[-1] == 245
    with te.core.messages.caller("cli"), pytest.raises(ValueError, match=r"--nframes 500 frames, one every "
                                                                         r"--ffreq 5 frames"):
        video.sample_frame_indices(250, 25.0, nframes=500, ffreq=5)
