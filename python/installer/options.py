"""What the user asked for (Options) and what came out (Outcome), passed between the steps."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .source import Source

__all__ = ["Options", "Outcome"]


@dataclass(frozen=True)
class Options:
    root: Path  # the project folder holding the locks
    prefix: Optional[Path]  # venv: always set; conda: None for the named environment
    source: Source
    version: str  # the project version that must end up installed
    base_python: str  # venv: the interpreter it is made from
    name: str = "transforemotion"  # conda environment name
    force: bool = False
    editable: bool = False
    get_micromamba: bool = False
    verbose: bool = False
    torch_index: Optional[str] = None
    gpu: str = "auto"
    jina: bool = True
    index_check: bool = True  # venv: ask PyTorch's index before building (index_check.py)


@dataclass(frozen=True)
class Outcome:
    backend: str  # "venv" or "conda"
    python: Path
    prefix: Path
    flavour: str
    flavour_reason: str
