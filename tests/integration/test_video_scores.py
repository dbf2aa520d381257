import http.server
import math
import os
import threading

import cv2
import numpy as np
import pytest
from PIL import Image

import transforemotion as te
from transforemotion import engine as scoring
from transforemotion.media import sample_frame_indices
from conftest import moving_face_frames, quiet, write_video

CLASSES = ["joy", "anger", "surprise"]


# --- which frames ------------------------------------------------------------
# Expected lists are written out from transforEmotion's rules (every ffreq-th
# frame from 0; uniform: step ceil(total / nframes); a cut starts at
# int(start * fps)), not computed by the function under test.

def test_every_ffreq_th_frame_from_the_start():
    assert sample_frame_indices(300, 25.0, nframes=5, ffreq=15) == [0, 15, 30, 45, 60]


def test_uniform_spreads_over_the_whole_video():
    assert sample_frame_indices(100, 25.0, nframes=4, uniform=True) == [0, 25, 50, 75]
    # ceil(100 / 30) = 4: frames past the end are dropped, as transforEmotion's reads failed.
    indices = sample_frame_indices(100, 25.0, nframes=30, uniform=True)
    assert indices == list(range(0, 100, 4)) and len(indices) == 25


def test_start_and_end_cut_the_range():
    # 2 s at 25 fps is frame 50; 6 s is frame 150.
    assert sample_frame_indices(1000, 25.0, nframes=4, start=2, end=6, ffreq=10) == [50, 60, 70, 80]
    assert sample_frame_indices(1000, 25.0, nframes=4, start=2, end=6, uniform=True) == [50, 75, 100, 125]


