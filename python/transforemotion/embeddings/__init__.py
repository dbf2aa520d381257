"""Embeddings: score once, ask again. The image side of a scoring run, kept, and rescored with new labels.

The image embedding of each face is the expensive part of scoring and does
not depend on the labels; the labels' side is a few text embeddings and a
matrix product. Kept embeddings therefore answer a new question in seconds,
without reading a picture again.

- :mod:`.record`: which model made a set of embeddings (its record and a fingerprint of its weights).
- :mod:`.table`: :class:`Embeddings` (row table, float32 matrix, model record) and the rescoring arithmetic.
- :mod:`.parquet`: the Parquet file (also the embedding column of a corpus part).
- :mod:`.label_scores`: the model to rescore with (the one that made them, checked) and the rescoring itself.

This layer sits above the engine and below the corpus: the engine makes the
embeddings (``ScoringPlan.keep_embeddings``), the corpus stores them in its parts.
"""

from .parquet import (METADATA_KEY, PRECISIONS, embedding_array, embedding_metadata, python_values,
                    read_embedding_metadata, read_embeddings, vectors_from_column, write_embeddings, write_parquet)
from .record import check_record, check_same_model, describe_model, model_record
from .label_scores import rescore_embeddings, rescoring_model
from .table import EMBEDDING_COLUMN, Embeddings, check_label_names, embeddings_from_rows, rescore_vectors, scores_table

__all__ = [
    "EMBEDDING_COLUMN", "Embeddings", "METADATA_KEY", "PRECISIONS", "check_record", "check_same_model",
    "describe_model", "embedding_array", "embedding_metadata", "embeddings_from_rows", "model_record", "python_values",
    "read_embedding_metadata", "read_embeddings", "rescore_vectors", "scores_table", "vectors_from_column",
    "write_embeddings", "write_parquet", "check_label_names", "rescore_embeddings", "rescoring_model",
]
