"""Argument checks, done once, before any work starts.

Every public function validates its arguments here, so that a mistake is
reported at once, names the argument and the value given (in the caller's own
spelling, see :mod:`transforemotion.core.messages`), and says what is allowed —
never as an OverflowError or a shape error from deep inside a library after a
model has loaded. Options that may also come from the environment
(``TRANSFOREMOTION_BATCH_SIZE``, ``TRANSFOREMOTION_PROGRESS``, ...) are resolved
here: the argument when given, else the setting, which
:mod:`transforemotion.core.settings` reads and checks.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Mapping
from typing import List, Optional, Sequence

from . import settings
from .errors import ArgumentError
from .messages import arg, current_caller, value
# Defined with the settings, kept importable from here.
from .settings import DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE, MAX_FACE_WORKERS, usable_cores

__all__ = [
    "check_classes",
    "is_sequence",
    "path_text",
    "check_choice",
    "check_flag",
    "check_count",
    "check_seconds",
    "check_text",
    "check_number",
    "is_number",
    "is_missing",
    "MISSING_TEXTS",
    "resolve_batch_size",
    "resolve_progress",
    "resolve_face_workers",
    "usable_cores",
    "DEFAULT_BATCH_SIZE",
    "MAX_BATCH_SIZE",
]


def is_sequence(given) -> bool:
    """A list, a tuple, or anything else with a length that gives its items one by one (a pandas Series,
    a NumPy array), but not a text or a mapping."""
    return (not isinstance(given, (str, bytes, Mapping)) and hasattr(given, "__len__")
            and hasattr(given, "__iter__") and getattr(given, "ndim", 1) == 1)


def path_text(given):
    """A path as text: an ``os.PathLike`` (``pathlib.Path``) becomes its ``str``, in a list or tuple
    each item; anything else is returned as it is, for the checks to judge."""
    if isinstance(given, os.PathLike):
        return os.fspath(given)
    if isinstance(given, (list, tuple)) and any(isinstance(item, os.PathLike) for item in given):
        return type(given)(os.fspath(item) if isinstance(item, os.PathLike) else item for item in given)
    return given


def check_classes(classes) -> List[str]:
    """At least two distinct, non-empty text labels, as a list (from any sequence: a list, a tuple, a
    pandas Series)."""
    example = value(["joy", "anger"])
    if not is_sequence(classes):
        raise ArgumentError(f"{arg('classes')} must be a list of at least two labels, for example {example}; "
                         f"got {value(classes)}.{_separate_labels_hint(classes)}")
    labels = [str(label) if isinstance(label, str) else label for label in classes]  # NumPy's str_ as str
    if len(labels) < 2:
        raise ArgumentError(f"{arg('classes')} needs at least two labels to compare (the scores of one label would "
                         f"always be 1), for example {example}; got {value(labels)}."
                         f"{_separate_labels_hint(labels[0] if labels else None)}")
    for label in labels:
        if label is None or (isinstance(label, float) and math.isnan(label)):
            raise ArgumentError(f"{arg('classes')} has a missing value; every class must be a text label. "
                             f"Got {value(labels)}.")
        if not isinstance(label, str) or not label.strip():
            raise ArgumentError(f"Every class must be a non-empty text label; got {value(label)} in {value(labels)}.")
    seen: set = set()
    repeated = [label for label in labels if label in seen or seen.add(label)]
    if repeated:
        raise ArgumentError(f"Class labels must be unique (each becomes a column); repeated: "
                         f"{', '.join(value(r) for r in dict.fromkeys(repeated))}.")
    return labels


def _separate_labels_hint(given) -> str:
    """For "joy,anger,surprise" given as one label: how to give the labels one by one."""
    if not isinstance(given, str) or not any(mark in given for mark in ",;"):
        return ""
    parts = [p.strip() for p in given.replace(";", ",").split(",") if p.strip()]
    if len(parts) < 2:
        return ""
    how = "separated by spaces" if current_caller() == "cli" else "as separate values"
    return f" Give the labels {how}, not as one text with commas: {arg('classes', parts)}."


def check_choice(name: str, given, choices: Sequence[str]) -> str:
    if not isinstance(given, str) or given not in choices:
        raise ArgumentError(f"{arg(name)} must be one of {', '.join(value(c) for c in choices)}; got {value(given)}.")
    return given


def check_flag(name: str, given) -> bool:
    if not isinstance(given, bool):
        raise ArgumentError(f"{arg(name)} must be {value(True)} or {value(False)}; got {value(given)}.")
    return given


def check_text(name: str, given, what: str = "a non-empty text") -> str:
    if not isinstance(given, str) or not given.strip():
        raise ArgumentError(f"{arg(name)} must be {what}; got {value(given)}.")
    return given


def is_number(given) -> bool:
    """A real number, not a bool (R's TRUE arrives as a bool, and is no count)."""
    return isinstance(given, numbers.Real) and not isinstance(given, bool)


# Table cells that mean "no value" when a manifest or score table is read as text.
MISSING_TEXTS = ("", "na", "nan", "null", "none")


def is_missing(given, text: bool = False) -> bool:
    """None, NaN, pandas' NA/NaT; with ``text``, also the words in :data:`MISSING_TEXTS` (a CSV cell)."""
    if given is None:
        return True
    if is_number(given):
        return math.isnan(given)
    if text and isinstance(given, str):
        return given.strip().lower() in MISSING_TEXTS
    # pandas.NA and NaT, without importing pandas.
    return type(given).__name__ in ("NAType", "NaTType")


def check_number(name: str, given, minimum: float, allow_none: bool = False) -> Optional[float]:
    """A finite number of at least ``minimum`` (or None, where that means "choose automatically")."""
    if given is None and allow_none:
        return None
    if not (is_number(given) and math.isfinite(given) and given >= minimum):
        none = f", or {value(None)} to choose automatically" if allow_none else ""
        raise ArgumentError(f"{arg(name)} must be a number of at least {minimum:g}{none}; got {value(given)}.")
    return float(given)


def check_count(name: str, given, minimum: int = 1, maximum: Optional[int] = None) -> int:
    """A whole number in [minimum, maximum]; 3.0 is accepted as 3 (R sends doubles)."""
    ok = is_number(given) and math.isfinite(given) and float(given) == int(given)
    if ok:
        count = int(given)
        ok = count >= minimum and (maximum is None or count <= maximum)
    if not ok:
        limits = f"at least {minimum}" + (f" and at most {maximum:,}" if maximum is not None else "")
        raise ArgumentError(f"{arg(name)} must be a whole number, {limits}; got {value(given)}.")
    return count


def check_seconds(name: str, given, allow_end_marker: bool = False) -> float:
    """A finite number of seconds, 0 or more (or -1, "the end", where allowed)."""
    if not is_number(given) or not math.isfinite(given):
        raise ArgumentError(f"{arg(name)} must be a finite number of seconds; got {value(given)}.")
    seconds = float(given)
    if seconds < 0 and not (allow_end_marker and seconds == -1):
        end = f" (or {value(-1)} for the end of the video)" if allow_end_marker else ""
        raise ArgumentError(f"{arg(name)} must be 0 or more seconds{end}; got {value(given)}.")
    return seconds


def resolve_batch_size(batch_size=None) -> int:
    """``batch_size``, else ``TRANSFOREMOTION_BATCH_SIZE``, else 32; checked either way."""
    if batch_size is not None:
        return check_count("batch_size", batch_size, 1, MAX_BATCH_SIZE)
    return settings.batch_size()


def resolve_face_workers(face_workers=None, device_type: str = "cpu", face_selection: str = "largest") -> int:
    """How many threads find faces: ``face_workers``, else ``TRANSFOREMOTION_FACE_WORKERS``, else automatic.

    Automatic: one where no face is looked for (``face_selection="none"``);
    beside a GPU every core but one, since the GPU leaves the CPU to the face
    search; on a CPU a quarter of the cores (at least one), the rest stay
    with the model, whose threads the stream lowers to match (two cores: one
    thread finds faces, as before this option existed).
    """
    if face_workers is not None:
        return check_count("face_workers", face_workers, 1, MAX_FACE_WORKERS)
    count = settings.face_workers()
    if count is not None:
        return count
    if face_selection == "none":
        return 1
    cores = usable_cores()
    return max(1, cores - 1) if device_type != "cpu" else max(1, cores // 4)


def resolve_progress(progress=None) -> bool:
    """``progress``, else ``TRANSFOREMOTION_PROGRESS`` (``0`` turns bars off), else on."""
    if progress is not None:
        return check_flag("progress", progress)
    return settings.progress()
