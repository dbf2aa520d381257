"""The project being installed: where it is, its version, and a fingerprint of its files.

The installer compares environments with the project by this fingerprint, not by path: the R
package runs the installer from a different temporary or library folder each time, and the
same files must not count as a change. The files are also copied into the environment
(``transforemotion-source/``), so that its record names a source that still exists.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional

__all__ = ["SOURCE_COPY", "Source", "project_root", "project_version", "project_files",
           "describe_source"]

SOURCE_COPY = "transforemotion-source"  # the copy's folder inside an environment
PACKAGE_DIR = Path("python") / "transforemotion"
TOP_FILES = ("pyproject.toml", "README.md")  # the build reads both (readme = "README.md")


def project_root() -> Path:
    """The folder holding pyproject.toml, environment.yml and requirements/."""
    return Path(__file__).resolve().parents[2]


def project_version(root: Path) -> str:
    text = (root / "pyproject.toml").read_text(encoding="utf-8")
    m = re.search(r'^version\s*=\s*"([^"]+)"', text, re.M)
    return m.group(1) if m else "0"


def project_files(root: Path) -> Dict[str, bytes]:
    """What a wheel of the project is built from: relative path (with ``/``) -> content."""
    files = {name: (root / name).read_bytes() for name in TOP_FILES if (root / name).is_file()}
    for path in sorted((root / PACKAGE_DIR).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            files[path.relative_to(root).as_posix()] = path.read_bytes()
    return files


def fingerprint(files: Dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode("utf-8") + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


@dataclass(frozen=True)
class Source:
    """What to install as the project.

    ``spec`` is a project folder or a pip requirement; for a folder, ``files`` are its files
    and ``sha256`` their fingerprint; for a requirement, ``files`` is None and ``sha256`` is
    the requirement's text.
    """
    spec: str
    files: Optional[Dict[str, bytes]]
    sha256: str

    @property
    def is_folder(self) -> bool:
        return self.files is not None


def describe_source(spec: str) -> Source:
    folder = Path(spec).expanduser()
    if (folder / "pyproject.toml").is_file():
        files = project_files(folder.resolve())
        return Source(str(folder.resolve()), files, fingerprint(files))
    return Source(spec, None, spec)
