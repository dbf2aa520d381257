"""Asking a scored corpus a new question: ``rescore_corpus`` scores new labels from the embeddings kept in its parts.

A corpus scored with ``keep_embeddings=True`` holds each row's image
embedding in its part. New labels need only their text embeddings and one
matrix product per part, so no video is opened and no face detected: a
corpus that took a night to score answers a new set of labels in seconds.

It runs in this process, never on Ray: each part is read once and multiplied
by a labels x dimensions matrix, so the work is bounded by reading the parts
from disk (bench/bench_rescore.py: a million rows in about 8 s on two
cores). Ray workers would add the cost of shipping every part to them and
back, and save nothing.
"""

from __future__ import annotations

import io
import os
import sys
import threading
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..core.checks import check_classes, check_flag, check_text, resolve_progress
from ..core.errors import ArgumentError, InputNotFoundError
from ..core.messages import arg, function, value, warn
from ..core.parallel import ordered_map
from ..embeddings import (EMBEDDING_COLUMN, METADATA_KEY, check_record, check_same_model, read_embedding_metadata,
                          rescore_vectors, rescoring_model, vectors_from_column)
from ..models import VisionLanguageModel, resolve_templates, select_device
from .reading import column_names, corpus_columns
from .runner import _check_labels_free
from .store import FORMAT, CorpusFolder, part_schema, require_pyarrow
from ..core.options import takes_paths

__all__ = ["rescore_corpus"]

# Rows scored in one matrix product (64 MB of float32 embeddings for 512 dimensions).
_GROUP_ROWS = 32768


@takes_paths
def rescore_corpus(
    output_dir: str,
    classes: Sequence[str],
    templates: Union[None, str, Sequence[str]] = None,
    into: Optional[str] = None,
    *,
    model: Optional[str] = None,
    local_model_path: Optional[str] = None,
    overwrite: bool = False,
    device: Optional[str] = None,
    progress: Optional[bool] = None,
) -> Dict[str, list]:
    """Scores for new labels from a corpus scored with ``keep_embeddings=True``, without reading any video.

    The rows are those of :func:`read_corpus` on the scored folder, in the
    same order, with one column per new label; they equal what
    :func:`score_corpus` with these labels would give (to about 1e-7 with
    float32 embeddings; about 1e-4 with ``embedding_precision="float16"``).

    Args:
        output_dir: the folder :func:`score_corpus` wrote with ``keep_embeddings=True``.
        classes: at least two labels (valence and arousal, definitions,
            anything: they are just other labels).
        templates: as in ``score_corpus``.
        into: ``None``: return the scores only. A folder: also write them
            there as a corpus of their own (``corpus.json``, ``parts/``,
            ``failures.csv``), which :func:`read_corpus` reads; a run that
            stops is resumed by the same call (parts done are skipped).
        model, local_model_path: ``None``: the model the corpus was scored
            with, as recorded. A model named here must be that same model
            (a moved folder is fine: its weights are checked).
        overwrite: with ``into``, delete the rescored results there first
            (needed to put other labels into the same folder).
        device: where the text tower runs.
        progress: a progress bar over parts (default on; ``TRANSFOREMOTION_PROGRESS=0`` off).

    Returns:
        A dict of columns, as :func:`read_corpus` gives them. Units that
        failed or are not scored yet in ``output_dir`` are missing here too,
        with one warning.
    """
    folder, record = _scored_folder(output_dir)
    labels = check_classes(classes)
    templates = resolve_templates(templates)
    _check_labels_free(labels, (EMBEDDING_COLUMN,))
    check_flag("overwrite", overwrite)
    show = resolve_progress(progress)
    target = _target_folder(into, folder.path)
    require_pyarrow()
    arguments = {**record["arguments"], "classes": labels, "templates": None if templates is None else list(templates),
                 "keep_embeddings": False, "embedding_precision": None, "rescored_from": os.path.abspath(folder.path)}
    new_record = {"format": FORMAT, "arguments": arguments, "sources": record["sources"], "units": record["units"]}
    rescorer = _PartRescorer(folder, record, labels, templates, model, local_model_path, device)
    # The model and the device are settled before anything in `into` is touched: a wrong one leaves it as it was.
    rescorer.check_model_first()
    names = column_names(arguments)
    if target is None:
        table = _concat([part for _, part in rescorer.rescored(rescorer.units, show)])
    else:
        with target.lock():
            _prepare_target(target, new_record, overwrite)
            target.write_failures(rescorer.failures)
            todo = [u for u in rescorer.units if not _up_to_date(target, folder, u)]
            for unit, part in rescorer.rescored(todo, show):
                target.write_part(unit, _parquet_bytes(part))
            table = target.read_parts(record["units"], part_schema(names, labels))
    _warn_incomplete(folder, record["units"], rescorer)
    return corpus_columns(table, {**new_record, "persons": record.get("persons")}, names, scored=folder)


