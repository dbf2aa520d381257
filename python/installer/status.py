"""The status file (``--status-file PATH``): how the run ended, for programs that called it.

One ``field: value`` per line, continuation lines indented by one space, an empty line inside
a value written as `` .``: the Debian control format, which R reads with ``read.dcf()`` and
Python with ``email.parser`` (no JSON reader is needed in R). Fields: ``status`` (``ok`` or
``failed``); on failure ``kind``, ``step``, ``message``, ``hint``, ``exit_status``; on success
``python``, ``prefix``, ``backend``, ``flavour``, ``jina``, ``command``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict

__all__ = ["write_status", "format_status"]


def format_status(fields: Dict[str, object]) -> str:
    lines = []
    for key, value in fields.items():
        text = str(value).replace("\r\n", "\n").strip("\n") or " "
        first, *rest = text.split("\n")
        lines.append(f"{key}: {first}")
        lines += [" ." if not line.strip() else " " + line for line in rest]
    return "\n".join(lines) + "\n"


def write_status(path: Path, fields: Dict[str, object]) -> None:
    path.write_text(format_status(fields), encoding="utf-8")
