"""The one scoring path: a stream of pictures in, score rows out.

Images, folders, video and corpora all come through :func:`score_stream`.
Nothing here knows where the pictures came from: callers hand in
:class:`Picture` items (an RGB array, or the reason it could not be read) and
get back :class:`Rows`: one row per face scored (or one row per picture,
with missing values, where there was no face or no picture), with the face's
box and the detector's confidence, and what was skipped and why.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import threading
from dataclasses import dataclass, field, replace
from typing import Callable, Dict, Iterable, Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from ..core.checks import usable_cores
from ..core.messages import TransforemotionWarning, missing_value, warn
from ..core.parallel import ordered_map
from ..faces import choose_faces, choose_faces_batch, crop_face
from ..faces.tracking import DESCRIPTOR_SIZE, face_descriptor
from ..models import VisionLanguageModel
from .request import ScoringPlan

__all__ = ["Picture", "Rows", "score_stream", "score_all", "warn_skipped",
           "SCORED", "NO_FACE", "UNREADABLE"]

# Row status: scored, a picture with no face in it, a picture that could not be read.
SCORED, NO_FACE, UNREADABLE = "scored", "no face", "unreadable"

# The first batch is a single picture so the model starts while the reader is
# still reading; sizes then double up to the batch size.
FIRST_BATCH = 1


class Picture(NamedTuple):
    """One input: ``key`` identifies it to the caller (an index, a frame number);
    ``image`` is RGB uint8 (H, W, 3), or None with ``error`` saying why."""

    key: object
    image: Optional[np.ndarray]
    error: Optional[str] = None


@dataclass
class Rows:
    """Score rows in input order. ``face`` is -1 where no face index applies
    (one face chosen, the whole picture, or nothing scored); ``boxes`` are
    x1, y1, x2, y2 (inclusive pixels, NaN where none); ``errors`` maps the key
    of each unreadable picture to the reason. ``embeddings`` are the rows'
    unit-length image embeddings, float32 (NaN rows where nothing was
    scored), or None where they were not kept (see
    ``ScoringPlan.keep_embeddings``) or no row was scored.

    With ``ScoringPlan.appearance``, ``appearance`` holds each face's
    :func:`~transforemotion.faces.tracking.face_descriptor` in float16 (NaN
    rows where no face was scored) and ``frame_size`` each row's picture
    height and width (0 where the picture could not be read), for the person
    tracker; both are None otherwise. ``person`` is each row's person id
    (-1 for none) once a video's rows have been through the tracker
    (:mod:`.persons`), else None."""

    keys: List[object]
    status: List[str]
    face: np.ndarray
    boxes: np.ndarray
    confidence: np.ndarray
    scores: np.ndarray
    errors: Dict[object, str] = field(default_factory=dict)
    embeddings: Optional[np.ndarray] = None
    appearance: Optional[np.ndarray] = None
    frame_size: Optional[np.ndarray] = None
    person: Optional[np.ndarray] = None

    @classmethod
    def empty(cls, n_labels: int) -> "Rows":
        return cls([], [], np.zeros(0, np.int64), np.zeros((0, 4)), np.zeros(0), np.zeros((0, n_labels)))

    def without_embeddings(self) -> "Rows":
        return replace(self, embeddings=None)

    def without_appearance(self) -> "Rows":
        return replace(self, appearance=None, frame_size=None)

    def slice(self, start: int, stop: int) -> "Rows":
        """Rows ``start`` to ``stop`` (not included), with their errors and embeddings."""
        keys = self.keys[start:stop]
        wanted = set(keys)
        return Rows(keys, self.status[start:stop], self.face[start:stop], self.boxes[start:stop],
                    self.confidence[start:stop], self.scores[start:stop],
                    {k: v for k, v in self.errors.items() if k in wanted},
                    *(None if a is None else a[start:stop] for a in (self.embeddings, self.appearance,
                                                                     self.frame_size, self.person)))

    @classmethod
    def concat(cls, blocks: Sequence["Rows"], n_labels: int) -> "Rows":
        if not blocks:
            return cls.empty(n_labels)
        errors: Dict[object, str] = {}
        for b in blocks:
            errors.update(b.errors)
        return cls(
            [k for b in blocks for k in b.keys],
            [s for b in blocks for s in b.status],
            np.concatenate([b.face for b in blocks]),
            np.vstack([b.boxes for b in blocks]),
            np.concatenate([b.confidence for b in blocks]),
            np.vstack([b.scores for b in blocks]),
            errors,
            _join_embeddings(blocks),
            _join_rows([b.appearance for b in blocks], [len(b) for b in blocks], np.float16, np.nan),
            _join_rows([b.frame_size for b in blocks], [len(b) for b in blocks], np.int32, 0),
            _join_rows([b.person for b in blocks], [len(b) for b in blocks], np.int64, -1),
        )

    def __len__(self) -> int:
        return len(self.keys)

    def keys_with(self, status: str) -> List[object]:
        """The keys of pictures with rows of this status, once each, in order."""
        return list(dict.fromkeys(k for k, s in zip(self.keys, self.status) if s == status))


def _join_embeddings(blocks: Sequence[Rows]) -> Optional[np.ndarray]:
    """The blocks' embeddings stacked; a block without any (nothing scored in it) gets NaN rows."""
    dims = {b.embeddings.shape[1] for b in blocks if b.embeddings is not None}
    if not dims:
        return None
    (dim,) = dims
    return np.vstack([b.embeddings if b.embeddings is not None else np.full((len(b), dim), np.nan, np.float32)
                      for b in blocks])


