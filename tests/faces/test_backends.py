"""The two detectors behind one interface, and the scoring stream on the torch one (as on a GPU, here on the CPU)."""

import numpy as np
import pytest

import transforemotion as te
from transforemotion import faces
from transforemotion.engine import request as request_module

CLASSES = ["joy", "anger", "surprise"]


def test_detect_faces_by_backend_name(astronaut, face):
    canvas = np.full((400, 900, 3), 200, np.uint8)
    canvas[50:350, 50:300] = face
    canvas[100:250, 500:625] = face[::2, ::2]
    opencv = faces.detect_faces(canvas, backend="opencv")
    torch_found = faces.detect_faces(canvas, backend="torch", device="cpu")
    assert len(opencv) == len(torch_found) == 2
    order = lambda b: b[np.argsort(b[:, 0])]  # noqa: E731
    np.testing.assert_allclose(order(torch_found)[:, :4], order(opencv)[:, :4], atol=1.0)
    batch = faces.detect_faces_batch([canvas, astronaut, np.full((64, 64, 3), 90, np.uint8)], backend="torch",
                                     device="cpu")
    assert [len(b) for b in batch] == [2, len(faces.detect_faces(astronaut)), 0]
    chosen = faces.choose_faces_batch([canvas, canvas[:, ::-1].copy()], "left", backend="torch", device="cpu")
    np.testing.assert_allclose(chosen[0], faces.choose_faces(canvas, "left"), atol=1.0)
    assert chosen[1][0, 0] < 450  # the mirrored picture's leftmost face is the small one
    with pytest.raises(ValueError, match="face_backend"):
        faces.detect_faces(canvas, backend="dlib")


def test_auto_takes_torch_on_cuda_and_opencv_elsewhere():
    assert faces.resolve_face_backend("auto", "cuda") == "torch"
    assert faces.resolve_face_backend("auto", "cpu") == "opencv"
    assert faces.resolve_face_backend("auto", "mps") == "opencv"
    assert faces.resolve_face_backend("torch", "cpu") == "torch"


@pytest.mark.parametrize("selection", ["all", "largest", "right"])
def test_the_stream_on_the_torch_backend_gives_the_opencv_rows(tiny_model, face_video, monkeypatch, selection):
    kwargs = dict(nframes=8, ffreq=3, face_selection=selection, timestamps=True, local_model_path=tiny_model,
                  batch_size=3)
    opencv = te.video_scores(face_video, CLASSES, **kwargs)
    monkeypatch.setattr(request_module, "resolve_face_backend", lambda backend, device_type: "torch")
    torch_rows = te.video_scores(face_video, CLASSES, **kwargs)
    assert list(torch_rows) == list(opencv) and torch_rows["frame"] == opencv["frame"]
    for column in CLASSES:
        np.testing.assert_allclose(torch_rows[column], opencv[column], atol=2e-3, equal_nan=True)


# --- what both backends take (issue 27) ---------------------------------------

def _bad_pictures(astronaut):
    return {
        "float in [0, 1]": (astronaut / 255.0, "float64 array of shape \\(512, 512, 3\\).*\\* 255"),
        "16-bit": (astronaut.astype(np.uint16) * 257, "uint16 array.*16-bit"),
        "a file name": ("astronaut.png", "file name \\('astronaut.png'\\).*load_image\\(path\\)"),
        "grey": (astronaut[..., 0], "shape \\(512, 512\\).*three channels"),
        "with alpha": (np.dstack([astronaut, astronaut[..., :1]]), "shape \\(512, 512, 4\\).*alpha"),
    }


@pytest.mark.parametrize("backend", ["opencv", "torch"])
@pytest.mark.parametrize("kind", ["float in [0, 1]", "16-bit", "a file name", "grey", "with alpha"])
def test_both_backends_refuse_what_is_not_an_8_bit_rgb_picture(astronaut, backend, kind):
    # The OpenCV backend used to find 0 faces in the float picture and 3 in the
    # 16-bit one (1 in the 8-bit one), and fail on a file name with an AttributeError.
    picture, message = _bad_pictures(astronaut)[kind]
    with pytest.raises(te.ArgumentError, match="image must be an 8-bit RGB picture.*" + message):
        faces.detect_faces(picture, backend=backend, device="cpu")
    with pytest.raises(te.ArgumentError, match="picture 2 of 2"):
        faces.detect_faces_batch([astronaut, picture], backend=backend, device="cpu")
    with pytest.raises(te.ArgumentError, match="8-bit RGB"):
        faces.choose_faces_batch([picture], "largest", backend=backend, device="cpu")
    assert len(faces.detect_faces(astronaut, backend=backend, device="cpu")) == 1
