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
import queue
import threading
from dataclasses import dataclass, field, replace
from typing import Callable, Dict, Iterable, Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from ..core.messages import missing_value, warn
from ..faces import choose_faces, crop_face
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
    ``ScoringPlan.keep_embeddings``) or no row was scored."""

    keys: List[object]
    status: List[str]
    face: np.ndarray
    boxes: np.ndarray
    confidence: np.ndarray
    scores: np.ndarray
    errors: Dict[object, str] = field(default_factory=dict)
    embeddings: Optional[np.ndarray] = None

    @classmethod
    def empty(cls, n_labels: int) -> "Rows":
        return cls([], [], np.zeros(0, np.int64), np.zeros((0, 4)), np.zeros(0), np.zeros((0, n_labels)))

    def without_embeddings(self) -> "Rows":
        return replace(self, embeddings=None)

    def slice(self, start: int, stop: int) -> "Rows":
        """Rows ``start`` to ``stop`` (not included), with their errors and embeddings."""
        keys = self.keys[start:stop]
        wanted = set(keys)
        return Rows(keys, self.status[start:stop], self.face[start:stop], self.boxes[start:stop],
                    self.confidence[start:stop], self.scores[start:stop],
                    {k: v for k, v in self.errors.items() if k in wanted},
                    None if self.embeddings is None else self.embeddings[start:stop])

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


# One face (or whole picture) to embed: (face index or -1, box (5,) or None, crop or None, status).
_Target = Tuple[int, Optional[np.ndarray], Optional[np.ndarray], str]


def _targets(picture: Picture, face_selection: str) -> List[_Target]:
    if picture.image is None:
        return [(-1, None, None, UNREADABLE)]
    if face_selection == "none":
        return [(-1, None, picture.image, SCORED)]
    boxes = choose_faces(picture.image, face_selection)
    if not len(boxes):
        return [(-1, None, None, NO_FACE)]
    numbered = face_selection == "all"
    return [(i if numbered else -1, box, crop_face(picture.image, box), SCORED) for i, box in enumerate(boxes)]


_cv_lock = threading.Lock()
_cv_users = 0
_cv_saved = 1


@contextlib.contextmanager
def _opencv_single_threaded():
    """OpenCV on one thread while the reader runs beside torch.

    torch already keeps every core busy; OpenCV's own worker threads only
    compete with it (measured: 6 % slower on 2 cores). The setting is
    process-wide, so it is changed under a lock with a count of the calls
    running, and restored exactly when the last one ends.
    """
    global _cv_users, _cv_saved
    with _cv_lock:
        if _cv_users == 0:
            _cv_saved = cv2.getNumThreads()
            cv2.setNumThreads(1)
        _cv_users += 1
    try:
        yield
    finally:
        with _cv_lock:
            _cv_users -= 1
            if _cv_users == 0:
                cv2.setNumThreads(_cv_saved)


_END = object()

ModelOrLoader = Union[VisionLanguageModel, Callable[[], VisionLanguageModel]]


def score_stream(model: ModelOrLoader, pictures: Iterable[Picture], plan: ScoringPlan) -> Iterator[Rows]:
    """Score a stream of pictures; yields :class:`Rows` batch by batch, in input order.

    A reader thread pulls pictures in order (so a video decoder behind it is
    read sequentially), finds the faces and queues the crops; the caller's
    thread embeds them in batches of 1, 2, 4, ... up to ``plan.batch_size``
    faces. A batch never splits one picture's faces unless they alone exceed
    the batch size, so a group photo is one forward pass. PIL, OpenCV and
    torch release the GIL, so reading, detection and the model overlap
    instead of adding up. Batch sizes follow the input, not the timing, so a
    rerun batches alike. The queue is bounded: about two batches of pictures
    are in memory however long the input is.

    ``model`` may be a zero-argument loader: it is called once the first
    picture has been read, so that a bad first input fails before a model
    is loaded.
    """
    ready: "queue.Queue" = queue.Queue(maxsize=2 * plan.batch_size)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read():
        try:
            for picture in pictures:
                if not put((picture.key, picture.error, _targets(picture, plan.face_selection))):
                    return
            put(_END)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread and raised there
            put(exc)

    with _opencv_single_threaded():
        reader = threading.Thread(target=read, name="transforemotion-read", daemon=True)
        reader.start()
        try:
            first = ready.get()
            if isinstance(first, BaseException):
                raise first
            vlm = model if isinstance(model, VisionLanguageModel) else model()
            # No labels: the embeddings alone are wanted (embed_images and its kin).
            text = vlm.embed_texts(plan.labels, plan.templates) if plan.labels else None
            pending = [] if first is _END else [first]
            finished = first is _END
            size = FIRST_BATCH
            while pending or not finished:
                faces = sum(len(p[2]) for p in pending)
                while not finished and faces < size:
                    item = ready.get()
                    if item is _END:
                        finished = True
                    elif isinstance(item, BaseException):
                        raise item
                    else:
                        pending.append(item)
                        faces += len(item[2])
                batch, pending = _take_batch(pending, plan.batch_size)
                yield _embed(vlm, text, batch)
                size = min(2 * size, plan.batch_size)
        finally:
            stop.set()
            reader.join()


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


def _embed(model: VisionLanguageModel, text, batch) -> Rows:
    keys, status, face, boxes, confidence, crops, errors = [], [], [], [], [], [], {}
    for key, error, targets in batch:
        if error is not None:
            errors[key] = error
        for index, box, crop, state in targets:
            keys.append(key)
            status.append(state)
            face.append(index)
            boxes.append(box[:4] if box is not None else np.full(4, np.nan))
            confidence.append(box[4] if box is not None else np.nan)
            crops.append(crop)
    scores = np.full((len(crops), 0 if text is None else text.shape[0]), np.nan)
    embeddings = None
    todo = [i for i, crop in enumerate(crops) if crop is not None]
    if todo:
        embedded = model.embed_images([crops[i] for i in todo])
        if text is not None:
            scores[todo] = model.probabilities(embedded, text)
        embeddings = np.full((len(crops), embedded.shape[1]), np.nan, np.float32)
        embeddings[todo] = embedded.float().cpu().numpy()
    return Rows(keys, status, np.asarray(face, np.int64), np.asarray(boxes, float).reshape(-1, 4),
                np.asarray(confidence, float), scores, errors, embeddings)


def score_all(model: ModelOrLoader, pictures: Iterable[Picture], plan: ScoringPlan,
              on_rows: Optional[Callable[[Rows], None]] = None) -> Rows:
    """Every row of :func:`score_stream`, joined; ``on_rows`` sees each batch (progress bars)."""
    blocks = []
    for rows in score_stream(model, pictures, plan):
        if on_rows is not None:
            on_rows(rows)
        blocks.append(rows if plan.keep_embeddings else rows.without_embeddings())
    return Rows.concat(blocks, len(plan.labels))


def warn_skipped(names: Sequence[object], reason: str, advice: str = "") -> None:
    """One warning for a group of skipped items, naming them (the first ten)."""
    if not names:
        return
    shown = ", ".join(str(n) for n in names[:10])
    more = f" and {len(names) - 10} more" if len(names) > 10 else ""
    message = f"{reason} for {len(names)} item(s): {shown}{more}. Their rows have missing values ({missing_value()})."
    if advice:
        message += " " + advice
    warn(message)
