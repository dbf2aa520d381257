"""The hash-locked pip requirement files: which ones a flavour uses, and reading them.

Each lock is written by scripts/lock-requirements.sh and names the platforms it covers in a
line ``# platforms: linux-x86_64 macos-arm64 windows-amd64`` (see platforms.platform_key).

======  ==============================================  ==========================================
flavour  base (always)                                   jina layer (default; ``--without-jina``)
======  ==============================================  ==========================================
cpu      requirements/requirements-lock.txt              requirements/requirements-jina-lock.txt
cuda     requirements/requirements-cuda-lock.txt         requirements/requirements-cuda-jina-lock.txt
======  ==============================================  ==========================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple

__all__ = ["LOCK_FILES", "LOCK_PYTHON", "LockEntry", "PipLock", "lock_paths", "read_pip_lock",
           "canonical_name", "local_label", "pytorch_index_for"]

LOCK_PYTHON = (3, 11)  # every pip lock is resolved for this Python
LOCK_FILES = {
    "cpu": {"base": "requirements/requirements-lock.txt",
            "jina": "requirements/requirements-jina-lock.txt"},
    "cuda": {"base": "requirements/requirements-cuda-lock.txt",
             "jina": "requirements/requirements-cuda-jina-lock.txt"},
}
_ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.\-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def canonical_name(name: str) -> str:
    """PEP 503 normal form: ``Scikit_Learn`` -> ``scikit-learn``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def local_label(version: str) -> str:
    """The local part of a version: ``cpu`` for ``2.13.0+cpu``, ``""`` for ``2.13.0``."""
    return version.partition("+")[2]


@dataclass(frozen=True)
class LockEntry:
    name: str  # canonical
    version: str
    marker: Optional[str]
    hashes: Tuple[str, ...]
    text: str  # the requirement line and its --hash lines, as in the file

    @property
    def label(self) -> str:
        return local_label(self.version)


@dataclass(frozen=True)
class PipLock:
    path: Path
    platforms: Tuple[str, ...]
    entries: Tuple[LockEntry, ...]

    def covers(self, key: str) -> bool:
        return key in self.platforms

    def pytorch_builds(self) -> Tuple[LockEntry, ...]:
        """Entries only PyTorch's own index has (a local version such as ``+cpu``)."""
        return tuple(e for e in self.entries if e.label)


def lock_paths(root: Path, flavour: str, jina: bool) -> List[Path]:
    """The lock files a flavour installs, base first."""
    files = LOCK_FILES[flavour]
    return [root / files["base"]] + ([root / files["jina"]] if jina else [])


def read_pip_lock(path: Path) -> PipLock:
    """Parse a lock written by ``uv pip compile --generate-hashes`` (plus our header)."""
    platforms: Tuple[str, ...] = ()
    entries: List[LockEntry] = []
    current: Optional[list] = None

    def close() -> None:
        if current is not None:
            name, version, marker, hashes, lines = current
            entries.append(LockEntry(canonical_name(name), version, marker, tuple(hashes),
                                     "\n".join(lines)))

    for line in path.read_text(encoding="utf-8").splitlines():
        header = re.match(r"^#\s*platforms:\s*(.*)$", line)
        if header:
            platforms = tuple(header.group(1).split())
            continue
        m = _ENTRY.match(line)
        if m:
            close()
            current = [m.group(1), m.group(2), m.group(3), [], [line]]
        elif current is not None and line.strip().startswith("--hash="):
            current[3].append(line.split("--hash=", 1)[1].strip(" \\").partition(":")[2])
            current[4].append(line)
        elif line and not line[0].isspace():
            close()
            current = None
    close()
    return PipLock(path, platforms, tuple(entries))


def pytorch_index_for(label: str, template: str) -> str:
    """The index holding a PyTorch build: ``template`` with ``{variant}`` replaced by the local
    label (``https://download.pytorch.org/whl/{variant}`` -> ``.../whl/cpu``)."""
    return template.replace("{variant}", label)
