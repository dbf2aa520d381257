"""Result tables written as CSV or JSON, to standard output or atomically to a file (the command line's output).

Missing values are ``NA`` in CSV (as R writes them) and ``null`` in JSON.
"""

from __future__ import annotations

import csv
import json
import sys
from typing import Dict, Optional

from .checks import is_missing
from .errors import ArgumentError
from .files import atomic_write

__all__ = ["write_table", "write_output", "write_evaluation"]


def _number(v) -> str:
    return "NA" if is_missing(v) else (f"{v:.3f}" if isinstance(v, float) else str(v))


def write_evaluation(evaluation: dict, fmt: str, stream) -> None:
    """The overall measures, the per-class table and the confusion matrix, as text or JSON."""
    if fmt == "json":
        def clean(v):
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            if isinstance(v, list):
                return [clean(x) for x in v]
            return None if is_missing(v) else v

        json.dump(clean(evaluation), stream, ensure_ascii=False, indent=1)
        stream.write("\n")
        return
    overall = [("images scored and labelled", evaluation["n_used"]), ("left out", evaluation["n_excluded"])]
    overall += [(name.replace("_", " "), evaluation[name]) for name in (
        "accuracy", "balanced_accuracy", "macro_f1", "weighted_f1", "macro_auroc", "log_loss", "brier", "ece",
        "krippendorff_alpha")]
    width = max(len(name) for name, _ in overall)
    for name, v in overall:
        stream.write(f"{name:<{width}}  {_number(v)}\n")
    stream.write("\nper class\n")
    write_table(evaluation["per_class"], "csv", stream)
    stream.write("\nconfusion matrix (rows: truth, columns: predicted)\n")
    write_table(evaluation["confusion"], "csv", stream)
    for note in evaluation.get("notes", []):
        stream.write(f"note: {note}\n")


def write_table(table: Dict[str, list], fmt: str, stream) -> None:
    if fmt == "json":
        clean = {k: [None if is_missing(v) else v for v in col] for k, col in table.items()}
        json.dump(clean, stream, ensure_ascii=False, indent=1)
        stream.write("\n")
        return
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(list(table))
    for row in zip(*table.values()):
        writer.writerow(["NA" if is_missing(v) else v for v in row])


def write_output(table, fmt: str, path: Optional[str], writer=None) -> None:
    """To standard output, or atomically to a file: an interrupted run never leaves half a table."""
    writer = writer or write_table
    if path is None:
        writer(table, fmt, sys.stdout)
        return
    try:
        with atomic_write(path, "w", encoding="utf-8", newline="") as fh:
            writer(table, fmt, fh)
    except OSError as exc:
        raise ArgumentError(f"Could not write {path}: {exc.strerror or exc}.") from None
