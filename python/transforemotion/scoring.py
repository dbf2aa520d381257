"""From pictures to probabilities: face crops, batched embedding, softmax over labels.

Shared by image and video scoring. Nothing here knows where the pictures came
from; callers hand in RGB arrays (or None for "nothing to score").
"""

from __future__ import annotations

import itertools
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from .faces import face_crop
from .models import VisionLanguageModel

__all__ = ["TransforemotionWarning", "BATCH_SIZE", "score_stream", "warn_skipped"]

# Images embedded per forward pass. 32 keeps a ViT-L/14 batch well under 1 GB
# of activations and is past the point where larger batches stop helping on CPU.
BATCH_SIZE = int(os.environ.get("TRANSFOREMOTION_BATCH_SIZE", "32"))


class TransforemotionWarning(UserWarning):
    """Something was skipped or could not be scored; the result has NaN rows for it."""


def score_stream(
    model: VisionLanguageModel,
    pictures: Iterable[Tuple[object, Optional[np.ndarray]]],
    classes: Sequence[str],
    face_selection: str,
) -> Iterator[Tuple[List[object], List[bool], np.ndarray]]:
    """Score a stream of (name, RGB array or None) in batches.

    Yields, per batch: the names, whether something was scored for each (a
    face was found, or the whole picture for ``"none"``), and the score rows
    (NaN where not). At most two batches of full-size pictures are held at a
    time.

    Reading and face detection for the next batch run in one worker thread
    while the model embeds the current batch: PIL, OpenCV and torch release
    the GIL, so the stages overlap instead of adding up. The worker pulls
    from ``pictures`` in order, so a video decoder behind it is read
    sequentially.
    """
    text = model.embed_texts(classes)
    source = iter(pictures)

    def prepare_next():
        batch = list(itertools.islice(source, BATCH_SIZE))
        if not batch:
            return None
        names = [name for name, _ in batch]
        crops = [None if img is None else face_crop(img, face_selection) for _, img in batch]
        return names, crops

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="transforemotion-read") as pool:
        future = pool.submit(prepare_next)
        while True:
            prepared = future.result()
            if prepared is None:
                return
            future = pool.submit(prepare_next)
            yield _embed(model, text, *prepared)


def _embed(model, text, names, crops):
    scores = np.full((len(crops), text.shape[0]), np.nan)
    rows = [i for i, crop in enumerate(crops) if crop is not None]
    if rows:
        scores[rows] = model.probabilities(model.embed_images([crops[i] for i in rows]), text)
    found = [crop is not None for crop in crops]
    return names, found, scores


def warn_skipped(names: Sequence[str], reason: str, advice: str = "") -> None:
    """One warning for a group of skipped items, naming them (the first ten)."""
    if not names:
        return
    shown = ", ".join(str(n) for n in names[:10])
    more = f" and {len(names) - 10} more" if len(names) > 10 else ""
    message = f"{reason} for {len(names)} item(s): {shown}{more}. Their rows are NaN."
    if advice:
        message += " " + advice
    warnings.warn(message, TransforemotionWarning, stacklevel=3)