def _join_rows(arrays: Sequence[Optional[np.ndarray]], lengths: Sequence[int], dtype, fill) -> Optional[np.ndarray]:
    """Per-row arrays of blocks stacked; a block without one gets rows of ``fill`` (None when no block has one)."""
    shape = next((a.shape[1:] for a in arrays if a is not None), None)
    if shape is None:
        return None
    return np.concatenate([a if a is not None else np.full((n, *shape), fill, dtype) for a, n in zip(arrays, lengths)])


# One face (or whole picture) to embed: (face index or -1, box (5,) or None, crop or None, status, and for
# the person tracker the face's appearance descriptor and the picture's (height, width), or None).
_Look = Tuple[np.ndarray, Tuple[int, int]]
_Target = Tuple[int, Optional[np.ndarray], Optional[np.ndarray], str, Optional[_Look]]


def _targets(picture: Picture, face_selection: str, boxes: Optional[np.ndarray] = None,
             appearance: bool = False) -> List[_Target]:
    """What to embed for one picture; ``boxes`` are its chosen faces when a batched search found them already;
    ``appearance``: each face's appearance vector too, for the person tracker."""
    if picture.image is None:
        return [(-1, None, None, UNREADABLE, None)]
    if face_selection == "none":
        return [(-1, None, picture.image, SCORED, None)]
    if boxes is None:
        boxes = choose_faces(picture.image, face_selection)
    if not len(boxes):
        return [(-1, None, None, NO_FACE, None)]
    numbered = face_selection == "all"
    return [(i if numbered else -1, box, crop_face(picture.image, box), SCORED,
             _look(picture.image, box) if appearance else None) for i, box in enumerate(boxes)]


def _look(image: np.ndarray, box: np.ndarray) -> _Look:
    """The tracker's appearance vector, made here while the frame is at hand. In float16, what a corpus
    part stores, so that a video scored whole and one scored in parts give the tracker the same numbers."""
    return face_descriptor(image, box).astype(np.float16), image.shape[:2]


class _SharedSetting:
    """A process-wide thread count, changed while any scoring call runs and restored exactly after the last.

    OpenCV's and torch's thread counts belong to the whole process, and
    calls may overlap (two threads of a user's program, a corpus beside a
    notebook). The first call that needs the setting saves the value it
    finds and sets its own; later ones only count themselves in; the last
    one out puts the saved value back. The setter is called only where the
    value changes.
    """

    def __init__(self, get: Callable[[], int], set_: Callable[[int], None]):
        self._get, self._set = get, set_
        self._lock = threading.Lock()
        self._users = 0
        self._saved = 1

    @contextlib.contextmanager
    def held_at(self, value: int):
        with self._lock:
            if self._users == 0:
                self._saved = self._get()
                self._change(value)
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    self._change(self._saved)

    def retune(self, value: Optional[int]) -> None:
        """Within :meth:`held_at`: change the value (None: back to the saved one), but only while a single
        call holds the setting; calls that overlap keep the first one's value, so none changes another's."""
        with self._lock:
            if self._users == 1:
                self._change(self._saved if value is None else value)

    def _change(self, value: int) -> None:
        if self._get() != value:
            self._set(value)


# OpenCV on one thread per face-finding thread: torch already keeps the cores busy, and OpenCV's own
# workers only compete with it (measured: 6 % slower on 2 cores).
_OPENCV_THREADS = _SharedSetting(cv2.getNumThreads, cv2.setNumThreads)


