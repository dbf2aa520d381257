"""The one error the installer raises, its exit statuses, and how a failed command is read."""

from __future__ import annotations

from typing import Tuple

__all__ = ["InstallError", "EXIT", "classify_output"]

# Exit status for each kind of failure. Callers (the R package) read the kind from the status
# file (see status.py) rather than from this table; the numbers stay stable for shell scripts.
EXIT = {"usage": 2, "conflict": 3, "network": 4, "disk": 5, "platform": 6, "python": 7,
        "command": 8, "check": 9}


class InstallError(Exception):
    """A failed step, said so that a researcher knows what to do next.

    ``kind`` is one of the keys of :data:`EXIT`: usage, conflict, network, disk, platform,
    python, command, check.
    """

    def __init__(self, step: str, kind: str, message: str, hint: str = ""):
        super().__init__(message)
        self.step, self.kind, self.message, self.hint = step, kind, message, hint

    def __str__(self) -> str:
        text = f"step '{self.step}' failed ({self.kind}): {self.message}"
        return text + (f"\n  what to do: {self.hint}" if self.hint else "")

    @property
    def exit_status(self) -> int:
        return EXIT.get(self.kind, 1)


_NETWORK_SIGNS = ("NewConnectionError", "Name or service not known", "Temporary failure in name",
                  "Could not resolve host", "Network is unreachable", "ConnectionError",
                  "CondaHTTPError", "Connection refused", "timed out", "nodename nor servname")


def classify_output(output: str) -> Tuple[str, str]:
    """The (kind, hint) of a failed command, from what it printed."""
    if "No space left on device" in output or "[Errno 28]" in output:
        return "disk", "free some disk space (an environment needs a few GB) or choose --prefix elsewhere"
    if any(sign in output for sign in _NETWORK_SIGNS):
        return "network", ("check the internet connection or proxy settings (pip and conda honour "
                           "HTTPS_PROXY), then run the same command again: finished steps are kept")
    if "THESE PACKAGES DO NOT MATCH THE HASHES" in output:
        return "command", ("a downloaded file does not match the lock: a proxy or mirror may be "
                           "altering files; regenerate the lock only if you trust the new files")
    return "command", "read the command output above; run again with --verbose for more detail"
