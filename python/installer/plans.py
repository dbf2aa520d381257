"""A plan is what a backend will do, as data: commands to run and files to write or remove.

Backends build plans with pure functions (venv_backend.venv_install_plan,
conda_backend.conda_plan) that run nothing, so tests check them for every platform and case;
:func:`run_plan` is the one place that carries a plan out.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple, Union

from .commands import Progress, run_command

__all__ = ["PYTHON", "Run", "Write", "Remove", "Plan", "run_plan"]

PYTHON = "{python}"  # stands for the environment's Python, known only once it exists


@dataclass(frozen=True)
class Run:
    """Run ``argv`` (``PYTHON`` as its first item: the environment's Python).

    ``env``: variables to set for this command (an empty string unsets nothing: it sets ``""``).
    """
    argv: Tuple[str, ...]
    env: Tuple[Tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Write:
    path: Path
    data: bytes


@dataclass(frozen=True)
class Remove:
    """Delete a file or folder (only ever inside an environment this installer made)."""
    path: Path


Action = Union[Run, Write, Remove]


@dataclass
class Plan:
    actions: List[Action] = field(default_factory=list)
    notices: List[str] = field(default_factory=list)

    def commands(self) -> List[List[str]]:
        """Just the command lines, in order (what tests mostly look at)."""
        return [list(a.argv) for a in self.actions if isinstance(a, Run)]

    def files(self) -> Dict[Path, bytes]:
        return {a.path: a.data for a in self.actions if isinstance(a, Write)}


def run_plan(plan: Plan, step: str, progress: Progress, verbose: bool = False,
             python: Optional[Callable[[], Path]] = None,
             env: Optional[Dict[str, str]] = None) -> None:
    """Carry out ``plan`` in order. ``python`` finds the environment's Python for ``PYTHON``
    (called once, when the first such command comes); ``env``: the environment variables for
    every command (default: this process's), to which each command's own are added."""
    for notice in plan.notices:
        progress.say(notice)
    found: Optional[Path] = None
    for action in plan.actions:
        if isinstance(action, Write):
            action.path.parent.mkdir(parents=True, exist_ok=True)
            action.path.write_bytes(action.data)
        elif isinstance(action, Remove):
            if action.path.is_dir():
                shutil.rmtree(action.path)
            elif action.path.exists():
                action.path.unlink()
        else:
            argv = list(action.argv)
            if argv[0] == PYTHON:
                if python is None:
                    raise ValueError("this plan needs the environment's Python; pass python=")
                found = found or python()
                argv[0] = str(found)
            command_env = dict(env if env is not None else os.environ, **dict(action.env))
            run_command(argv, step, progress, verbose, env=command_env)
