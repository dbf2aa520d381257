"""The ``TRANSFOREMOTION_*`` environment variables, read here and nowhere else, and what the machine allows.

Each setting is read at call time (a test or a notebook may change it between
calls) and checked like an argument: a value that means nothing is refused
with a message that names the variable, the value and what is allowed, never
ignored. Three parsers serve every setting, one per kind: a whole number
(:func:`whole_number`), a flag (:func:`flag`) and a choice among words
(:func:`choice`); the named readers below (:func:`batch_size`,
:func:`progress`, ...) say which kind each setting is. Other programs'
variables (``HF_*``, ``OPENCV_*``) are not ours and are read where they are used.

An argument given by the caller always wins over its setting; that choice is
made by the argument checks (:mod:`transforemotion.core.checks`), which call
these readers only when the argument is left out.
"""

from __future__ import annotations

import os
from typing import Dict, Optional

from .errors import ArgumentError
from .messages import arg

__all__ = ["PREFIX", "BATCH_SIZE", "FACE_WORKERS", "PROGRESS", "DEVICE", "CPU_BFLOAT16", "ALLOW_LARGE", "DEBUG",
           "DEFAULT_BATCH_SIZE", "MAX_BATCH_SIZE", "MAX_FACE_WORKERS", "whole_number", "flag", "choice", "text",
           "batch_size", "face_workers", "progress", "device", "cpu_bfloat16", "allow_large", "debug", "usable_cores"]

PREFIX = "TRANSFOREMOTION_"
BATCH_SIZE = PREFIX + "BATCH_SIZE"
FACE_WORKERS = PREFIX + "FACE_WORKERS"
PROGRESS = PREFIX + "PROGRESS"
DEVICE = PREFIX + "DEVICE"
CPU_BFLOAT16 = PREFIX + "CPU_BFLOAT16"
ALLOW_LARGE = PREFIX + "ALLOW_LARGE"
DEBUG = PREFIX + "DEBUG"

# Pictures embedded per forward pass. 32 keeps a ViT-L/14 batch well under 1 GB
# of activations and is past the point where larger batches stop helping on CPU.
DEFAULT_BATCH_SIZE = 32
# Far above any useful size; a bound keeps a typo (320000) from exhausting memory.
MAX_BATCH_SIZE = 4096
# A face-finding thread per picture in flight beyond this helps no machine we know of: the model, one
# decoder and the queue between them set the pace long before.
MAX_FACE_WORKERS = 64

_ON = ("1", "true", "yes", "on")
_OFF = ("0", "false", "no", "off")


def text(name: str) -> str:
    """The setting ``name`` as given, without surrounding spaces; "" when unset. The one read of the environment."""
    return os.environ.get(name, "").strip()


def whole_number(name: str, lowest: int, highest: int, what: str, unset: str) -> Optional[int]:
    """A whole number from ``lowest`` to ``highest``, or None when unset.

    ``what`` says what the number counts; ``unset`` what happens without the setting.
    """
    given = text(name)
    if not given:
        return None
    try:
        number = int(given)
    except ValueError:
        number = lowest - 1
    if not lowest <= number <= highest:
        raise ArgumentError(f"The environment variable {name} is {given!r}; it must be a whole number from {lowest} "
                            f"to {highest} ({what}). {unset}")
    return number


def flag(name: str, default: bool, off: str, other: Optional[bool] = None) -> bool:
    """On (1, true, yes, on) or off (0, false, no, off), in any case; ``default`` when unset.

    ``off`` says what 0 does. Any other value is refused, or, where ``other``
    is given, taken as ``other`` (a switch that only its documented value
    turns on, or one read while reporting another error).
    """
    given = text(name).lower()
    if not given:
        return default
    if given in _ON or given in _OFF:
        return given in _ON
    if other is not None:
        return other
    raise ArgumentError(f"The environment variable {name} is {given!r}; set it to 0 ({off}) or 1, or unset it.")


def choice(name: str, choices: Dict[str, str], default: str) -> str:
    """One of the words in ``choices`` (word -> what it does), in any case; ``default`` when unset."""
    given = text(name).lower()
    if not given:
        return default
    if given not in choices:
        described = [f"{word} ({meaning})" for word, meaning in choices.items()]
        listing = ", ".join(described[:-1]) + " or " + described[-1] if len(described) > 1 else described[0]
        raise ArgumentError(f"{name} is {given!r}; give {listing}, or unset it.")
    return given


# -- the settings ------------------------------------------------------------------------------

def batch_size() -> int:
    """``TRANSFOREMOTION_BATCH_SIZE``: pictures per forward pass, else :data:`DEFAULT_BATCH_SIZE`."""
    size = whole_number(BATCH_SIZE, 1, MAX_BATCH_SIZE, "pictures per batch",
                        f"Unset it to use {DEFAULT_BATCH_SIZE}, or pass {arg('batch_size', DEFAULT_BATCH_SIZE)}.")
    return DEFAULT_BATCH_SIZE if size is None else size


def face_workers() -> Optional[int]:
    """``TRANSFOREMOTION_FACE_WORKERS``: threads that find faces, else None (choose automatically)."""
    return whole_number(FACE_WORKERS, 1, MAX_FACE_WORKERS, "threads that find faces", "Unset it to choose automatically.")


def progress() -> bool:
    """``TRANSFOREMOTION_PROGRESS``: ``0`` turns progress bars off; on when unset."""
    return flag(PROGRESS, True, "no progress bars")


def device() -> str:
    """``TRANSFOREMOTION_DEVICE``: a torch device name, "" when unset (checked where the device is chosen)."""
    return text(DEVICE)


def cpu_bfloat16() -> str:
    """``TRANSFOREMOTION_CPU_BFLOAT16``: ``0``, ``1`` or ``auto`` (the default)."""
    return choice(CPU_BFLOAT16, {"0": "float32 on the CPU", "1": "bfloat16",
                                 "auto": "bfloat16 where the CPU has AMX"}, "auto")


def allow_large() -> bool:
    """``TRANSFOREMOTION_ALLOW_LARGE=1``: run a GPU-only model without a GPU. Any value not "on" leaves it off."""
    return flag(ALLOW_LARGE, False, "refuse GPU-only models without a GPU", other=False)


def debug() -> bool:
    """``TRANSFOREMOTION_DEBUG=1``: print the traceback of an internal fault. Read while reporting a fault, so
    it never raises: any value that is not "off" turns it on."""
    return flag(DEBUG, False, "no traceback", other=True)


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity, e.g. a cluster job's share), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS and Windows have no affinity call
        return max(1, os.cpu_count() or 1)