def test_start_with_end_minus_one_runs_to_the_end():
    assert sample_frame_indices(200, 10.0, nframes=3, start=15, uniform=True) == [150, 167, 184]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(nframes=100, ffreq=15), r"= 1486 frames; the video has 300 frames"),
        (dict(nframes=500, uniform=True), r"300 frames.*nframes=500"),
        (dict(nframes=60, start=2, end=4, uniform=True), r"50 frames between 2 s and 4 s.*nframes=60"),
        (dict(nframes=5, start=4, end=2), "after start"),
        (dict(nframes=5, start=-1, end=3), "start"),
        (dict(nframes=0), "nframes"),
        (dict(nframes=5, ffreq=0), "ffreq"),
    ],
)
def test_impossible_requests_say_what_exists(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sample_frame_indices(300, 25.0, **kwargs)


def test_too_short_message_gives_both_counts():
    with pytest.raises(ValueError) as info:
        sample_frame_indices(60, 25.0, nframes=100, ffreq=1)
    assert "60 frames" in str(info.value) and "nframes=100" in str(info.value)


# --- scores ------------------------------------------------------------------

def decoded_frames(path):
    capture = cv2.VideoCapture(path)
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    capture.release()
    return frames


def test_each_row_equals_image_scores_on_the_same_frame(tiny_model, face_video, tmp_path):
    result = te.video_scores(face_video, CLASSES, nframes=4, ffreq=10, local_model_path=tiny_model,
                             timestamps=True, save_dir=str(tmp_path / "unused"))
    assert result["frame"] == [0, 10, 20, 30]
    assert result["time"] == pytest.approx([0.0, 0.4, 0.8, 1.2])
    assert list(result) == ["frame", "time"] + CLASSES
    frames = decoded_frames(face_video)
    for row, index in enumerate(result["frame"]):
        path = tmp_path / f"frame{index}.png"  # lossless, so the pixels are the decoder's
        Image.fromarray(frames[index]).save(path)
        single = te.image_scores(str(path), CLASSES, local_model_path=tiny_model)
        assert [result[c][row] for c in CLASSES] == pytest.approx([single[c][0] for c in CLASSES], abs=1e-6)
    assert not (tmp_path / "unused").exists()  # nothing to save, so no folder made


@pytest.mark.slow
def test_largest_scores_exactly_the_largest_face_all_scores_on_the_film(tiny_model):
    # Issue 27: on these 25 frames "largest" used to score 6 other boxes than
    # the largest face "all" scores (at frame 40 a face "all" does not find).
    from face_corpus import DEBIAN_SAMPLES, samples_folder

    film = samples_folder() / "Megamind.avi"
    if not film.is_file():
        pytest.skip(f"Megamind.avi is not in {samples_folder()} (Debian's opencv-doc, {DEBIAN_SAMPLES})")
    run = lambda selection: quiet(te.video_scores, str(film), CLASSES, nframes=25, ffreq=10,  # noqa: E731
                                  face_selection=selection, face_boxes=True, timestamps=True, local_model_path=tiny_model,
                                  progress=False)
    largest, everyone = run("largest"), run("all")
    box = ["x", "y", "width", "height", "confidence"]
    assert largest["frame"] == list(range(0, 250, 10))
    for row, frame in enumerate(largest["frame"]):
        rows = [i for i, f in enumerate(everyone["frame"]) if f == frame and not math.isnan(everyone["width"][i])]
        if not rows:
            assert math.isnan(largest["width"][row]), f"frame {frame}: a face where \"all\" finds none"
            continue
        biggest = max(rows, key=lambda i: everyone["width"][i] * everyone["height"][i])
        assert [largest[c][row] for c in box] == [everyone[c][biggest] for c in box], f"frame {frame}"
        assert [largest[c][row] for c in CLASSES] == pytest.approx([everyone[c][biggest] for c in CLASSES],
                                                                   abs=1e-6), f"frame {frame}"


def test_nan_rows_once_the_face_has_left(tiny_model, face_video):
    # The face is in frames 0-40 and gone from 41 on.
    with pytest.warns(te.TransforemotionWarning, match="No face.*frame 44, frame 55"):
        result = te.video_scores(face_video, CLASSES, nframes=6, ffreq=11, local_model_path=tiny_model)
    found = [not math.isnan(result["joy"][i]) for i in range(6)]
    assert found == [True, True, True, True, False, False]  # frames 0, 11, 22, 33, 44, 55
    assert all(sum(result[c][i] for c in CLASSES) == pytest.approx(1.0) for i in range(4))


def test_whole_frame_scores_every_row(tiny_model, face_video):
    result = te.video_scores(face_video, CLASSES, nframes=6, ffreq=11, face_selection="none",
                             local_model_path=tiny_model)
    assert len(result["joy"]) == 6 and not any(math.isnan(v) for v in result["joy"])


def test_uniform_without_timestamps_has_only_class_columns(tiny_model, face_video):
    result = te.video_scores(face_video, CLASSES, nframes=5, uniform=True, face_selection="none",
                             local_model_path=tiny_model)
    assert list(result) == CLASSES and len(result["joy"]) == 5


def test_truncated_video_scores_what_decodes(tiny_model, face, tmp_path):
    frames = [np.ascontiguousarray(f) for f in moving_face_frames(face, count=40, step=2)]
    path = write_video(tmp_path / "whole.avi", frames)
    with open(path, "rb") as fh:
        data = fh.read()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.warns(te.TransforemotionWarning, match="could not be decoded"):
        result = te.video_scores(str(cut), CLASSES, nframes=8, ffreq=5, local_model_path=tiny_model,
                                 face_selection="none", timestamps=True)
    scored = [not math.isnan(v) for v in result["joy"]]
    assert len(scored) == 8
    assert scored[0] and not scored[-1]
    assert scored == sorted(scored, reverse=True)  # decodable frames first, then NaN to the end


def test_bad_video_files(tiny_model, tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.mp4"):
        te.video_scores(str(tmp_path / "missing.mp4"), CLASSES, local_model_path=tiny_model)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        te.video_scores(str(empty), CLASSES, local_model_path=tiny_model)
    text = tmp_path / "notes.mp4"
    text.write_bytes(b"this is not a video at all" * 100)
    with pytest.raises(ValueError, match="notes.mp4"):
        te.video_scores(str(text), CLASSES, local_model_path=tiny_model)


def test_short_video_with_explicit_nframes_is_a_clear_error(tiny_model, face_video):
    with pytest.raises(ValueError, match="nframes=100.*the video has 60 frames"):
        te.video_scores(face_video, CLASSES, nframes=100, local_model_path=tiny_model)


def test_short_video_with_default_nframes_scores_the_frames_it_has(tiny_model, face_video):
    # 60 frames, every 15th: frames 0, 15, 30, 45 exist; transforEmotion's 100 would need 1486.
    with pytest.warns(te.TransforemotionWarning, match=r"60 frames.*the 4 frames") as caught:
        result = te.video_scores(face_video, CLASSES, face_selection="none", timestamps=True,
                                 local_model_path=tiny_model)
    assert result["frame"] == [0, 15, 30, 45]
    assert len(caught) == 1
    with pytest.warns(te.TransforemotionWarning, match="the 60 frames"):
        spread = te.video_scores(face_video, CLASSES, face_selection="none", uniform=True, timestamps=True,
                                 local_model_path=tiny_model)
    assert spread["frame"] == list(range(60))


# --- files -------------------------------------------------------------------

def test_save_frames_writes_only_into_save_dir(tiny_model, face_video, in_tmp_cwd):
    before = set(os.listdir(in_tmp_cwd))
    te.video_scores(face_video, CLASSES, nframes=3, ffreq=10, save_frames=True, save_dir="out/frames",
                    video_name="clip", local_model_path=tiny_model)
    assert set(os.listdir(in_tmp_cwd)) - before == {"out"}
    assert sorted(os.listdir(in_tmp_cwd / "out" / "frames")) == [f"clip-frame-{i}.jpg" for i in range(3)]
    saved = np.asarray(Image.open(in_tmp_cwd / "out" / "frames" / "clip-frame-1.jpg"))
    original = decoded_frames(face_video)[10]
    assert np.abs(saved.astype(int) - original.astype(int)).mean() < 5  # the same picture, as JPEG


@pytest.mark.parametrize("name", ["../escape", "a/b", "..", "", "x\\y"])
def test_video_name_cannot_leave_save_dir(tiny_model, face_video, in_tmp_cwd, name):
    with pytest.raises(ValueError, match="video_name"):
        te.video_scores(face_video, CLASSES, nframes=3, save_frames=True, save_dir="out", video_name=name,
                        local_model_path=tiny_model)
    assert os.listdir(in_tmp_cwd) == []


@pytest.fixture
def video_server(face_video):
    folder = os.path.dirname(face_video)
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=folder, **k)  # noqa: E731
    http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_url_video_is_downloaded_into_save_dir_and_removed(tiny_model, face_video, video_server, in_tmp_cwd):
    url = f"{video_server}/{os.path.basename(face_video)}"
    remote = te.video_scores(url, CLASSES, nframes=3, ffreq=10, save_dir="dl", local_model_path=tiny_model)
    local = te.video_scores(face_video, CLASSES, nframes=3, ffreq=10, local_model_path=tiny_model)
    assert list(remote) == list(local)
    for label in CLASSES:
        np.testing.assert_allclose(remote[label], local[label], atol=1e-6)
    assert not (in_tmp_cwd / "dl").exists()  # no video, no partial download, no folder made for them
    te.video_scores(url, CLASSES, nframes=3, ffreq=10, save_dir="dl", save_video=True, video_name="kept",
                    local_model_path=tiny_model)
    assert os.listdir(in_tmp_cwd / "dl") == ["kept.avi"]


def test_web_page_without_ytdlp_names_the_extra(tiny_model, video_server, face_video, in_tmp_cwd, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_ytdlp(name, *args, **kwargs):
        if name == "yt_dlp":
            raise ImportError("No module named 'yt_dlp'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ytdlp)
    with pytest.raises(ImportError, match=r"transforemotion\[youtube\]"):
        te.video_scores(f"{video_server}/", CLASSES, save_dir="dl", local_model_path=tiny_model)
    assert not (in_tmp_cwd / "dl").exists()


def test_missing_page_is_a_value_error(tiny_model, video_server, in_tmp_cwd):
    with pytest.raises(ValueError, match="404"):
        te.video_scores(f"{video_server}/nothing.mp4", CLASSES, save_dir="dl", local_model_path=tiny_model)
    assert not (in_tmp_cwd / "dl").exists()


# --- memory ------------------------------------------------------------------

def test_stream_holds_at_most_two_batches(tiny_model):
    """A long video must never be read into memory whole."""
    from transforemotion.models import load_model

    pulled = []

    def frames():
        for i in range(40):
            pulled.append(i)
            yield scoring.Picture(i, np.zeros((48, 64, 3), np.uint8))

    model = load_model(local_model_path=tiny_model)
    plan = scoring.ScoringPlan(tuple(CLASSES), "none", batch_size=4)
    received = 0
    for rows in scoring.score_stream(model, frames(), plan):
        received += len(rows)
        # received + the queue (two batches) + the one picture being read
        assert len(pulled) <= received + 2 * 4 + 1
    assert received == 40
