"""Embeddings on disk: one Parquet file, readable by pandas, R's arrow and our own loader.

The file (also the layout of a corpus part kept with ``keep_embeddings``):

- the row columns, as the scoring functions give them: text (``image``,
  ``image_id``, ``source``), whole numbers with nulls (``frame``, ``face``,
  the box, and any other column of whole numbers such as ``person``), and
  floating-point numbers (``time``, ``confidence``);
- ``embedding``: a fixed-size list of float32 or float16 numbers, one per
  dimension; null where nothing was embedded;
- schema metadata ``transforemotion.embeddings``: JSON with ``format``
  (``"transforemotion-embeddings"``), ``version`` (1), ``precision`` and
  ``model`` (the record of :mod:`.record`).

float16 halves the file (1 KB a row for 512 dimensions) and moves the
scores by about 1e-4, at most about 1e-3 (bench/bench_rescore.py measures it).
"""

from __future__ import annotations

import io
import json
import math
import os
from typing import Dict, Tuple

import numpy as np

from ..core.checks import check_choice, check_text
from ..core.errors import ArgumentError, InputNotFoundError, MissingPackageError
from ..core.files import check_output_path, write_bytes_atomically
from ..core.messages import arg, function
from ..engine import INTEGER_COLUMNS
from .record import check_record
from .table import EMBEDDING_COLUMN, Embeddings

__all__ = ["PRECISIONS", "METADATA_KEY", "embedding_array", "embedding_metadata", "read_embedding_metadata",
           "write_parquet",
           "vectors_from_column", "write_embeddings", "read_embeddings", "require_pyarrow"]

PRECISIONS = ("float32", "float16")
METADATA_KEY = b"transforemotion.embeddings"
FORMAT_NAME = "transforemotion-embeddings"
FORMAT_VERSION = 1
_TEXT_COLUMNS = ("image", "image_id", "source", "id")


def require_pyarrow():
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise MissingPackageError("Embedding files are Parquet files, which needs pyarrow: pip install pyarrow "
                                  "(or pip install 'transforemotion[corpus]').") from None


def embedding_array(vectors: np.ndarray, precision: str):
    """The ``embedding`` column: a fixed-size list per row, null where the row has no embedding."""
    import pyarrow as pa

    kind = pa.float16() if precision == "float16" else pa.float32()
    missing = ~np.isfinite(vectors).all(axis=1)
    stored = np.where(missing[:, None], 0, vectors).astype(np.float16 if precision == "float16" else np.float32)
    values = pa.array(stored.reshape(-1), type=kind)
    return pa.FixedSizeListArray.from_arrays(values, vectors.shape[1], mask=pa.array(missing, pa.bool_()))


def vectors_from_column(column, dim: int, where: str) -> np.ndarray:
    """float32 rows from an ``embedding`` column; NaN rows for nulls.

    Chunk by chunk into one float32 array: no joined copy of the column
    (a gigabyte for a million float16 rows). float16 rows are used as they
    are: scaling them back to unit length changes no score by more than 3e-6
    (measured), and costs a pass over them.
    """
    import pyarrow as pa

    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    kind = column.type
    if not pa.types.is_fixed_size_list(kind) or kind.list_size != dim:
        raise ArgumentError(f"{where}: the {EMBEDDING_COLUMN!r} column must hold lists of {dim} numbers; it holds "
                            f"{kind}.")
    vectors = np.empty((len(column), dim), np.float32)
    at = 0
    for chunk in chunks:
        values = chunk.values.slice(chunk.offset * dim, len(chunk) * dim).to_numpy(zero_copy_only=False)
        np.copyto(vectors[at : at + len(chunk)], values.reshape(len(chunk), dim), casting="same_kind")
        if chunk.null_count:
            vectors[at : at + len(chunk)][chunk.is_null().to_numpy(zero_copy_only=False)] = np.nan
        at += len(chunk)
    return vectors


def write_parquet(table, sink) -> None:
    """``table`` as Parquet, the embedding column written plainly.

    Its numbers are all different and do not compress: Parquet's dictionary
    and snappy only cost time there (writing float16 with a dictionary is 6x
    slower, reading 3x), and its statistics mean nothing.
    """
    import pyarrow.parquet as pq

    others = [name for name in table.column_names if name != EMBEDDING_COLUMN]
    pq.write_table(table, sink, use_dictionary=others, write_statistics=others,
                   compression={name: "snappy" for name in others} | {EMBEDDING_COLUMN: "none"})


def embedding_metadata(model: dict, precision: str) -> Dict[bytes, bytes]:
    text = json.dumps({"format": FORMAT_NAME, "version": FORMAT_VERSION, "precision": precision, "model": model})
    return {METADATA_KEY: text.encode("utf-8")}


