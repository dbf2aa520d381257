"""The errors transforemotion raises on purpose, so callers and tools can tell them apart.

Every error we raise derives from :class:`TransforemotionError`. A mistake in
what the caller gave us (an argument, a file, a folder) is an
:class:`InputError`; each concrete input error also derives from the builtin
that code written before this hierarchy already catches, so
``except ValueError`` and ``except FileNotFoundError`` keep working:

- ``ArgumentError`` (also a ``ValueError``): an argument, or an input's content, is invalid;
- ``InputNotFoundError`` (a ``FileNotFoundError``): a file or folder the caller named is missing.

Errors that are ours but not the caller's mistake:

- ``MissingPackageError`` (an ``ImportError``): an optional package (an extra) is not installed;
- ``ModelUnavailableError`` (an ``OSError``): a model is neither cached nor downloadable;
- ``FolderInUseError`` (a ``RuntimeError``): another run holds the output folder.

Anything else that escapes (a ``RuntimeError`` from torch, an ``OSError``
from a full disk) is not ours to classify: the command line reports it as
an internal fault or a system error, with its own exit code, never as the
user's mistake. R gets the same distinction through condition classes
(see ``r-bridge/R/python.R``), from :func:`condition_classes`.
"""

from __future__ import annotations

from typing import List

__all__ = [
    "TransforemotionError",
    "InputError",
    "ArgumentError",
    "InputNotFoundError",
    "MissingPackageError",
    "FolderInUseError",
    "ModelUnavailableError",
    "condition_classes",
]


class TransforemotionError(Exception):
    """Base of every error transforemotion raises on purpose."""


class InputError(TransforemotionError):
    """The caller's input is wrong: an argument, a file, a folder. Fix the call and run it again."""


class ArgumentError(InputError, ValueError):
    """An argument, or the content of an input, is not valid; the message names it and what is allowed."""


class InputNotFoundError(InputError, FileNotFoundError):
    """A file or folder the caller named does not exist."""


class MissingPackageError(TransforemotionError, ImportError):
    """An optional package is needed for this call; the message says which extra installs it."""


class FolderInUseError(TransforemotionError, RuntimeError):
    """Another run is writing to the same output folder."""


class ModelUnavailableError(TransforemotionError, OSError):
    """A model could not be found locally nor downloaded; the message says what to do instead."""


def condition_classes(exc: BaseException) -> List[str]:
    """R condition classes for ``exc``, most specific first (without R's own "error", "condition").

    ``ArgumentError`` -> ``["transforemotion_argument_error", "transforemotion_input_error",
    "transforemotion_error"]``; an exception that is not ours -> ``[]``.
    """
    names = []
    for cls in type(exc).__mro__:
        if cls is TransforemotionError or (isinstance(cls, type) and issubclass(cls, TransforemotionError)):
            snake = "".join("_" + c.lower() if c.isupper() else c for c in cls.__name__).lstrip("_")
            names.append("transforemotion_" + snake.replace("transforemotion_", ""))
    return names
