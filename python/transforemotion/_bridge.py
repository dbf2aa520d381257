"""The door the R package comes in by (through reticulate).

R calls :func:`call_from_r` instead of the public functions directly, so that
messages are spelled for R (``uniform = TRUE``, ``c("joy", "anger")``, ``NULL``)
and warnings come back as a list the R side re-issues as R warnings, rather
than being printed by Python where R users miss them. Nothing here scores
anything; the engine knows nothing about R.
"""

from __future__ import annotations

import contextlib
import inspect
import signal
import threading
import warnings
from typing import Any, Dict, Iterator, List, Optional, Tuple

from .core.errors import condition_classes
from .core.messages import caller

__all__ = ["call_from_r", "signature_of"]

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