def _scored_folder(output_dir):
    check_text("output_dir", output_dir, "the folder given to " + function("score_corpus"))
    output_dir = os.path.expanduser(output_dir)
    if not os.path.isdir(output_dir):
        raise InputNotFoundError(f"Folder not found: {output_dir}. Give the output folder of "
                                 f"{function('score_corpus')}.")
    folder = CorpusFolder(output_dir)
    record = folder.read_record()
    if record is None:
        raise InputNotFoundError(f"{output_dir} holds no scored corpus (no corpus.json). Run "
                                 f"{function('score_corpus')} with {arg('keep_embeddings', True)} first.")
    source = record["arguments"].get("rescored_from")
    if source is not None and not record["arguments"].get("keep_embeddings"):
        raise ArgumentError(f"{output_dir} is a rescored folder ({function('rescore_corpus')} with {arg('into')} "
                            f"wrote it from {source}): it holds scores, not embeddings. Rescore the folder it was "
                            f"rescored from instead: {function('rescore_corpus')} on {source}.")
    if not record["arguments"].get("keep_embeddings"):
        raise ArgumentError(f"{output_dir} was scored without {arg('keep_embeddings', True)}, so it holds no "
                            f"embeddings to rescore. Score it once more with {function('score_corpus')} and "
                            f"{arg('keep_embeddings', True)} (into another folder, or with {arg('overwrite', True)}); "
                            "after that, every new set of labels takes seconds.")
    return folder, record


def _target_folder(into, source: str) -> Optional[CorpusFolder]:
    if into is None:
        return None
    into = os.path.expanduser(check_text("into", into, "a folder path, or None"))
    if os.path.exists(into) and not os.path.isdir(into):
        raise ArgumentError(f"{arg('into')} must be a folder; {into} is a file.")
    if os.path.abspath(into) == os.path.abspath(source) or (os.path.isdir(into) and os.path.samefile(into, source)):
        raise ArgumentError(f"{arg('into')} must be another folder than {arg('output_dir')}: the scored corpus and "
                            "its embeddings stay as they are. Give a new folder.")
    return CorpusFolder(into)


def _prepare_target(target: CorpusFolder, new_record: dict, overwrite: bool) -> None:
    if overwrite:
        target.remove_ours()
    target.remove_leftovers()
    recorded = target.read_record()
    if recorded is not None:
        was, now = recorded.get("arguments", {}), new_record["arguments"]
        changed = [k for k in now if was.get(k) != now[k]]
        if changed:
            details = "; ".join(f"{k} was {value(was.get(k))}, now {value(now[k])}" for k in changed)
            raise ArgumentError(f"{target.path} holds other scores ({details}). Give another folder as "
                                f"{arg('into')}, or use {arg('overwrite', True)} to replace them.")
    target.write_record(new_record)


def _up_to_date(target: CorpusFolder, source: CorpusFolder, unit: str) -> bool:
    """A rescored part is kept if it is newer than the scored one (a unit scored again since is rescored again)."""
    done = target.part_path(unit)
    return os.path.isfile(done) and os.path.getmtime(done) >= os.path.getmtime(source.part_path(unit))


