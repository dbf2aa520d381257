"""FFmpeg's own log lines ("moov atom not found") stay out of stderr when we open a damaged
video; our message is all the user sees (issue 21, newcomer friction 7). Real files, real OpenCV,
and a real subprocess, whose whole stderr is what a user's terminal would show."""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import cv2
import numpy as np
import pytest

from transforemotion.media.quiet_ffmpeg import FFMPEG_LINE, quiet_ffmpeg

PYTHON_DIR = str(Path(__file__).resolve().parents[1] / "python")
FFMPEG_TEXT = re.compile(r"\[[^\]\n]* @ (0x)?[0-9a-fA-F]+\]|moov atom", re.IGNORECASE)


@pytest.fixture(scope="module")
def truncated_mp4(tmp_path_factory):
    """An MP4 cut in half: its index (the moov atom) is at the end, so it is gone."""
    folder = tmp_path_factory.mktemp("damaged")
    whole = folder / "whole.mp4"
    writer = cv2.VideoWriter(str(whole), cv2.VideoWriter_fourcc(*"mp4v"), 10, (64, 48))
    if not writer.isOpened():
        pytest.skip("OpenCV cannot write MP4 here")
    for i in range(30):
        writer.write(np.full((48, 64, 3), i * 8, np.uint8))
    writer.release()
    data = whole.read_bytes()
    cut = folder / "truncated clip.mp4"
    cut.write_bytes(data[: len(data) // 2])
    return str(cut)


def run_python(code: str, **env):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ, PYTHONPATH=PYTHON_DIR, **env))


def test_plain_opencv_prints_ffmpegs_line_for_this_file(truncated_mp4):
    """The control: without us, FFmpeg does talk about this file (else the next test proves nothing)."""
    done = run_python(f"import cv2; print(cv2.VideoCapture({truncated_mp4!r}).isOpened())")
    assert done.stdout.strip() == "False"
    assert "moov atom not found" in done.stderr and FFMPEG_LINE.match(done.stderr.encode())


@pytest.mark.slow
def test_opening_a_damaged_video_shows_only_our_message(truncated_mp4):
    done = run_python(f"""
        import sys
        from transforemotion.media import open_video
        try:
            open_video({truncated_mp4!r})
        except ValueError as exc:
            print("error:", exc, file=sys.stderr)
    """)
    assert done.returncode == 0, done.stderr
    assert f"error: {truncated_mp4} could not be opened as a video" in done.stderr
    assert not FFMPEG_TEXT.search(done.stderr), done.stderr
    assert done.stderr.strip().count("\n") == 0  # one line: ours


@pytest.mark.slow
def test_the_user_can_still_ask_for_ffmpegs_log(truncated_mp4):
    done = run_python(f"""
        from transforemotion.media import open_video
        try:
            open_video({truncated_mp4!r})
        except ValueError:
            pass
    """, OPENCV_FFMPEG_LOGLEVEL="24")
    assert "moov atom not found" in done.stdout + done.stderr


@pytest.mark.slow
def test_other_output_in_the_window_is_kept_in_order(truncated_mp4):
    done = run_python(f"""
        import os, sys
        import cv2
        from transforemotion.media.quiet_ffmpeg import quiet_ffmpeg
        print("before", file=sys.stderr)
        with quiet_ffmpeg():
            os.write(2, b"from C, kept\\n")
            print("from Python, kept", file=sys.stderr)
            assert not cv2.VideoCapture({truncated_mp4!r}).isOpened()
            with quiet_ffmpeg():  # nested: no second redirect
                os.write(2, b"nested, kept\\n")
        print("after", file=sys.stderr)
    """)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == ["before", "from C, kept", "from Python, kept", "nested, kept", "after"]


def test_an_error_inside_the_window_puts_stderr_back(capfd):
    with pytest.raises(RuntimeError):
        with quiet_ffmpeg():
            os.write(2, b"said before the error\n")
            raise RuntimeError("boom")
    os.write(2, b"after the error\n")
    assert capfd.readouterr().err.splitlines() == ["said before the error", "after the error"]
