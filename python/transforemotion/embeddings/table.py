"""Embeddings as data: the rows a scoring call would return, one image embedding per row, and the model's record.

Why this shape. A scoring result is a dict of columns; embeddings add one
512-number vector per row, which as a column of lists would be slow in
Python and awkward in R (a list column). So :class:`Embeddings` keeps three
plain things side by side:

- ``rows``: the row table exactly as the scoring function gives it (``image``
  or ``image_id``, ``frame``, ``time``, ``face``, the box, ``confidence``, and
  any column a newer engine adds, such as ``person``), a dict of columns;
- ``vectors``: a float32 matrix, one row per table row (NaN rows where no
  face was found or the picture could not be read);
- ``model``: the record of the model that made them (:mod:`.record`).

In R these become a ``data.frame``, a numeric ``matrix`` and a list: the
types R users already index, bind, save with ``saveRDS`` and feed to
``prcomp`` or ``dist``, with no Python object that dies with the session.
A label's score is then a matrix product away (:func:`rescore_vectors`).
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence

import numpy as np

from ..core.errors import ArgumentError
from ..core.messages import value
from ..engine import Rows, ScoringRequest, rows_to_columns
from ..models import VisionLanguageModel
from .record import check_record, describe_model, model_record

__all__ = ["Embeddings", "embeddings_from_rows", "rescore_vectors", "scores_table", "check_label_names",
           "EMBEDDING_COLUMN"]

# The embedding column's name in a Parquet file or a corpus part.
EMBEDDING_COLUMN = "embedding"
# Rows per matrix product: bounds the temporary copies (64k x 512 float32 = 128 MB) on a million rows.
_CHUNK_ROWS = 65536


class Embeddings:
    """One image embedding per row of a scoring result, with the rows and the model's record.

    Attributes:
        rows: the result's columns without the label scores (dict of lists;
            may have no columns, as ``image_scores`` with one face per image).
        vectors: float32 array (rows x dimensions); unit length, NaN where
            nothing was embedded.
        model: the model record (source, architecture, dim, dtype,
            preprocess, logit_scale, probe).
    """

    def __init__(self, rows: Dict[str, list], vectors, model: Dict[str, Any]):
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2:
            raise ArgumentError(f"The embeddings must be a matrix (rows x dimensions); got an array of shape "
                                f"{vectors.shape}.")
        if not isinstance(rows, dict):
            raise ArgumentError(f"The embeddings' rows must be a dict of columns; got {value(rows)}.")
        rows = {str(name): list(column) for name, column in rows.items()}
        wrong = [name for name, column in rows.items() if len(column) != vectors.shape[0]]
        if wrong:
            raise ArgumentError(f"The embeddings have {vectors.shape[0]} rows, but the column(s) "
                                f"{', '.join(value(w) for w in wrong)} have another length.")
        model = check_record(model, "The embeddings")
        if model["dim"] != vectors.shape[1]:
            raise ArgumentError(f"The embeddings have {vectors.shape[1]} dimensions, but their model record says "
                                f"{model['dim']}; they do not belong together.")
        self.rows = rows
        self.vectors = vectors
        self.model = model

    def __len__(self) -> int:
        return int(self.vectors.shape[0])

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def __repr__(self) -> str:
        columns = ", ".join(self.rows) or "none"
        embedded = int(np.isfinite(self.vectors[:, 0]).sum()) if len(self) and self.dim else 0
        return (f"<Embeddings: {len(self)} rows ({embedded} embedded) x {self.dim} dimensions, model "
                f"{describe_model(self.model)}; row columns: {columns}>")


def embeddings_from_rows(rows: Rows, request: ScoringRequest, leading, vlm: VisionLanguageModel) -> Embeddings:
    """The engine's rows (made with ``keep_embeddings``) as :class:`Embeddings`, shaped as scoring shapes them."""
    record = model_record(vlm)
    vectors = rows.embeddings
    if vectors is None:  # nothing was embedded at all (no face anywhere, or no picture)
        vectors = np.full((len(rows), record["dim"]), np.nan, np.float32)
    return Embeddings(rows_to_columns(rows, request, leading), vectors, record)


def rescore_vectors(vlm: VisionLanguageModel, vectors: np.ndarray, labels: Sequence[str],
                    templates: Optional[Sequence[str]]) -> np.ndarray:
    """Probabilities of each label for each embedding: softmax over exp(logit_scale) x image . label, NaN rows kept.

    The scoring path's arithmetic (float32 products, the softmax in float64)
    with one change of order: the temperature multiplies the few logits, not
    the 512 numbers of every row first, which would be most of the time on a
    million rows. A rescored row equals the fresh one to about 1e-7. Rows
    with nothing embedded (NaN) come out NaN, as NaN carries through the
    product, without a pass to find them. The product runs in NumPy on the
    CPU whatever the model's device: it is 7 columns wide, so sending a
    million rows to a GPU would cost more than it saves, and torch's thread
    pool costs more than the work on a corpus part of 256 rows.
    """
    text = vlm.embed_texts(tuple(labels), templates).float().cpu().numpy()
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    scores = np.empty((vectors.shape[0], len(labels)))
    for start in range(0, vectors.shape[0], _CHUNK_ROWS):
        logits = (vectors[start : start + _CHUNK_ROWS] @ text.T).astype(np.float64) * np.float32(vlm.logit_scale)
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=1, keepdims=True)
        scores[start : start + len(logits)] = logits
    return scores


def check_label_names(columns: Sequence[str], labels: Sequence[str]) -> None:
    """A label that would overwrite a row column (``face``, ``frame``, ``person``, ...) is refused."""
    clash = [label for label in labels if label in columns]
    if clash:
        raise ArgumentError(f"The label(s) {', '.join(value(c) for c in clash)} have the same name as a column of the "
                            f"rows ({', '.join(columns)}). Rename the label, for example "
                            f"{value(clash[0] + ' (label)')}.")


def scores_table(rows: Dict[str, list], labels: Sequence[str], scores: np.ndarray) -> Dict[str, list]:
    """The row table and one column per label: the scoring functions' result."""
    check_label_names(list(rows), labels)
    columns = dict(rows)
    for j, label in enumerate(labels):
        columns[label] = scores[:, j].tolist()
    return columns