class _PartRescorer:
    """Reads a unit's part, checks its model once per distinct record, and returns the part with the new labels."""

    def __init__(self, folder: CorpusFolder, record: dict, labels: List[str], templates, model, local_model_path,
                 device):
        self.folder = folder
        self.old_labels = set(record["arguments"]["classes"])
        self.labels = labels
        self.templates = templates
        self.model, self.local_model_path, self.device = model, local_model_path, device
        self.vlm: Optional[VisionLanguageModel] = None
        self.checked: Dict[Optional[bytes], dict] = {}
        self.lock = threading.Lock()
        finished = folder.finished_parts()
        self.failures = {u: f for u, f in folder.read_failures().items() if u in set(record["units"])}
        self.units = [u for u in record["units"] if u in finished]
        self.missing = [u for u in record["units"] if u not in finished and u not in self.failures]

    def _read(self, path: str):
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            # ParquetFile without threads: a part is small, and read_table's dataset layer and thread pool
            # cost 3 ms a part, more than the reading itself (a million rows are 4,000 parts).
            return pq.ParquetFile(path).read(use_threads=False)
        except (OSError, pa.ArrowException) as exc:
            raise ArgumentError(f"{path} is damaged ({exc}). Delete it and run {function('score_corpus')} again "
                                "with the same arguments: that unit alone is scored again.") from None

    def _check_model(self, schema, path: str) -> dict:
        """The part's model record, checked against the model in use once per distinct record."""
        key = (schema.metadata or {}).get(METADATA_KEY)
        with self.lock:  # parts are read by two threads; the model is loaded and checked once
            return self.checked[key] if key in self.checked else self._first_check(key, schema, path)

    def _first_check(self, key, schema, path: str) -> dict:
        record = check_record(read_embedding_metadata(schema, path)[0], path)
        what = f"The embeddings in {self.folder.path}"
        if self.vlm is None:  # the first part: load the model it names (or the one the caller names), checked
            self.vlm = rescoring_model(record, self.model, self.local_model_path, self.device, what)
        else:
            check_same_model(record, self.vlm, what)
        self.checked[key] = record
        return record

    def check_model_first(self) -> None:
        """Load and check the model that the first part names, in the caller's thread (device included)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not self.units:
            select_device(self.device)
            return
        path = self.folder.part_path(self.units[0])
        try:
            schema = pq.read_schema(path)
        except (OSError, pa.ArrowException):
            return  # a damaged part is reported, naming it, when it is read
        self._check_model(schema, path)

    def _load(self, unit: str):
        """A unit's part (without its embeddings) and its embeddings."""
        path = self.folder.part_path(unit)
        table = self._read(path)
        if EMBEDDING_COLUMN not in table.column_names:
            raise ArgumentError(f"{path} holds no embeddings, although {self.folder.path} was scored with "
                                f"{arg('keep_embeddings', True)}. Delete that part and run {function('score_corpus')} "
                                "again with the same arguments: that unit alone is scored again.")
        record = self._check_model(table.schema, path)
        vectors = vectors_from_column(table.column(EMBEDDING_COLUMN), record["dim"], path)
        kept = [c for c in table.column_names if c not in self.old_labels and c != EMBEDDING_COLUMN]
        return table.select(kept).replace_schema_metadata(None), vectors

    def rescored(self, units: Sequence[str], show: bool) -> Iterator[Tuple[str, object]]:
        """(unit, part with the new labels) for each unit, in order.

        Parts are scored in groups of about 32,000 rows: one matrix product
        for a hundred parts costs what one costs for a single part.
        """
        from tqdm.auto import tqdm

        # Parts are read two at a time in threads (Parquet decoding releases the GIL, so two readers keep two
        # cores busy on the thousands of small parts of a large corpus), at most eight parts ahead.
        with tqdm(total=len(units), unit="part", desc=function("rescore_corpus"), disable=not show or not units,
                  leave=False, file=sys.stderr) as bar, \
                ordered_map(self._load, units, 2, 8, name="transforemotion-rescore") as parts:
            group: list = []
            for n, (unit, loaded) in enumerate(zip(units, parts), 1):
                group.append((unit, *loaded))
                if sum(len(v) for _, _, v in group) >= _GROUP_ROWS or n == len(units):
                    yield from self._score(group)
                    bar.update(len(group))
                    group = []

    def _score(self, group: list) -> Iterator[Tuple[str, object]]:
        import pyarrow as pa

        scores = rescore_vectors(self.vlm, np.concatenate([v for _, _, v in group]), self.labels, self.templates)
        by_label = np.ascontiguousarray(scores.T)  # each label's scores in one run of memory, for Arrow
        at = 0
        for unit, table, vectors in group:
            new = [pa.array(by_label[j, at : at + len(vectors)]) for j in range(len(self.labels))]
            at += len(vectors)
            yield unit, pa.Table.from_arrays(table.columns + new, names=table.column_names + self.labels)


def _parquet_bytes(table) -> bytes:
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def _concat(tables):
    import pyarrow as pa

    # Parts of videos scored with every face also hold the tracker's own columns; images' parts do not.
    return pa.concat_tables(tables, promote_options="default") if tables else None


def _warn_incomplete(folder: CorpusFolder, units: Sequence[str], rescorer: _PartRescorer) -> None:
    failed = [u for u in units if u in rescorer.failures]
    if not failed and not rescorer.missing:
        return
    problems = []
    if failed:
        problems.append(f"{len(failed)} unit(s) failed there (see {folder.failures_path})")
    if rescorer.missing:
        problems.append(f"{len(rescorer.missing)} unit(s) are not scored yet")
    warn(f"The corpus in {folder.path} is incomplete: {'; '.join(problems)}; their rows are missing from the "
         f"rescored result too. Finish it with {function('score_corpus')} (the same arguments), then call "
         f"{function('rescore_corpus')} again: units rescored into a folder earlier are skipped.")