def _opencv_single_threaded():
    return _OPENCV_THREADS.held_at(1)


def _torch_threads():
    import torch

    return _SharedSetting(torch.get_num_threads, torch.set_num_threads)


_TORCH_THREADS = _torch_threads()


_END = object()

ModelOrLoader = Union[VisionLanguageModel, Callable[[], VisionLanguageModel]]


def score_stream(model: ModelOrLoader, pictures: Iterable[Picture], plan: ScoringPlan) -> Iterator[Rows]:
    """Score a stream of pictures; yields :class:`Rows` batch by batch, in input order.

    A reader thread pulls pictures in order (so a video decoder behind it is
    read sequentially) and finds the faces, or, with ``plan.face_workers``
    above one, hands each picture to a pool of threads that find its faces
    while it decodes the next (:func:`~transforemotion.core.parallel.ordered_map`);
    the caller's thread takes the results in input order and embeds them in
    batches of 1, 2, 4, ... up to ``plan.batch_size`` faces. A batch never
    splits one picture's faces unless they alone exceed the batch size, so a
    group photo is one forward pass. PIL, OpenCV and torch release the GIL,
    so reading, detection and the model overlap instead of adding up. Batch
    sizes follow the input, not the timing, so a rerun batches alike. The
    look-ahead is bounded: about two batches of pictures are in memory
    however long the input is. The threads run in the caller's context (a
    message raised there is spelled for the caller), and closing the stream
    early (or Ctrl-C) stops them and restores the thread counts.

    ``model`` may be a zero-argument loader: it is called once the first
    picture has been read, so that a bad first input fails before a model
    is loaded.
    """
    # With one face-finding thread, the reader itself finds the faces (no worker threads).
    workers = plan.face_workers if plan.face_workers > 1 else 0
    found = ordered_map(functools.partial(_found, plan), _with_batched_faces(pictures, plan), workers,
                        2 * plan.batch_size, read_ahead=True, name="transforemotion-faces")
    # The threads are joined (found closed) before either thread count is restored.
    with _opencv_single_threaded(), contextlib.ExitStack() as torch_threads, found:
        first = next(found, _END)
        vlm = model if isinstance(model, VisionLanguageModel) else model()
        finders = _face_finders(plan, workers > 0) if vlm.device.type == "cpu" else 0
        # While faces are being found, those threads take cores from the model's: lower torch's count to
        # match (torch's threads wait on the slowest of them, so one that shares a core with a face
        # thread slows them all: 7 % over the stages run one after another, on 2 cores).
        cores_left = max(1, usable_cores() - finders)
        if finders:
            torch_threads.enter_context(_TORCH_THREADS.held_at(cores_left))
        # No labels: the embeddings alone are wanted (embed_images and its kin).
        text = vlm.embed_texts(plan.labels, plan.templates) if plan.labels else None
        pending = [] if first is _END else [first]
        finished = first is _END
        size = FIRST_BATCH
        while pending or not finished:
            faces = sum(len(p[2]) for p in pending)
            while not finished and faces < size:
                item = next(found, _END)
                if item is _END:
                    finished = True
                else:
                    pending.append(item)
                    faces += len(item[2])
            batch, pending = _take_batch(pending, plan.batch_size)
            if finders:
                # Every face found, or a whole batch found ahead of the model: face finding keeps up
                # with the model, and the model may have every core while the finders top the queue up.
                ahead = found.read_all or found.ahead >= plan.batch_size
                _TORCH_THREADS.retune(None if ahead else cores_left)
            yield _embed(vlm, text, batch, plan.appearance)
            size = min(2 * size, plan.batch_size)


def _found(plan: ScoringPlan, picture_and_boxes: Tuple[Picture, Optional[np.ndarray]]):
    """(key, error, what to embed) for one picture: in the reader, or in a face-finding thread."""
    picture, boxes = picture_and_boxes
    return picture.key, picture.error, _targets(picture, plan.face_selection, boxes, plan.appearance)


def _face_finders(plan: ScoringPlan, pooled: bool) -> int:
    """How many threads find faces beside the model: the pool's, else the reader (none without a face search)."""
    if pooled:
        return plan.face_workers
    return 0 if plan.face_selection == "none" else 1


