"""Writing user-visible files: saved frames, output paths, atomic writes (issue #9).

The failure cases are real: a name longer than the file system allows, a
folder where a file should go, a folder without write permission.
"""

import os
import stat

import numpy as np
import pytest
from PIL import Image

import transforemotion as te
from transforemotion.core import files
from transforemotion.media import frames


def frame(shade):
    picture = np.zeros((40, 60, 3), np.uint8)
    picture[:, :, 0] = shade
    picture[:, 30:, 1] = 255 - shade
    return picture


# --- FrameSaver -------------------------------------------------------------------------

def test_frames_are_written_and_read_back_as_the_same_pictures(tmp_path):
    save_dir = tmp_path / "out" / "frames"
    saver = frames.FrameSaver(str(save_dir), "clip")
    assert not save_dir.exists()  # created on the first frame only
    for row, shade in enumerate((0, 120, 250)):
        assert saver.save(row, frame(shade))
    assert saver.finish() == 3
    assert sorted(os.listdir(save_dir)) == ["clip-frame-0.jpg", "clip-frame-1.jpg", "clip-frame-2.jpg"]
    with Image.open(save_dir / "clip-frame-1.jpg") as img:
        back = np.asarray(img.convert("RGB")).astype(int)
    assert np.abs(back - frame(120)).mean() < 3


def test_a_saver_that_saves_nothing_creates_nothing(tmp_path):
    with frames.FrameSaver(str(tmp_path / "never"), "clip"):
        pass
    assert os.listdir(tmp_path) == []


def test_a_name_too_long_for_the_file_system_is_reported_once(tmp_path):
    saver = frames.FrameSaver(str(tmp_path), "x" * 300)
    assert not saver.save(0, frame(10)) and not saver.save(1, frame(20))
    with pytest.warns(te.TransforemotionWarning) as caught:
        assert saver.finish() == 0
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "2 of 2 frames could not be saved" in message and "too long" in message and "video_name" in message
    assert os.listdir(tmp_path) == []  # no temporary file left either


def test_a_folder_in_the_way_loses_only_that_frame(tmp_path):
    (tmp_path / "clip-frame-1.jpg").mkdir()
    saver = frames.FrameSaver(str(tmp_path), "clip")
    results = [saver.save(row, frame(row * 50)) for row in range(3)]
    assert results == [True, False, True]
    with pytest.warns(te.TransforemotionWarning, match=r"1 of 3 frames could not be saved.*clip-frame-1.jpg"):
        saver.finish()
    assert sorted(os.listdir(tmp_path)) == ["clip-frame-0.jpg", "clip-frame-1.jpg", "clip-frame-2.jpg"]
    assert (tmp_path / "clip-frame-1.jpg").is_dir()


def test_a_save_dir_that_is_a_file_is_reported(tmp_path):
    (tmp_path / "frames").write_text("a file, not a folder")
    saver = frames.FrameSaver(str(tmp_path / "frames"), "clip")
    assert not saver.save(0, frame(0))
    with pytest.warns(te.TransforemotionWarning, match="could not be created.*save_dir"):
        saver.finish()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="permissions do not stop root; needs a POSIX user account")
def test_a_read_only_folder_is_reported(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        saver = frames.FrameSaver(str(locked), "clip")
        assert not saver.save(0, frame(0))
        with pytest.warns(te.TransforemotionWarning, match="Permission denied"):
            saver.finish()
    finally:
        locked.chmod(stat.S_IRWXU)


# --- output paths and atomic writes ------------------------------------------------------

def test_check_output_path_refuses_what_cannot_be_written(tmp_path):
    with pytest.raises(ValueError, match=r"is a folder.*scores.csv"):
        files.check_output_path(str(tmp_path))
    with pytest.raises(ValueError, match="does not exist"):
        files.check_output_path(str(tmp_path / "missing" / "scores.csv"))
    (tmp_path / "plain").write_text("x")
    with pytest.raises(ValueError, match="is a file, not a folder"):
        files.check_output_path(str(tmp_path / "plain" / "scores.csv"))
    with pytest.raises(ValueError, match="output"):
        files.check_output_path("")
    assert files.check_output_path(str(tmp_path / "scores.csv")) == str(tmp_path / "scores.csv")


def test_atomic_write_replaces_only_on_success(tmp_path):
    target = tmp_path / "scores.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError):
        with files.atomic_write(str(target), newline="") as fh:
            fh.write("half a ta")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old\n" and os.listdir(tmp_path) == ["scores.csv"]
    with files.atomic_write(str(target), newline="") as fh:
        fh.write("joy,anger\n0.7,0.3\n")
    assert target.read_text() == "joy,anger\n0.7,0.3\n" and os.listdir(tmp_path) == ["scores.csv"]


def test_atomic_write_gives_ordinary_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        with files.atomic_write(str(tmp_path / "table.json")) as fh:
            fh.write("{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "table.json").st_mode) == 0o644  # not mkstemp's 0o600


def test_atomic_write_onto_a_folder_fails_and_leaves_nothing(tmp_path):
    (tmp_path / "out.csv").mkdir()
    with pytest.raises(OSError):
        with files.atomic_write(str(tmp_path / "out.csv")) as fh:
            fh.write("x")
    assert os.listdir(tmp_path) == ["out.csv"]


def test_move_without_overwriting(tmp_path):
    (tmp_path / "new").write_text("downloaded")
    (tmp_path / "mine").write_text("the user's")
    with pytest.raises(FileExistsError):
        files.move_without_overwriting(str(tmp_path / "new"), str(tmp_path / "mine"))
    assert (tmp_path / "mine").read_text() == "the user's" and (tmp_path / "new").read_text() == "downloaded"
    files.move_without_overwriting(str(tmp_path / "new"), str(tmp_path / "kept"))
    assert sorted(os.listdir(tmp_path)) == ["kept", "mine"]
