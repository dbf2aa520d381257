"""The environment folder: may we write there, is it ours, and its record (the marker file)."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Optional

from .errors import InstallError

__all__ = ["MARKER", "NEEDED_BYTES", "check_target", "read_marker", "write_marker",
           "remove_own_env", "file_sha256"]

MARKER = "transforemotion-env.json"  # in every environment this installer made
# Room an environment needs: torch alone unpacks to ~1 GB (CPU) and conda adds MKL;
# the CUDA build with its nvidia-* wheels takes several GB more.
NEEDED_BYTES = {"venv": 3 * 1024**3, "conda": 5 * 1024**3}


def _nearest_existing(path: Path) -> Path:
    path = path.absolute()
    while not path.exists():
        path = path.parent
    return path


def check_target(prefix: Path, backend: str, step: str) -> None:
    """Refuse early: an unwritable place, not enough disk, or someone else's environment."""
    prefix = prefix.absolute()
    if prefix.exists():
        if not prefix.is_dir():
            raise InstallError(step, "conflict", f"{prefix} exists and is a file, not an environment",
                               "choose another --prefix")
        if not (prefix / MARKER).exists() and any(prefix.iterdir()):
            what = ("a Python environment" if (prefix / "pyvenv.cfg").exists()
                    or (prefix / "conda-meta").exists() else "a non-empty folder")
            raise InstallError(step, "conflict",
                               f"{prefix} is {what} that this installer did not create; "
                               "it is left untouched",
                               "choose another --prefix, or remove that folder yourself if you "
                               "are sure it is not needed")
    anchor = _nearest_existing(prefix)
    if not anchor.is_dir():
        raise InstallError(step, "usage", f"cannot create {prefix}: {anchor} is a file",
                           "choose a --prefix inside a folder you own")
    try:  # os.access is not enough (root, ACLs, read-only mounts): try to write
        with tempfile.TemporaryFile(dir=anchor):
            pass
    except OSError as exc:
        kind = "disk" if exc.errno == 28 else "usage"
        raise InstallError(step, kind, f"cannot write in {anchor}: {exc.strerror}",
                           "choose a --prefix inside a folder you own (no admin rights are "
                           "needed anywhere)") from exc
    free = shutil.disk_usage(anchor).free
    needed = NEEDED_BYTES[backend]
    if free < needed and not (prefix / MARKER).exists():
        raise InstallError(step, "disk", f"{free / 1024**3:.1f} GB free at {anchor}; the "
                           f"{backend} environment needs about {needed / 1024**3:.0f} GB",
                           "free some space or choose a --prefix on another disk")


def read_marker(prefix: Optional[Path]) -> Optional[dict]:
    """The record this installer left in ``prefix``, or None (none there, or unreadable)."""
    if prefix is None:
        return None
    try:
        data = json.loads((prefix / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_marker(prefix: Path, data: dict) -> None:
    data = dict(data, created_by="transforemotion installer",
                updated=time.strftime("%Y-%m-%dT%H:%M:%S"))
    (prefix / MARKER).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def remove_own_env(prefix: Path, step: str) -> None:
    """Delete an environment, but only one whose marker says this installer made it."""
    if not (prefix / MARKER).exists():
        raise InstallError(step, "conflict", f"{prefix} has no {MARKER}: not created by this "
                           "installer, so it is not deleted", "choose another --prefix")
    shutil.rmtree(prefix)


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""