def _with_batched_faces(pictures: Iterable[Picture], plan: ScoringPlan) -> Iterator[Tuple[Picture, Optional[np.ndarray]]]:
    """Each picture with its chosen faces, found a chunk of pictures at a time by the torch backend; with the
    OpenCV backend (or no face search) the faces are left to :func:`_targets` (None)."""
    if plan.face_backend != "torch" or plan.face_selection == "none":
        for picture in pictures:
            yield picture, None
        return
    iterator = iter(pictures)
    while True:
        chunk = list(itertools.islice(iterator, plan.batch_size))
        if not chunk:
            return
        readable = [p.image for p in chunk if p.image is not None]
        found = iter(choose_faces_batch(readable, plan.face_selection, "torch", plan.face_device) if readable else [])
        for picture in chunk:
            yield picture, (next(found) if picture.image is not None else None)


def _take_batch(pending: list, batch_size: int) -> Tuple[list, list]:
    """Whole pictures up to the batch size; a picture with more faces than that is split."""
    batch, count = [], 0
    while pending and (not batch or count + len(pending[0][2]) <= batch_size):
        key, error, targets = pending.pop(0)
        if len(targets) > batch_size:
            pending.insert(0, (key, error, targets[batch_size:]))
            targets = targets[:batch_size]
        batch.append((key, error, targets))
        count += len(targets)
    return batch, pending


def _embed(model: VisionLanguageModel, text, batch, appearance: bool = False) -> Rows:
    keys, status, face, boxes, confidence, crops, errors = [], [], [], [], [], [], {}
    looks, sizes = [], []
    for key, error, targets in batch:
        if error is not None:
            errors[key] = error
        for index, box, crop, state, look in targets:
            keys.append(key)
            status.append(state)
            face.append(index)
            boxes.append(box[:4] if box is not None else np.full(4, np.nan))
            confidence.append(box[4] if box is not None else np.nan)
            crops.append(crop)
            if appearance:
                looks.append(look[0] if look is not None else np.full(DESCRIPTOR_SIZE, np.nan, np.float16))
                sizes.append(look[1] if look is not None else (0, 0))
    scores = np.full((len(crops), 0 if text is None else text.shape[0]), np.nan)
    embeddings = None
    todo = [i for i, crop in enumerate(crops) if crop is not None]
    if todo:
        embedded = model.embed_images([crops[i] for i in todo])
        if text is not None:
            scores[todo] = model.probabilities(embedded, text)
        embeddings = np.full((len(crops), embedded.shape[1]), np.nan, np.float32)
        embeddings[todo] = embedded.float().cpu().numpy()
    rows = Rows(keys, status, np.asarray(face, np.int64), np.asarray(boxes, float).reshape(-1, 4),
                np.asarray(confidence, float), scores, errors, embeddings)
    if appearance:
        rows.appearance = np.asarray(looks, np.float16).reshape(-1, DESCRIPTOR_SIZE)
        rows.frame_size = np.asarray(sizes, np.int32).reshape(-1, 2)
    return rows


def score_all(model: ModelOrLoader, pictures: Iterable[Picture], plan: ScoringPlan,
              on_rows: Optional[Callable[[Rows], None]] = None) -> Rows:
    """Every row of :func:`score_stream`, joined; ``on_rows`` sees each batch (progress bars, the person
    tracker). The joined rows never keep the appearance vectors: a long video's would fill memory, and
    the tracker has used each batch's as it came."""
    blocks = []
    for rows in score_stream(model, pictures, plan):
        if on_rows is not None:
            on_rows(rows)
        rows = rows.without_appearance()
        blocks.append(rows if plan.keep_embeddings else rows.without_embeddings())
    return Rows.concat(blocks, len(plan.labels))


def warn_skipped(names: Sequence[object], reason: str, advice: str = "",
                 category: type = TransforemotionWarning, others_scored: bool = False) -> None:
    """One warning for a group of skipped items, naming them (the first ten); ``others_scored`` adds that the
    other inputs were scored (say it only where there are others)."""
    if not names:
        return
    rest = "; the others were scored." if others_scored else "."
    if len(names) == 1:
        message = f"{reason} for {names[0]}. Its row has missing values ({missing_value()}){rest}"
    else:
        shown = ", ".join(str(n) for n in names[:10])
        more = f" and {len(names) - 10} more" if len(names) > 10 else ""
        message = (f"{reason} for {len(names)} items: {shown}{more}. Their rows have missing values "
                   f"({missing_value()}){rest}")
    if advice:
        message += " " + advice
    warn(message, category)
