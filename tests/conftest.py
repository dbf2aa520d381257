"""Shared fixtures: a tiny CLIP model saved to disk, real face photos, test videos.

Nothing here downloads anything. The model is built from a CLIPConfig and
loaded through ``local_model_path``, the same path users take.
"""

import os
import struct
import warnings

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

import transforemotion as te
from transforemotion.testing import build_tiny_clip

# The same scores on every test machine: the image tower runs in float32 here even on a CPU with AMX, where it
# would run in bfloat16 by default (tests/models/test_cpu_precision.py tests that path by setting this itself).
os.environ.setdefault("TRANSFOREMOTION_CPU_BFLOAT16", "0")


def quiet(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` with our own warnings (skipped pictures, missing units) silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", te.TransforemotionWarning)
        return fn(*args, **kwargs)


@pytest.fixture(autouse=True)
def thread_counts_unchanged():
    """A test that leaves torch's or OpenCV's thread count changed fails, and the count is restored, so the
    tests after it run as they would alone. (A module-scoped fixture may change a count for its module:
    it is set before and restored after each of its tests' checks.)"""
    before = torch.get_num_threads(), cv2.getNumThreads()
    yield
    after = torch.get_num_threads(), cv2.getNumThreads()
    if after != before:
        torch.set_num_threads(before[0])
        cv2.setNumThreads(before[1])
        pytest.fail(f"the test changed the thread counts (torch, OpenCV) from {before} to {after} and did not "
                    "restore them; use the set_torch_threads fixture, or restore them in a finally block",
                    pytrace=False)


@pytest.fixture
def set_torch_threads():
    """``set_torch_threads(n)`` sets torch's thread count for this test; the count before comes back after it."""
    before = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    return build_tiny_clip(str(tmp_path_factory.mktemp("tiny-clip")))


@pytest.fixture(scope="session")
def astronaut():
    """Public-domain portrait (Eileen Collins) shipped with scikit-image, RGB uint8."""
    from skimage import data

    return data.astronaut()


@pytest.fixture(scope="session")
def face(astronaut):
    """The astronaut's head and shoulders, 300x250."""
    return np.ascontiguousarray(astronaut[0:300, 100:350])


def two_face_canvas(face):
    """A big face on the left, a half-size face on the right, on a plain background."""
    canvas = np.full((400, 900, 3), 200, np.uint8)
    canvas[50:350, 50:300] = cv2.resize(face, (250, 300))
    canvas[150:300, 600:725] = cv2.resize(face, (125, 150))
    return canvas


@pytest.fixture(scope="session")
def image_dir(tmp_path_factory, astronaut, face):
    folder = tmp_path_factory.mktemp("images")
    Image.fromarray(astronaut).save(folder / "astronaut.jpg", quality=95)
    Image.fromarray(two_face_canvas(face)).save(folder / "two_faces.png")
    Image.fromarray(np.full((120, 160, 3), 128, np.uint8)).save(folder / "blank.png")
    return folder


def write_video(path, frames, fps=25.0, fourcc="MJPG"):
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    assert writer.isOpened(), "OpenCV cannot write test videos here"
    for frame in frames:
        writer.write(np.ascontiguousarray(frame[:, :, ::-1]))
    writer.release()
    return str(path)


def moving_face_frames(face, count=60, width=480, height=320, step=8):
    """A face sliding right; from some frame on it has left the picture."""
    small = cv2.resize(face, (150, 180))
    frames = []
    for i in range(count):
        frame = np.full((height, width, 3), 90, np.uint8)
        x = 10 + i * step
        if x + 150 <= width:
            frame[60:240, x : x + 150] = small
        frames.append(frame)
    return frames


@pytest.fixture(scope="session")
def face_video(tmp_path_factory, face):
    folder = tmp_path_factory.mktemp("video")
    return write_video(folder / "moving_face.avi", moving_face_frames(face))


@pytest.fixture
def in_tmp_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def corpus(tmp_path_factory, face):
    """score_corpus tests: two videos (one face moving out of the picture; two faces) and five images, one
    without a face, and a file that is neither."""
    folder = tmp_path_factory.mktemp("corpus")
    write_video(folder / "a_moving.avi", moving_face_frames(face, count=60, step=12))
    canvas = cv2.resize(two_face_canvas(face), (450, 200))
    write_video(folder / "b_two.avi", [np.roll(canvas, 3 * i, axis=1) for i in range(30)])
    Image.fromarray(two_face_canvas(face)).save(folder / "c_group.png")
    Image.fromarray(face).save(folder / "d_face.jpg", quality=95)
    Image.fromarray(np.full((120, 160, 3), 128, np.uint8)).save(folder / "e_blank.png")
    Image.fromarray(np.ascontiguousarray(face[:, ::-1])).save(folder / "f_mirror.jpg", quality=95)
    Image.fromarray(cv2.resize(face, (125, 150))).save(folder / "g_small.png")
    (folder / "notes.txt").write_text("not media")
    return folder


def claim_frames(path, count):
    """Rewrite an OpenCV AVI's frame counts (main header and stream header) to ``count``."""
    with open(path, "rb") as fh:
        data = bytearray(fh.read())
    main = data.find(b"avih")
    stream = data.find(b"strh")
    struct.pack_into("<I", data, main + 8 + 16, count)
    struct.pack_into("<I", data, stream + 8 + 32, count)
    with open(path, "wb") as fh:
        fh.write(data)
    return path
