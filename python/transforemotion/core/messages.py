"""Messages written for whoever called us: Python code, R code, or a shell.

The same engine serves three kinds of caller, and an error that says
``use uniform=True`` is right in Python, wrong in R (``uniform = TRUE``) and
wrong in a shell (``--uniform``). Messages therefore spell arguments and
values through :func:`arg` and :func:`value`, which read who is calling from a
context variable that the R bridge and the command line set (:func:`caller`).
This is the one place that knows the three spellings.

Warnings go through :func:`warn`, which attributes them to the first line of
the caller's code rather than to a line inside this package, so that
Python's "file:line" points somewhere the user can act on.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import re
import sys
import warnings
from typing import Iterator

from .errors import ArgumentError

__all__ = ["TransforemotionWarning", "InputsFailedWarning", "warn", "caller", "current_caller", "arg", "value", "mapping", "function",
           "first_line", "last_line", "missing_value"]

CALLERS = ("python", "r", "cli")

_CALLER: contextvars.ContextVar = contextvars.ContextVar("transforemotion_caller", default="python")

# Command-line spellings that are not simply "--" + the name with dashes.
_CLI_NAMES = {
    "image": "PATH",
    "dir": "PATH",
    "video": "PATH",
    "inputs": "INPUT",
    "input": "INPUT",
    "classes": "--classes",
}

# What to call a public function in each language (R's corpus function has its own name).
_R_FUNCTIONS = {"score_corpus": "corpus_scores", "vad_corpus": "corpus_vad_scores"}
_CLI_COMMANDS = {
    "image_scores": "transforemotion image",
    "image_scores_dir": "transforemotion image",
    "video_scores": "transforemotion video",
    "vad_scores": "transforemotion vad",
    "vad_corpus": "transforemotion corpus --vad",
    "score_corpus": "transforemotion corpus",
    "read_corpus": "transforemotion corpus",
    "list_vision_models": "transforemotion models",
    "evaluate_dir": "transforemotion evaluate",
    "embed_images": "transforemotion embed image",
    "embed_dir": "transforemotion embed image",
    "embed_video": "transforemotion embed video",
    "save_embeddings": "transforemotion embed",
    "load_embeddings": "transforemotion rescore",
    "rescore": "transforemotion rescore",
    "rescore_corpus": "transforemotion rescore",
}


class TransforemotionWarning(UserWarning):
    """Something was skipped or could not be scored; the result has missing values (NaN, NA in R) for it."""


class InputsFailedWarning(TransforemotionWarning):
    """Some inputs (files, frames, units of a corpus) could not be read; the others were scored.

    Told apart from the other warnings (a face not found, a short clip) so that the command line can exit
    with "results written, but some inputs failed" (status 3).
    """


@contextlib.contextmanager
def caller(kind: str) -> Iterator[None]:
    """Spell messages for ``kind`` ("python", "r" or "cli") inside the ``with`` block."""
    if kind not in CALLERS:
        raise ArgumentError(f"caller must be one of {', '.join(CALLERS)}; got {kind!r}")
    token = _CALLER.set(kind)
    try:
        yield
    finally:
        _CALLER.reset(token)


def current_caller() -> str:
    return _CALLER.get()


def _r_value(v) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float) and math.isnan(v):
        return "NA"
    if isinstance(v, float) and math.isinf(v):
        return "Inf" if v > 0 else "-Inf"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "c(" + ", ".join(_r_value(x) for x in v) + ")"
    return str(v)


def _cli_value(v) -> str:
    if v is None:
        return "(not given)"
    if isinstance(v, (list, tuple)):
        return " ".join(_cli_value(x) for x in v)
    if isinstance(v, str):
        return v if v and not any(c.isspace() or c in "'\"$`\\" for c in v) else "'" + v.replace("'", "'\\''") + "'"
    return str(v)


# A value quoted in a message is cut after this many characters: a wrong argument may be a whole table.
_VALUE_CHARS = 200


def value(v) -> str:
    """``v`` written as the caller would type it: ``['joy']`` / ``c("joy")`` / ``joy``.

    An array or a table is named by its type and shape, not printed, and
    anything else is cut after :data:`_VALUE_CHARS` characters.
    """
    shape = getattr(v, "shape", None)
    if isinstance(shape, tuple) and shape:
        return f"{type(v).__name__} of shape {shape}"
    kind = _CALLER.get()
    text = _r_value(v) if kind == "r" else _cli_value(v) if kind == "cli" else repr(v)
    return text if len(text) <= _VALUE_CHARS else text[: _VALUE_CHARS - 3] + "..."


_R_NAME = re.compile(r"^(?:[A-Za-z]|[.](?![0-9]))[A-Za-z0-9._]*$")
_R_RESERVED = {"if", "else", "repeat", "while", "function", "for", "next", "break", "TRUE", "FALSE", "NULL",
               "Inf", "NaN", "NA", "NA_integer_", "NA_real_", "NA_character_", "in"}


def _r_name(name: str) -> str:
    return name if _R_NAME.match(name) and name not in _R_RESERVED else "`" + name.replace("`", "\\`") + "`"


def mapping(pairs) -> str:
    """A name -> value mapping as the caller writes one: ``{'happy': 'joy'}`` / ``c(happy = "joy")`` /
    ``happy=joy`` (the command line's ``--label-map`` pairs).

    >>> with caller("r"):
    ...     mapping({"happy": "joy", "very sad": "sadness"})
    'c(happy = "joy", `very sad` = "sadness")'
    """
    kind = _CALLER.get()
    if kind == "r":
        return "c(" + ", ".join(f"{_r_name(str(k))} = {_r_value(v)}" for k, v in pairs.items()) + ")"
    if kind == "cli":
        return " ".join(_cli_value(f"{k}={v}") for k, v in pairs.items())
    return repr(dict(pairs))


_UNSET = object()


def arg(name: str, v=_UNSET) -> str:
    """An argument, optionally with a value, as the caller writes it.

    >>> arg("uniform", True)
    'uniform=True'
    >>> with caller("r"):
    ...     arg("uniform", True)
    'uniform = TRUE'
    >>> with caller("cli"):
    ...     arg("face_selection", "none"), arg("uniform", True)
    ('--face-selection none', '--uniform')
    """
    kind = _CALLER.get()
    if kind == "cli":
        flag = _CLI_NAMES.get(name, "--" + name.replace("_", "-"))
        if v is _UNSET:
            return flag
        if isinstance(v, bool):
            return flag if v else f"no {flag}"
        return f"{flag} {_cli_value(v)}" if flag.startswith("-") else _cli_value(v)
    if v is _UNSET:
        return name
    return f"{name} = {_r_value(v)}" if kind == "r" else f"{name}={v!r}"


def function(name: str) -> str:
    """A public function as the caller reaches it: ``video_scores()`` or ``transforemotion video``."""
    kind = _CALLER.get()
    if kind == "cli":
        return _CLI_COMMANDS.get(name, f"{name}()")
    if kind == "r":
        return _R_FUNCTIONS.get(name, name) + "()"
    return f"{name}()"


def missing_value() -> str:
    """How the caller's language writes a missing value: ``NA`` in R, ``NaN`` in Python and tables."""
    return "NA" if _CALLER.get() == "r" else "NaN"


def _stacklevel() -> int:
    """How many frames up the first one outside this package is, counted from warn()'s caller."""
    frame = sys._getframe(2)  # the function that called warn()
    level = 2
    while frame is not None and str(frame.f_globals.get("__name__", "")).split(".")[0] == "transforemotion":
        frame = frame.f_back
        level += 1
    return level


def say(message: str) -> None:
    """A line on standard error that says what a long call is doing ("loading model oai-base…"), for
    callers who asked for progress; in R it shows as a message."""
    print(message, file=sys.stderr, flush=True)


def warn(message: str, category: type = TransforemotionWarning) -> None:
    """Issue a warning attributed to the caller's own line, not to ours."""
    warnings.warn(message, category, stacklevel=_stacklevel())


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its class name if it has none): the summary most libraries
    put first."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def last_line(exc: BaseException) -> str:
    """The last line of an exception's message: where a remote traceback (Ray's) puts the actual error."""
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__
