"""From pictures to probabilities: face crops, batched embedding, softmax over labels.

Shared by image and video scoring. Nothing here knows where the pictures came
from; callers hand in RGB arrays (or None for "nothing to score").
"""

from __future__ import annotations

import os
import queue
import threading
import warnings
from typing import Iterable, Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from .faces import face_crop
from .messages import TransforemotionWarning
from .models import VisionLanguageModel

__all__ = ["TransforemotionWarning", "BATCH_SIZE", "score_stream", "warn_skipped"]

# Images embedded per forward pass. 32 keeps a ViT-L/14 batch well under 1 GB
# of activations and is past the point where larger batches stop helping on CPU.
BATCH_SIZE = int(os.environ.get("TRANSFOREMOTION_BATCH_SIZE", "32"))


# The first batch is a single picture so the model starts while the reader
# is still reading; sizes then double up to BATCH_SIZE.
FIRST_BATCH = 1


_END = object()


def score_stream(
    model: VisionLanguageModel,
    pictures: Iterable[Tuple[object, Optional[np.ndarray]]],
    classes: Sequence[str],
    face_selection: str,
) -> Iterator[Tuple[List[object], List[bool], np.ndarray]]:
    """Score a stream of (name, RGB array or None) in batches.

    Yields, per batch: the names; for each, whether it was a picture in which
    no face was found; and the score rows, NaN where there was no picture
    (None: the caller could not read it) or no face.

    A reader thread pulls pictures in order (so a video decoder behind it is
    read sequentially), finds the face and queues the crop; the caller's
    thread embeds them in batches of 1, 2, 4, ... up to ``BATCH_SIZE``. PIL,
    OpenCV and torch release the GIL, so reading, detection and the model
    overlap instead of adding up, and the small first batches put the model
    to work at once instead of idling while a full batch is read. The batch
    sizes follow the input, not the timing, so a rerun batches alike (CPU
    math libraries may still differ in the last bits, ~1e-7). The queue is
    bounded: at most about two batches of pictures are in memory however
    long the input is.
    """
    text = model.embed_texts(classes)
    ready: "queue.Queue" = queue.Queue(maxsize=2 * BATCH_SIZE)
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
            for name, img in pictures:
                crop = None if img is None else face_crop(img, face_selection)
                if not put((name, crop, img is not None and crop is None)):
                    return
            put(_END)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread and raised there
            put(exc)

    # The reader runs beside torch, which already keeps every core busy; OpenCV's
    # own worker threads would only compete with it (measured: 6% slower on 2
    # cores). OpenCV's setting is process-wide, so it is restored afterwards.
    cv2_threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    reader = threading.Thread(target=read, name="transforemotion-read", daemon=True)
    reader.start()
    try:
        size = FIRST_BATCH
        while True:
            batch, item = [], None
            while len(batch) < size:
                item = ready.get()
                if item is _END or isinstance(item, BaseException):
                    break
                batch.append(item)
            if batch:
                names, crops, faceless = zip(*batch)
                yield list(names), list(faceless), _embed(model, text, crops)
            if isinstance(item, BaseException):
                raise item
            if item is _END:
                return
            size = min(2 * size, BATCH_SIZE)
    finally:
        stop.set()
        reader.join()
        cv2.setNumThreads(cv2_threads)


def _embed(model, text, crops) -> np.ndarray:
    scores = np.full((len(crops), text.shape[0]), np.nan)
    rows = [i for i, crop in enumerate(crops) if crop is not None]
    if rows:
        scores[rows] = model.probabilities(model.embed_images([crops[i] for i in rows]), text)
    return scores


def warn_skipped(names: Sequence[str], reason: str, advice: str = "") -> None:
    """One warning for a group of skipped items, naming them (the first ten)."""
    if not names:
        return
    shown = ", ".join(str(n) for n in names[:10])
    more = f" and {len(names) - 10} more" if len(names) > 10 else ""
    message = f"{reason} for {len(names)} item(s): {shown}{more}. Their rows are NaN (NA in R)."
    if advice:
        message += " " + advice
    warnings.warn(message, TransforemotionWarning, stacklevel=3)
