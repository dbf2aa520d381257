"""Numbered progress lines, and running one command with its failure turned into an InstallError."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Dict, Optional, Sequence

from .errors import InstallError, classify_output

__all__ = ["Progress", "run_command"]


class Progress:
    """Prints numbered steps; every InstallError names the step it came from."""

    def __init__(self, total: int, quiet: bool = False, stream=None):
        self.total, self.n, self.quiet = total, 0, quiet
        self.stream = stream or sys.stdout
        self.current = "start"

    def step(self, name: str) -> None:
        self.n += 1
        self.current = name
        self.say(f"[{self.n}/{self.total}] {name}")

    def say(self, text: str) -> None:
        if not self.quiet:
            print(text, file=self.stream, flush=True)


def run_command(cmd: Sequence, step: str, progress: Progress, verbose: bool = False,
                env: Optional[Dict[str, str]] = None, cwd: Optional[Path] = None,
                show: bool = True) -> str:
    """Run one command; return its output; on failure raise InstallError naming the step and
    the likely cause. ``show``: print the command line first (off for quiet probes)."""
    if show:
        progress.say("    $ " + " ".join(str(c) for c in cmd))
    try:
        proc = subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE, cwd=cwd,
                              stderr=subprocess.STDOUT, text=True, env=env)
    except OSError as exc:
        kind = "disk" if exc.errno == 28 else "command"
        raise InstallError(step, kind, f"cannot run {cmd[0]}: {exc}") from exc
    if verbose and proc.stdout:
        progress.say(proc.stdout.rstrip())
    if proc.returncode != 0:
        kind, hint = classify_output(proc.stdout or "")
        tail = "\n".join((proc.stdout or "").strip().splitlines()[-25:])
        raise InstallError(step, kind, f"{Path(str(cmd[0])).name} exited with status "
                           f"{proc.returncode}:\n{tail}", hint)
    return proc.stdout or ""
