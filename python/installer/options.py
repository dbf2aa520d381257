"""What the user asked for (Options) and what came out (Outcome), passed between the steps."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple

from .source import Source

__all__ = ["Options", "Outcome", "choose_jina"]


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
    jina: Optional[bool] = None  # None: as the existing environment has it (choose_jina), else True
    index_check: bool = True  # venv: ask PyTorch's index before building (index_check.py)


@dataclass(frozen=True)
class Outcome:
    backend: str  # "venv" or "conda"
    python: Path
    prefix: Path
    flavour: str
    flavour_reason: str
    jina: bool = True
    jina_reason: str = ""


def choose_jina(requested: Optional[bool], marker: Optional[dict]) -> Tuple[bool, str]:
    """Whether the jina-clip-v2 layer goes in, and why, for the summary.

    An explicit choice (``--with-jina`` / ``--without-jina``) wins. Without one, a rerun keeps
    what the environment's record (``marker``) says the earlier run chose, so that repairing an
    environment made ``--without-jina`` does not try to add the layer (and fail where PyTorch's
    index is out of reach); a new environment gets it.
    """
    if requested is not None:
        return requested, "--with-jina" if requested else "--without-jina"
    if marker is not None and marker.get("jina") is False:
        return False, "left out by the earlier run; --with-jina adds it"
    return True, "default" if marker is None else "as the earlier run chose"
