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
scores by about 1e-5, at most about 1e-3 (bench/bench_rescore.py measures it).
Files are written in row groups of ROW_GROUP_ROWS rows, read by one thread each.
"""

from __future__ import annotations

import io
import json
import math
import os
from typing import Dict, Tuple

import numpy as np

from ..core.checks import check_choice, check_text, usable_cores
from ..core.errors import ArgumentError, InputNotFoundError, MissingPackageError
from ..core.files import check_output_path, write_bytes_atomically
from ..core.messages import arg, function
from ..core.parallel import ordered_map
from ..engine import INTEGER_COLUMNS
from .record import check_record
from .table import EMBEDDING_COLUMN, Embeddings

__all__ = ["PRECISIONS", "METADATA_KEY", "embedding_array", "embedding_metadata", "read_embedding_metadata",
           "write_parquet", "ROW_GROUP_ROWS",
           "vectors_from_column", "fill_vectors", "read_vectors", "python_values", "write_embeddings", "read_embeddings", "require_pyarrow"]

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
    stored = np.where(missing[:, None], np.float32(0), vectors).astype(np.float32, copy=False)  # a new array
    if precision == "float16":
        import torch

        # torch rounds to float16 as NumPy does (to nearest, ties to even), ten times faster on a million rows.
        stored = torch.from_numpy(stored).half().numpy()
    values = pa.array(stored.reshape(-1), type=kind)
    return pa.FixedSizeListArray.from_arrays(values, vectors.shape[1], mask=pa.array(missing, pa.bool_()))


def vectors_from_column(column, dim: int, where: str) -> np.ndarray:
    """float32 rows from an ``embedding`` column; NaN rows for nulls."""
    vectors = np.empty((len(column), dim), np.float32)
    fill_vectors(vectors, column, dim, where)
    return vectors


def fill_vectors(out: np.ndarray, column, dim: int, where: str) -> None:
    """Write an ``embedding`` column's rows into ``out`` (float32, one row per row of the column); NaN rows for nulls.

    Chunk by chunk, straight from Arrow's buffer into ``out``: no joined
    copy of the column (a gigabyte for a million float16 rows) and no
    float16 copy on the way. float16 rows are used as they are: scaling them back
    to unit length changes no score by more than 3e-6 (measured), and costs
    a pass over them.
    """
    import pyarrow as pa

    kind = column.type
    if not pa.types.is_fixed_size_list(kind) or kind.list_size != dim or not pa.types.is_floating(kind.value_type):
        raise ArgumentError(f"{where}: the {EMBEDDING_COLUMN!r} column must hold lists of {dim} numbers; it holds "
                            f"{kind}.")
    at = 0
    for chunk in column.chunks if isinstance(column, pa.ChunkedArray) else [column]:
        rows = out[at : at + len(chunk)]
        _copy_numbers(rows, chunk.values.slice(chunk.offset * dim, len(chunk) * dim))
        if chunk.null_count:
            rows[chunk.is_null().to_numpy(zero_copy_only=False)] = np.nan
        at += len(chunk)


_NUMPY_TYPES = {"halffloat": np.float16, "float": np.float32, "double": np.float64}


def _copy_numbers(rows: np.ndarray, values) -> None:
    """A chunk's numbers (an Arrow array of floats) into ``rows`` (float32), read from Arrow's own buffer."""
    if not len(values):
        return
    if values.null_count:
        np.copyto(rows, values.to_numpy(zero_copy_only=False).reshape(rows.shape), casting="same_kind")
        return
    buffer = values.buffers()[1]
    if str(values.type) == "halffloat" and buffer.is_mutable:
        import torch

        # torch turns float16 into float32 with the CPU's vector instructions, NumPy one number at a time:
        # 0.2 s against 1.5 s for a million rows of 512.
        half = torch.frombuffer(buffer, dtype=torch.float16, count=len(values), offset=2 * values.offset)
        torch.from_numpy(rows).view(-1).copy_(half)
        return
    numbers = np.frombuffer(buffer, _NUMPY_TYPES[str(values.type)], values.offset + len(values))[values.offset :]
    np.copyto(rows, numbers.reshape(rows.shape), casting="same_kind")


def read_vectors(handle, meta, dim: int, where: str) -> np.ndarray:
    """The ``embedding`` column of a Parquet file, open as ``handle`` (a pyarrow file, which reads at
    a position from any thread) with its footer ``meta`` already read, as float32 rows, its row groups
    read side by side (``where``: the file's name, for messages).

    One thread decodes one row group at a time, and a fixed-size list column
    decodes slowly (5 s for a million float16 rows on one core), so files are
    written in row groups of :data:`ROW_GROUP_ROWS` and read here by as many
    threads as there are cores (Parquet decoding releases the GIL). Every
    thread reads through the one ``handle`` (a ``ParquetFile`` of its own over
    it and ``meta``), so a file replaced meanwhile cannot mix into the rows.
    """
    import pyarrow.parquet as pq

    starts = np.cumsum([0] + [meta.row_group(i).num_rows for i in range(meta.num_row_groups)])
    vectors = np.empty((int(starts[-1]), dim), np.float32)

    def read(group: int) -> None:
        part = pq.ParquetFile(handle, metadata=meta).read_row_group(group, columns=[EMBEDDING_COLUMN], use_threads=False)
        fill_vectors(vectors[starts[group] : starts[group + 1]], part.column(EMBEDDING_COLUMN), dim, where)

    workers = min(meta.num_row_groups, usable_cores(), 8)
    # With one core (or one row group) no thread: the groups are read here.
    with ordered_map(read, range(meta.num_row_groups), workers if workers > 1 else 0, max(1, 2 * workers),
                     name="transforemotion-read") as groups:
        for _ in groups:
            pass
    return vectors


# Rows in one Parquet row group of the files we write: a million-row file is then read by every core.
ROW_GROUP_ROWS = 65536


def write_parquet(table, sink) -> None:
    """``table`` as Parquet, the embedding column written plainly.

    Its numbers are all different and do not compress: Parquet's dictionary
    and snappy only cost time there (writing float16 with a dictionary is 6x
    slower, reading 3x), and its statistics mean nothing.
    """
    import pyarrow.parquet as pq

    others = [name for name in table.column_names if name != EMBEDDING_COLUMN]
    pq.write_table(table, sink, use_dictionary=others, write_statistics=others, row_group_size=ROW_GROUP_ROWS,
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


def python_values(column) -> list:
    """An Arrow column as the scoring functions give a column: Python values, nulls of numbers as NaN.

    Numbers without nulls go through NumPy, ten times faster than Arrow's
    own conversion to Python objects on the million rows of a corpus.
    """
    import pyarrow as pa

    kind = column.type
    if pa.types.is_floating(kind) or (pa.types.is_integer(kind) and not column.null_count):
        return column.to_numpy().tolist()  # a float column's nulls come out as NaN
    values = column.to_pylist()
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
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
        # The file is opened once and everything is read through that handle: a file replaced meanwhile
        # (save_embeddings writes a new file and renames it over the old) cannot give one file's rows
        # with the other's vectors.
        with pa.OSFile(path, "rb") as handle:
            parquet = pq.ParquetFile(handle)
            # The metadata first: a foreign file is named before its numbers are read.
            schema = parquet.schema_arrow
            record, precision = read_embedding_metadata(schema, path)
            if EMBEDDING_COLUMN not in schema.names:
                raise ArgumentError(f"{path} has no {EMBEDDING_COLUMN!r} column, so it holds no embeddings.")
            record = check_record(record, path)
            vectors = read_vectors(handle, parquet.metadata, record["dim"], path)
            table = parquet.read(columns=[name for name in schema.names if name != EMBEDDING_COLUMN])
    except (OSError, pa.ArrowException) as exc:
        raise ArgumentError(f"{path} cannot be read as Parquet ({exc}); it is damaged, incomplete, or not an "
                            f"embeddings file. Save the embeddings again with {function('save_embeddings')}.") from None
    rows = {name: python_values(table.column(name)) for name in table.column_names}
    return Embeddings(rows, vectors, record)
