"""The door the R package comes in by (through reticulate).

R calls :func:`call_from_r` instead of the public functions directly, so that
messages are spelled for R (``uniform = TRUE``, ``c("joy", "anger")``, ``NULL``)
and warnings come back as a list the R side re-issues as R warnings, rather
than being printed by Python where R users miss them. Nothing here scores
anything; the engine knows nothing about R.

This module is R's only way in: R names a public function
(:func:`public_function`) instead of reading the package's attributes, and
asks here for the few values it shows (:func:`image_pattern`,
:func:`media_extensions`) and for the test model (:func:`build_tiny_clip`).
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import signal
import threading
import warnings
from typing import Any, Dict, Iterator, List, Optional, Tuple

from .core.errors import condition_classes
from .core.messages import caller
from .media import DEFAULT_IMAGE_PATTERN, IMAGE_EXTENSIONS, VIDEO_EXTENSIONS
from .testing import build_tiny_clip  # R's tiny_clip_model()

__all__ = ["call_from_r", "public_function", "signature_of", "embeddings_for_r", "embeddings_from_r",
           "image_pattern", "media_extensions", "build_tiny_clip"]

# Python's own deprecation chatter is for developers, not for a researcher in R.
_HIDDEN = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)


def call_from_r(function, kwargs: Dict[str, Any]) -> Tuple[Any, List[str], Optional[Dict[str, Any]]]:
    """Run ``function(**kwargs)`` with R spellings; return (result, warning messages once each, error).

    An exception comes back as data, not raised: ``{"message", "type", "classes"}``, where ``classes`` are
    the R condition classes of our errors (:func:`~transforemotion.core.errors.condition_classes`), so that R
    can signal a condition a caller can catch by kind, whatever reticulate version carries it. The warnings
    issued before the error come back too.
    """
    error = None
    result = None
    with caller("r"), _python_takes_ctrl_c(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = function(**kwargs)
        except Exception as exc:  # noqa: BLE001 - every exception goes back to R as a condition
            error = {"message": str(exc), "type": type(exc).__name__, "classes": condition_classes(exc)}
        except KeyboardInterrupt as exc:
            # R's interrupt reaches Python as KeyboardInterrupt; a corpus run's says how far it got. As an error
            # R shows that line, where reticulate would turn the interrupt into a bare "interrupted".
            error = {"message": str(exc) or "interrupted", "type": "KeyboardInterrupt",
                     "classes": ["transforemotion_interrupt"]}
    messages = [str(w.message) for w in caught if not issubclass(w.category, _HIDDEN)]
    return result, list(dict.fromkeys(messages)), error


def public_function(name: str):
    """The public function ``transforemotion.<name>`` (one of the package's ``__all__``), for R to pass to
    :func:`call_from_r`; an ``AttributeError`` for any other name."""
    package = importlib.import_module(__package__)
    if name not in package.__all__ or not callable(getattr(package, name, None)):
        raise AttributeError(f"transforemotion has no public function {name!r}")
    return getattr(package, name)


@contextlib.contextmanager
def _python_takes_ctrl_c() -> Iterator[None]:
    """While Python runs a call, Ctrl-C is Python's plain KeyboardInterrupt, caught in call_from_r.

    reticulate's own handler asks R from inside the signal handler whether the interrupt is R's or
    Python's, and under load that race ends in "Unknown exception occurred", a crash of R, or an
    interrupt that loses the corpus's "stopped; N of M units finished" line. The handler that was there
    is put back when the call returns.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is None:  # installed outside Python (by R itself): it could not be put back
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def signature_of(function) -> Dict[str, list]:
    """Argument names, whether each is required, and the defaults, for the R package's drift test."""
    names, required, defaults = [], [], []
    for name, parameter in inspect.signature(function).parameters.items():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue  # R's `...`, which the drift test leaves out on its side too
        default = parameter.default
        names.append(name)
        required.append(default is inspect.Parameter.empty)
        # nframes' default is an int subclass (to tell it from an explicit 100): give R a plain number.
        if isinstance(default, int) and not isinstance(default, bool):
            default = int(default)
        defaults.append(None if default is inspect.Parameter.empty else default)
    return {"name": names, "required": required, "default": defaults}


def embeddings_for_r(embeddings) -> Dict[str, Any]:
    """:class:`~transforemotion.embeddings.Embeddings` as R builds its object from: the rows, the vectors, the
    model record, and the number of rows (the rows may have no columns).

    The vectors go as one flat list in R's column-major order, which R makes a
    double matrix of (exact: every float32 is a double): reticulate 1.28 does
    not convert NumPy 2 arrays, and a list of numbers crosses fast (a million
    values in 0.06 s).
    """
    import numpy as np

    flat = np.asarray(embeddings.vectors, dtype=np.float64).ravel(order="F").tolist()
    return {"rows": embeddings.rows, "vectors": flat, "model": embeddings.model, "n": len(embeddings),
            "dim": embeddings.dim}


def embeddings_from_r(rows: Dict[str, Any], vectors, n: int, model: Dict[str, Any], integer_columns=()):
    """R's embeddings object back to :class:`~transforemotion.embeddings.Embeddings`.

    ``vectors`` is the matrix as a flat column-major vector of ``n`` rows.
    reticulate hands a one-row column over as a scalar, and R's integer
    columns come as doubles (NA as NaN): ``integer_columns`` names those to
    make whole numbers again.
    """
    import math

    import numpy as np

    from .embeddings import Embeddings

    integer_columns = [integer_columns] if isinstance(integer_columns, str) else list(integer_columns or ())
    columns = {}
    for name, column in (rows or {}).items():
        values = list(column) if isinstance(column, (list, tuple, np.ndarray)) else [column]
        if name in integer_columns:
            values = [float("nan") if v is None or math.isnan(v) else int(v) for v in values]
        columns[name] = values
    flat = np.atleast_1d(np.asarray(vectors, dtype=np.float32))
    n = int(n)
    matrix = flat.reshape((n, flat.size // n if n else 0), order="F")
    return Embeddings(columns, matrix, model)


def image_pattern() -> str:
    """The default ``pattern`` of the folder functions (R's ``image_pattern()``)."""
    return DEFAULT_IMAGE_PATTERN


def media_extensions() -> Dict[str, List[str]]:
    """The file-name extensions read from folders, by kind (R's ``media_extensions()``): R asks for them here
    instead of copying them."""
    return {"image": list(IMAGE_EXTENSIONS), "video": list(VIDEO_EXTENSIONS)}
