"""The output folder of a corpus: the record of its arguments, one Parquet part per finished unit,
the failures file, and a lock.

Layout (nothing else in the folder is ever touched)::

    output_dir/corpus.json         arguments, sources and units of the last call (JSON)
    output_dir/failures.csv        units that failed, with the reason (absent when none failed)
    output_dir/parts/<unit>.parquet  one per finished unit
    output_dir/.corpus.lock        held while a call writes to the folder

Every file is written under a temporary name in its own folder and renamed
into place (``os.replace``), so a killed run leaves either the whole file or
none of it. A unit is finished when its part exists and it is not listed in
the failures file; a rerun scores every other unit again.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import re
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import filelock

from ..core.errors import ArgumentError, FolderInUseError, MissingPackageError
from ..core.files import write_bytes_atomically
from ..core.messages import arg, function
from ..embeddings import EMBEDDING_COLUMN, embedding_array, embedding_metadata, write_parquet
from ..engine import INTEGER_COLUMNS

__all__ = ["CorpusFolder", "require_pyarrow", "part_schema", "table_bytes", "RECORD_NAME", "FAILURES_NAME", "PARTS_NAME", "FORMAT"]

RECORD_NAME = "corpus.json"
FAILURES_NAME = "failures.csv"
PARTS_NAME = "parts"
LOCK_NAME = ".corpus.lock"
FORMAT = 1
FAILURE_COLUMNS = ("unit", "source", "reason")
# Our own file names: unit ids are "v-<16 hex>-<segment or 'plan'>" and "i-<16 hex>".
_PART = re.compile(r"^[vi]-[0-9a-f]{16}(-(\d{5}|plan))?\.parquet$")
# Temporary names of write_bytes_atomically(recognisable=True): "." + the final name + "." + random + ".tmp".
_TEMPORARY_PART = re.compile(r"^\.[vi]-[0-9a-f]{16}(-(\d{5}|plan))?\.parquet\.[^/]*\.tmp$")
_TEMPORARY_TOP = re.compile(r"^\.(corpus\.json|failures\.csv)\.[^/]*\.tmp$")



def require_pyarrow():
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise MissingPackageError(
            f"{function('score_corpus')} writes Parquet files, which needs pyarrow. Install the corpus extra: "
            "pip install 'transforemotion[corpus]' (or 'transforemotion[ray]' to run on a Ray cluster)."
        ) from None


def _column_type(name: str, labels: Sequence[str]):
    """The Arrow type of a part's column: decided by its name, so every part of a corpus has the same schema."""
    import pyarrow as pa

    if name in labels:
        return pa.float64()
    if name in INTEGER_COLUMNS:
        return pa.int64()
    if name in ("source", "id"):
        return pa.string()
    return pa.float64()


def part_schema(names: Sequence[str], labels: Sequence[str]):
    """The schema every part of a corpus with these result columns has."""
    import pyarrow as pa

    return pa.schema([(name, _column_type(name, labels)) for name in names])