def read_embedding_metadata(schema, where: str) -> Tuple[dict, str]:
    """(model record as stored, precision) from a table's schema; a clear error when it is not ours."""
    raw = (schema.metadata or {}).get(METADATA_KEY)
    if raw is None:
        raise ArgumentError(f"{where} holds no embeddings written by transforemotion (its Parquet metadata has no "
                            f"{METADATA_KEY.decode()} entry). Give a file written by {function('save_embeddings')}, "
                            f"or a corpus scored with {arg('keep_embeddings', True)}.")
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ArgumentError(f"{where}: its embedding metadata is damaged (not JSON).") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise ArgumentError(f"{where}: its embedding metadata is not in the {FORMAT_NAME} format.")
    if meta.get("version") != FORMAT_VERSION:
        raise ArgumentError(f"{where} was written by another version of transforemotion (format version "
                            f"{meta.get('version')}; this one reads {FORMAT_VERSION}). Update transforemotion, or "
                            "make the embeddings again.")
    return meta.get("model"), meta.get("precision", "float32")


def _column_array(name: str, values: list):
    import pyarrow as pa

    def missing(v) -> bool:
        return v is None or (isinstance(v, float) and math.isnan(v))

    present = [v for v in values if not missing(v)]
    if name in _TEXT_COLUMNS or (present and all(isinstance(v, str) for v in present)):
        return pa.array([None if missing(v) else str(v) for v in values], pa.string())
    whole = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in present)
    if name in INTEGER_COLUMNS or (present and whole):
        return pa.array([None if missing(v) else int(v) for v in values], pa.int64())
    return pa.array([float("nan") if missing(v) else float(v) for v in values], pa.float64())


def _python_column(column) -> list:
    """A Parquet column back as the scoring functions give it: nulls of numbers are NaN."""
    import pyarrow as pa

    values = column.to_pylist()
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return values
    return [float("nan") if v is None else v for v in values]


def table_of(embeddings: Embeddings, precision: str):
    import pyarrow as pa

    arrays = {name: _column_array(name, values) for name, values in embeddings.rows.items()}
    arrays[EMBEDDING_COLUMN] = embedding_array(embeddings.vectors, precision)
    table = pa.table(arrays)
    return table.replace_schema_metadata(embedding_metadata(embeddings.model, precision))


def write_embeddings(embeddings: Embeddings, path: str, precision: str = "float32") -> str:
    """Write ``embeddings`` to ``path`` as Parquet, atomically (complete or absent); returns the path."""
    if not isinstance(embeddings, Embeddings):
        raise ArgumentError(f"{arg('embeddings')} must be the result of {function('embed_images')}, "
                            f"{function('embed_dir')}, {function('embed_video')} or {function('load_embeddings')}.")
    check_choice("precision", precision, PRECISIONS)
    path = check_output_path(os.path.expanduser(check_text("path", path, "a file path")), "path")
    if EMBEDDING_COLUMN in embeddings.rows:
        raise ArgumentError(f"The rows already have a column named {EMBEDDING_COLUMN!r}; rename it before saving.")
    require_pyarrow()
    sink = io.BytesIO()
    write_parquet(table_of(embeddings, precision), sink)
    write_bytes_atomically(path, sink.getvalue())
    return path


def read_embeddings(path: str) -> Embeddings:
    """The :class:`Embeddings` in a file written by :func:`write_embeddings`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = os.path.expanduser(check_text("path", path, "the path of an embeddings file"))
    if not os.path.exists(path):
        raise InputNotFoundError(f"File not found: {path}. Give a file written by {function('save_embeddings')}.")
    if os.path.isdir(path):
        raise ArgumentError(f"{arg('path', path)} is a folder; give an embeddings file (a corpus folder is rescored "
                            f"with {function('rescore_corpus')}).")
    require_pyarrow()
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise ArgumentError(f"{path} cannot be read as Parquet ({exc}); it is damaged, incomplete, or not an "
                            f"embeddings file. Save the embeddings again with {function('save_embeddings')}.") from None
    record, precision = read_embedding_metadata(table.schema, path)
    if EMBEDDING_COLUMN not in table.column_names:
        raise ArgumentError(f"{path} has no {EMBEDDING_COLUMN!r} column, so it holds no embeddings.")
    record = check_record(record, path)
    vectors = vectors_from_column(table.column(EMBEDDING_COLUMN), record["dim"], path)
    rows = {name: _python_column(table.column(name)) for name in table.column_names if name != EMBEDDING_COLUMN}
    return Embeddings(rows, vectors, record)