def table_bytes(columns: Dict[str, list], labels: Sequence[str], extra: Optional[dict] = None,
                embedding: Optional[tuple] = None) -> bytes:
    """A part: the result columns of one unit as Parquet bytes, with fixed types.

    ``extra`` adds columns that are ready as Arrow arrays (the person tracker's, see :mod:`.tracked_parts`);
    ``embedding``: (vectors, model record, precision) to keep each row's image embedding in the part,
    in the layout of :mod:`transforemotion.embeddings.parquet`.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = {}
    for name, values in columns.items():
        kind = _column_type(name, labels)
        if name in INTEGER_COLUMNS and name not in labels:
            values = [None if isinstance(v, float) and math.isnan(v) else v for v in values]
        arrays[name] = pa.array(values, type=kind)
    arrays.update(extra or {})
    table = pa.table(arrays)
    sink = io.BytesIO()
    if embedding is None:
        pq.write_table(table, sink)
        return sink.getvalue()
    vectors, record, precision = embedding
    table = table.append_column(EMBEDDING_COLUMN, embedding_array(vectors, precision))
    write_parquet(table.replace_schema_metadata(embedding_metadata(record, precision)), sink)
    return sink.getvalue()


class CorpusFolder:
    """One output folder: read and write its record, parts and failures."""

    def __init__(self, path: str):
        self.path = path
        self.parts = os.path.join(path, PARTS_NAME)
        self.record_path = os.path.join(path, RECORD_NAME)
        self.failures_path = os.path.join(path, FAILURES_NAME)

    # -- the record ---------------------------------------------------------------------------
    def read_record(self) -> Optional[dict]:
        if not os.path.isfile(self.record_path):
            return None
        try:
            with open(self.record_path, encoding="utf-8") as fh:
                record = json.load(fh)
        except (OSError, ValueError) as exc:
            raise ArgumentError(f"{self.record_path} cannot be read ({exc}). If that folder holds nothing you need, "
                             f"use {arg('overwrite', True)} to start over.") from None
        if not isinstance(record, dict) or record.get("format") != FORMAT:
            raise ArgumentError(f"{self.record_path} was not written by this version of transforemotion. Use another "
                             f"output folder, or {arg('overwrite', True)} to start over.")
        return record

    def write_record(self, record: dict) -> None:
        os.makedirs(self.path, exist_ok=True)
        write_bytes_atomically(self.record_path, json.dumps(record, ensure_ascii=False, indent=1).encode("utf-8"), recognisable=True)

    # -- parts --------------------------------------------------------------------------------
    def part_path(self, unit_id: str) -> str:
        return os.path.join(self.parts, unit_id + ".parquet")

    def finished_parts(self) -> set:
        if not os.path.isdir(self.parts):
            return set()
        return {name[: -len(".parquet")] for name in os.listdir(self.parts) if _PART.match(name)}

    def write_part(self, unit_id: str, data: bytes) -> None:
        os.makedirs(self.parts, exist_ok=True)
        write_bytes_atomically(self.part_path(unit_id), data, recognisable=True)

    def remove_leftovers(self) -> None:
        """Temporary files of a run that was killed while writing."""
        for folder, pattern in ((self.path, _TEMPORARY_TOP), (self.parts, _TEMPORARY_PART)):
            if os.path.isdir(folder):
                for name in os.listdir(folder):
                    if pattern.match(name):
                        with contextlib.suppress(OSError):
                            os.remove(os.path.join(folder, name))

    # -- failures -----------------------------------------------------------------------------
    def read_failures(self) -> Dict[str, List[Tuple[str, str]]]:
        """unit id -> [(source, reason)]."""
        failures: Dict[str, List[Tuple[str, str]]] = {}
        if not os.path.isfile(self.failures_path):
            return failures
        with open(self.failures_path, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                failures.setdefault(row.get("unit", ""), []).append((row.get("source", ""), row.get("reason", "")))
        return failures

    def write_failures(self, failures: Dict[str, List[Tuple[str, str]]]) -> None:
        if not failures:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.failures_path)
            return
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(FAILURE_COLUMNS)
        for unit, rows in failures.items():
            for source, reason in rows:
                writer.writerow((unit, source, reason))
        write_bytes_atomically(self.failures_path, out.getvalue().encode("utf-8"), recognisable=True)

    # -- starting over ------------------------------------------------------------------------
    def remove_ours(self) -> int:
        """Delete our own files (record, failures, parts, temporary files); never anything else."""
        removed = 0
        for path in (self.record_path, self.failures_path):
            if os.path.isfile(path):
                os.remove(path)
                removed += 1
        if os.path.isdir(self.parts):
            for name in os.listdir(self.parts):
                if _PART.match(name) or _TEMPORARY_PART.match(name):
                    os.remove(os.path.join(self.parts, name))
                    removed += 1
            with contextlib.suppress(OSError):
                os.rmdir(self.parts)  # only when empty: files of others stay, and so does the folder
        self.remove_leftovers()
        return removed

    # -- one writer at a time -----------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Held while a call writes here; a second call on the same folder is refused at once, not interleaved.

        ``filelock`` takes the operating system's lock on every platform (``flock`` on Linux and
        macOS, ``msvcrt.locking`` on Windows), which is dropped when the process ends, however it
        ends, so a killed run never leaves the folder locked.
        """
        os.makedirs(self.path, exist_ok=True)
        held = filelock.FileLock(os.path.join(self.path, LOCK_NAME), timeout=0)  # 0: try once, never wait
        try:
            held.acquire()
        except filelock.Timeout:
            raise FolderInUseError(f"Another {function('score_corpus')} call is writing to {self.path} right now. "
                                   "Wait for it to finish, or give this one another output folder.") from None
        try:
            yield
        finally:
            held.release()

    # -- reading ------------------------------------------------------------------------------
    def read_parts(self, unit_ids: Sequence[str], schema=None):
        """The parts of these units that exist, as one Arrow table (None when there is none).

        With ``schema`` (:func:`part_schema`), only its columns are read (the person tracker's
        appearance vectors stay on disk), and a part whose columns or types differ (one copied from
        another run, with other classes) is refused by name, before the tables are joined.
        """
        require_pyarrow()
        import pyarrow as pa
        import pyarrow.parquet as pq

        tables = []
        for unit in unit_ids:
            path = self.part_path(unit)
            if not os.path.isfile(path):
                continue
            try:
                found = pq.read_schema(path)
                table = None
                if schema is None or _same_columns(_result_columns(found), schema):
                    table = pq.read_table(path, columns=None if schema is None else schema.names)
            except (OSError, pa.ArrowException) as exc:
                raise ArgumentError(f"{path} is damaged ({exc}). Delete it and run {function('score_corpus')} again "
                                 "with the same arguments: that unit alone is scored again.") from None
            if table is None:
                raise ArgumentError(
                    f"{path} does not belong to this corpus: its columns are {_describe(_result_columns(found))}, "
                    f"but this corpus's are {_describe(schema)} (was it copied from another run?). Delete it and run "
                    f"{function('score_corpus')} again with the same arguments: that unit alone is scored again.")
            tables.append(table)
        if not tables:
            return None
        return pa.concat_tables(tables)


def _result_columns(schema):
    """A part's result columns: all but the person tracker's own ("_"-prefixed, see .tracked_parts) and a kept
    embedding (keep_embeddings)."""
    import pyarrow as pa

    from ..embeddings import EMBEDDING_COLUMN

    return pa.schema([field for field in schema if not field.name.startswith("_") and field.name != EMBEDDING_COLUMN])


def _same_columns(found, wanted) -> bool:
    return found.names == wanted.names and all(a.type == b.type for a, b in zip(found, wanted))


def _describe(schema) -> str:
    return ", ".join(f"{field.name} ({field.type})" for field in schema)
