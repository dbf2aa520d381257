"""Provision a Python environment for transforemotion: the ``setup_miniconda()`` of this project.

Run it before any environment exists, with any Python 3.9+ (standard library only)::

    python python/transforemotion/installer.py                  # conda if found, else venv
    python python/transforemotion/installer.py --backend venv   # hash-locked virtual environment
    python python/transforemotion/installer.py --backend conda  # conda env "transforemotion"
    python -m transforemotion.installer --help

Backends
    conda  Creates or updates the conda environment ``transforemotion`` (or ``--prefix``) from
           ``conda-lock.yml`` for this platform, or from ``environment.yml`` with a notice when
           there is no lock. Works with conda, mamba or micromamba. The lock is read by a small
           parser below and rendered into an explicit conda file (``url#md5``) plus a pip file
           with ``--hash`` lines: the same thing ``conda-lock install`` does, but without
           needing conda-lock, and the same for conda, mamba and micromamba.
    venv   Creates a virtual environment (default: :func:`default_venv_path`) and installs
           ``requirements/requirements-lock.txt`` with ``pip --require-hashes``.

Both then install this project into the environment, run a self-check that needs no model
download, and print the Python path to give reticulate.

A second run checks the environment and repairs what is missing; ``--force`` rebuilds. An
environment it creates holds a marker file (``transforemotion-env.json``); it never deletes or
changes an environment without one.

Files read, all relative to the project root (``parents[2]`` of this file): ``pyproject.toml``,
``environment.yml``, ``conda-lock.yml`` (optional), ``requirements/requirements-lock.txt``, and
the project itself (``pyproject.toml``, ``README.md``, ``python/transforemotion/``) to install it.

This module must not import anything outside the standard library: it runs before torch exists.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

__all__ = [
    "InstallError",
    "default_venv_path",
    "setup_miniconda",
    "main",
    "read_conda_lock",
    "conda_plan",
    "conda_platform",
    "self_check",
]

ENV_NAME = "transforemotion"
MARKER = "transforemotion-env.json"
LOCK_PYTHON = (3, 11)  # requirements-lock.txt is resolved for this Python
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
# Room an environment needs: torch alone unpacks to ~1 GB (CPU) and conda adds MKL.
NEEDED_BYTES = {"venv": 3 * 1024**3, "conda": 5 * 1024**3}
# Where the venv lock holds wheels for every package (see scripts/lock-requirements.sh).
VENV_PLATFORMS = {("linux", "x86_64"), ("darwin", "arm64"), ("win32", "amd64")}
CONDA_PLATFORMS = {"linux-64", "linux-aarch64", "osx-64", "osx-arm64", "win-64"}


def project_root() -> Path:
    """The folder holding pyproject.toml, environment.yml and the locks."""
    return Path(__file__).resolve().parents[2]


class InstallError(Exception):
    """A failed step, said so that a researcher knows what to do next.

    ``kind`` is one of: usage, conflict, network, disk, platform, python, command, check.
    Each kind has its own exit status (see ``EXIT``).
    """

    def __init__(self, step: str, kind: str, message: str, hint: str = ""):
        super().__init__(message)
        self.step, self.kind, self.message, self.hint = step, kind, message, hint

    def __str__(self) -> str:
        text = f"step '{self.step}' failed ({self.kind}): {self.message}"
        return text + (f"\n  what to do: {self.hint}" if self.hint else "")


EXIT = {"usage": 2, "conflict": 3, "network": 4, "disk": 5, "platform": 6, "python": 7,
        "command": 8, "check": 9}


# --------------------------------------------------------------------------- paths, platform

def default_venv_path() -> Path:
    """The venv backend's default folder: user-owned, in the platform's data folder.

    Linux ``$XDG_DATA_HOME/transforemotion/venv`` (``~/.local/share/...``), macOS
    ``~/Library/Application Support/transforemotion/venv``, Windows
    ``%LOCALAPPDATA%\\transforemotion\\venv``. The R package looks here too.
    """
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    return base / "transforemotion" / "venv"


def micromamba_home() -> Path:
    """Where ``--get-micromamba`` puts micromamba and its package cache: user-owned."""
    return default_venv_path().parent / "micromamba"


def conda_platform(system: Optional[str] = None, machine: Optional[str] = None) -> str:
    """This machine's conda subdir (``linux-64``, ``osx-arm64``, ``win-64`` ...)."""
    system = (system or sys.platform).lower()
    machine = (machine or platform.machine()).lower()
    arch = {"x86_64": "64", "amd64": "64", "arm64": "arm64", "aarch64": "aarch64"}.get(machine)
    os_name = {"linux": "linux", "darwin": "osx", "win32": "win"}.get(system)
    if arch is None or os_name is None:
        return f"{system}-{machine}"
    if os_name == "osx" and arch == "aarch64":
        arch = "arm64"
    if os_name == "linux" and arch == "arm64":
        arch = "aarch64"
    return f"{os_name}-{arch}"


def env_python(prefix: Path, windows: Optional[bool] = None) -> Path:
    """The Python executable inside an environment (venv and conda lay it out differently)."""
    windows = sys.platform == "win32" if windows is None else windows
    if not windows:
        return prefix / "bin" / "python"
    venv_style = prefix / "Scripts" / "python.exe"
    return venv_style if venv_style.exists() else prefix / "python.exe"


# --------------------------------------------------------------------------- progress, commands

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


_NETWORK_SIGNS = ("NewConnectionError", "Name or service not known", "Temporary failure in name",
                  "Could not resolve host", "Network is unreachable", "ConnectionError",
                  "CondaHTTPError", "Connection refused", "timed out", "nodename nor servname")


def _classify(output: str) -> tuple:
    """Turn a failed command's output into (kind, hint)."""
    if "No space left on device" in output or "[Errno 28]" in output:
        return "disk", "free some disk space (an environment needs a few GB) or choose --prefix elsewhere"
    if any(sign in output for sign in _NETWORK_SIGNS):
        return "network", ("check the internet connection or proxy settings (pip and conda honour "
                           "HTTPS_PROXY), then run the same command again: finished steps are kept")
    if "THESE PACKAGES DO NOT MATCH THE HASHES" in output:
        return "command", ("a downloaded file does not match the lock: a proxy or mirror may be "
                           "altering files; regenerate the lock only if you trust the new files")
    return "command", "read the command output above; run again with --verbose for more detail"


def run_command(cmd: Sequence[str], step: str, progress: Progress, verbose: bool = False,
                env: Optional[Dict[str, str]] = None) -> str:
    """Run one command; on failure raise InstallError naming the step and the likely cause."""
    shown = ["<code>" if "\n" in str(c) else str(c) for c in cmd]  # not the -c scripts
    progress.say("    $ " + " ".join(shown))
    try:
        proc = subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, env=env)
    except FileNotFoundError as exc:
        raise InstallError(step, "command", f"cannot run {cmd[0]}: {exc}") from exc
    except OSError as exc:
        kind = "disk" if exc.errno == 28 else "command"
        raise InstallError(step, kind, f"cannot run {cmd[0]}: {exc}") from exc
    if verbose and proc.stdout:
        progress.say(proc.stdout.rstrip())
    if proc.returncode != 0:
        kind, hint = _classify(proc.stdout or "")
        tail = "\n".join((proc.stdout or "").strip().splitlines()[-25:])
        raise InstallError(step, kind, f"{Path(str(cmd[0])).name} exited with status "
                           f"{proc.returncode}:\n{tail}", hint)
    return proc.stdout or ""


# --------------------------------------------------------------------------- target checks

def _nearest_existing(path: Path) -> Path:
    path = path.absolute()
    while not path.exists():
        path = path.parent
    return path


def check_target(prefix: Path, backend: str, step: str = "check target") -> None:
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


def read_marker(prefix: Path) -> Optional[dict]:
    try:
        return json.loads((prefix / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_marker(prefix: Path, data: dict) -> None:
    data = dict(data, created_by="transforemotion installer", updated=time.strftime("%Y-%m-%dT%H:%M:%S"))
    (prefix / MARKER).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def remove_own_env(prefix: Path, step: str) -> None:
    """Delete an environment, but only one whose marker says this installer made it."""
    if not (prefix / MARKER).exists():
        raise InstallError(step, "conflict", f"{prefix} has no {MARKER}: not created by this "
                           "installer, so it is not deleted", "choose another --prefix")
    shutil.rmtree(prefix)


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""


def project_version(root: Path) -> str:
    text = (root / "pyproject.toml").read_text(encoding="utf-8")
    m = re.search(r'^version\s*=\s*"([^"]+)"', text, re.M)
    return m.group(1) if m else "0"


# --------------------------------------------------------------------------- self-check

SELF_CHECK_CODE = r'''
import json, os, sys, tempfile
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the check must never download a model
import numpy as np
import torch, transformers, cv2
import transforemotion
from transforemotion.testing import build_tiny_clip
report = {"python": sys.executable, "transforemotion": getattr(transforemotion, "__version__", "?"),
          "torch": torch.__version__, "transformers": transformers.__version__,
          "opencv": cv2.__version__}
with tempfile.TemporaryDirectory() as tmp:
    model = build_tiny_clip(os.path.join(tmp, "tiny-clip"))
    score = getattr(transforemotion, "image_scores", None)
    if score is None:
        report["image_scores"] = "not in this version; tiny model built only"
    else:
        from PIL import Image
        image = os.path.join(tmp, "grey.png")
        pixels = np.random.default_rng(0).integers(0, 256, (48, 48, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(image)
        classes = ["happy", "sad"]
        out = score(image, classes, face_selection="none", local_model_path=model)
        if hasattr(out, "to_dict"):  # a data frame
            out = out.to_dict("records")
        if isinstance(out, (list, tuple)) and out and isinstance(out[0], dict):
            out = out[0]
        if isinstance(out, dict):
            # columns: one list per class, one value per image
            row = [float(np.ravel(out[c])[0]) for c in classes]
        else:
            row = np.asarray(out, dtype=float).reshape(-1, len(classes))[0].tolist()
        if abs(sum(row) - 1.0) > 1e-4:
            raise SystemExit(f"image_scores row sums to {sum(row)}, not 1: {row}")
        report["image_scores"] = "ok"
print("SELF-CHECK " + json.dumps(report))
'''


def self_check(python: Path, progress: Optional[Progress] = None, step: str = "self-check") -> dict:
    """Import transforemotion, torch, transformers and cv2 in the environment and score a small
    synthetic image with a tiny random CLIP model (no download). Returns the report."""
    progress = progress or Progress(0, quiet=True)
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    env.pop("PYTHONPATH", None)  # check the environment itself, not a source tree on the path
    out = run_command([python, "-c", SELF_CHECK_CODE], step, progress, env=env)
    for line in out.splitlines():
        if line.startswith("SELF-CHECK "):
            return json.loads(line[len("SELF-CHECK "):])
    raise InstallError(step, "check", "the self-check printed no report:\n" + out[-2000:])


# --------------------------------------------------------------------------- venv backend

def _lock_torch_lines(lock_text: str) -> str:
    """The torch entries of requirements-lock.txt (with their hashes), for a --no-deps install."""
    keep, out = False, []
    for line in lock_text.splitlines():
        if line and not line[0].isspace():
            keep = line.startswith("torch==")
        if keep and not line.lstrip().startswith("#"):
            out.append(line)
    return "\n".join(out) + "\n"


VERIFY_CODE = r'''
import json, re, sys
from importlib import metadata
try:
    from packaging.markers import Marker
    from packaging.utils import canonicalize_name
except ImportError:
    print(json.dumps(["packaging is missing"])); raise SystemExit
installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
problems = []
for line in open(sys.argv[1], encoding="utf-8"):
    m = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)\s*(?:;\s*([^\\]+?))?\s*\\?$", line)
    if not m:
        continue
    name, version, marker = canonicalize_name(m.group(1)), m.group(2), m.group(3)
    if marker and not Marker(marker).evaluate():
        continue
    if installed.get(name) != version:
        problems.append(f"{name}: want {version}, have {installed.get(name, 'nothing')}")
want = sys.argv[2]
have = installed.get("transforemotion")
if have != want:
    problems.append(f"transforemotion: want {want}, have {have or 'nothing'}")
print(json.dumps(problems))
'''


def verify_env(python: Path, lock: Optional[Path], version: str, progress: Progress,
               step: str) -> List[str]:
    """What is missing or wrong in an existing environment (empty list: nothing)."""
    with tempfile.TemporaryDirectory() as tmp:
        if lock is None:  # conda env: only the project itself is checked here
            lock = Path(tmp) / "empty.txt"
            lock.write_text("", encoding="utf-8")
        try:
            out = run_command([python, "-c", VERIFY_CODE, lock, version], step, progress)
            return json.loads(out.strip().splitlines()[-1])
        except (InstallError, ValueError, IndexError) as exc:
            return [f"the environment's Python does not work: {exc}"]


def _pip_install_project(python: Path, source: str, progress: Progress, step: str,
                         editable: bool, verbose: bool) -> None:
    cmd = [python, "-m", "pip", "install", "--no-deps", "--no-input", "--force-reinstall"]
    probe = subprocess.run([str(python), "-c", "import setuptools"], capture_output=True)
    if probe.returncode == 0:  # build with the env's own setuptools: no network needed
        cmd.append("--no-build-isolation")
    cmd += ["-e", source] if editable else [source]
    run_command(cmd, step, progress, verbose)


def _venv_steps(prefix: Path, python: str, root: Path, source: str, force: bool, editable: bool,
                torch_index: Optional[str], verbose: bool, progress: Progress) -> Path:
    lock = root / "requirements" / "requirements-lock.txt"
    key = (sys.platform, platform.machine().lower())
    progress.step("check platform, Python and target")
    check_target(prefix, "venv", progress.current)  # first: bad targets fail before any work
    if key not in VENV_PLATFORMS:
        raise InstallError(progress.current, "platform",
                           f"the venv lock has no wheels for {key[0]} {key[1]}",
                           "use --backend conda (conda-forge covers this platform)")
    if not lock.exists():
        raise InstallError(progress.current, "usage", f"{lock} is missing",
                           "run scripts/lock-requirements.sh, or use --backend conda")
    out = run_command([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                      progress.current, progress)
    have = tuple(int(x) for x in out.strip().split("."))
    if have != LOCK_PYTHON:
        raise InstallError(progress.current, "python",
                           f"{python} is Python {out.strip()}; the lock is for Python "
                           f"{'.'.join(map(str, LOCK_PYTHON))}",
                           "pass --python /path/to/python3.11, or use --backend conda")

    marker = read_marker(prefix)
    version = project_version(root)
    lock_hash = file_sha256(lock)
    py = env_python(prefix)
    progress.step("create the virtual environment")
    if marker and force:
        progress.say(f"    --force: removing {prefix} (created by this installer)")
        remove_own_env(prefix, progress.current)
        marker = None
    fresh = marker is None
    if marker and not py.exists():
        progress.say("    the environment's Python is gone: rebuilding it")
        remove_own_env(prefix, progress.current)
        fresh = True
    if fresh:
        run_command([python, "-m", "venv", prefix], progress.current, progress, verbose)
        write_marker(prefix, {"backend": "venv", "state": "incomplete", "source": source})
    else:
        progress.say(f"    {prefix} exists (made by this installer): checking it")

    progress.step("install the locked requirements (pip --require-hashes)")
    problems = ["new environment"] if fresh else verify_env(py, lock, version, progress,
                                                            progress.current)
    if marker and marker.get("lock_sha256") != lock_hash:
        problems.append("requirements-lock.txt changed since the last run")
    if marker and marker.get("source") != source:
        problems.append(f"project source changed to {source}")
    if not problems:
        progress.say("    up to date: nothing to install")
    else:
        if not fresh:
            progress.say("    repairing: " + "; ".join(problems[:8]))
        pip = [py, "-m", "pip", "install", "--no-input", "--require-hashes"]
        with tempfile.TemporaryDirectory() as tmp:
            if torch_index and key == ("linux", "x86_64"):
                # torch+cpu lives on PyTorch's index, not PyPI. Install it alone first so that
                # only this one lookup goes there (every extra index is asked about every
                # package, which is slow where it is unreachable).
                torch_req = Path(tmp) / "torch.txt"
                torch_req.write_text(_lock_torch_lines(lock.read_text(encoding="utf-8")))
                run_command(pip + ["--no-deps", "--extra-index-url", torch_index, "-r", torch_req],
                            progress.current, progress, verbose)
            run_command(pip + ["-r", lock], progress.current, progress, verbose)
        progress.step("install transforemotion")
        _pip_install_project(py, source, progress, progress.current, editable, verbose)
        write_marker(prefix, {"backend": "venv", "state": "complete", "source": source,
                              "lock_sha256": lock_hash, "version": version,
                              "python": str(py)})
    if not problems:
        progress.step("install transforemotion")
        progress.say("    already installed")
    return py


# --------------------------------------------------------------------------- conda backend

@dataclass
class LockedPackage:
    name: str
    version: str
    manager: str
    platform: str
    url: str
    hash: Dict[str, str] = field(default_factory=dict)
    category: str = "main"
    optional: bool = False


def _scalar(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return json.loads(text)
    return text


def read_conda_lock(path: Path) -> List[LockedPackage]:
    """Read the ``package:`` list of a conda-lock.yml (format version 1).

    A YAML library is not in the standard library, so this reads the block-style YAML that
    conda-lock writes: a top-level ``package:`` list whose items are mappings of scalars, with
    ``hash:`` a nested mapping and ``dependencies:`` (ignored) another. Items may be indented
    or not under ``package:``; scalars may be plain, single- or double-quoted.
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    version = next((_scalar(l.split(":", 1)[1]) for l in lines if l.startswith("version:")), None)
    if version not in (None, "1"):
        raise ValueError(f"{path}: conda-lock format version {version}; this installer reads version 1")
    packages: List[dict] = []
    in_packages, item, item_indent, sub = False, None, 0, None
    for raw in lines:
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        text = raw.strip()
        if indent == 0 and not text.startswith("- "):
            in_packages = text.startswith("package:")
            item = None
            continue
        if not in_packages:
            continue
        if text.startswith("- ") and (item is None or indent <= item_indent - 2):
            item = {"hash": {}}
            packages.append(item)
            item_indent, sub = indent + 2, None
            text = text[2:].strip()
            indent = item_indent
        if item is None:
            continue
        if indent == item_indent:
            key, _, value = text.partition(":")
            value = value.strip()
            if value in ("", "{}", "[]"):
                sub = key if value == "" else None
            else:
                item[key] = _scalar(value)
                sub = None
        elif indent > item_indent and sub == "hash":
            key, _, value = text.partition(":")
            item["hash"][key.strip()] = _scalar(value)
    result = []
    for p in packages:
        missing = [k for k in ("name", "version", "manager", "platform", "url") if k not in p]
        if missing:
            raise ValueError(f"{path}: a package entry lacks {', '.join(missing)}: {p}")
        result.append(LockedPackage(
            name=p["name"], version=p["version"], manager=p["manager"], platform=p["platform"],
            url=p["url"], hash=p["hash"], category=p.get("category", "main"),
            optional=str(p.get("optional", "false")).lower() == "true"))
    return result


def render_lock(packages: List[LockedPackage], subdir: str) -> tuple:
    """(explicit conda file text, pip requirements text) for one platform's main packages."""
    chosen = [p for p in packages if p.platform == subdir and not p.optional]
    conda = ["# generated from conda-lock.yml for " + subdir, "@EXPLICIT"]
    pip = []
    for p in chosen:
        if p.manager == "conda":
            md5 = p.hash.get("md5")
            conda.append(f"{p.url}#{md5}" if md5 else p.url)
        elif p.manager == "pip":
            sha = p.hash.get("sha256")
            pip.append(f"{p.name} @ {p.url}" + (f" --hash=sha256:{sha}" if sha else ""))
    return "\n".join(conda) + "\n", ("\n".join(pip) + "\n") if pip else ""


def filter_selectors(env_yml: str, subdir: str) -> str:
    """Apply conda-lock's one-name platform selectors (``- pkg  # [linux64]``) for one subdir."""
    names = {
        "linux-64": {"linux", "linux64", "unix"}, "linux-aarch64": {"linux", "aarch64", "unix"},
        "osx-64": {"osx", "osx64", "unix"}, "osx-arm64": {"osx", "arm64", "unix"},
        "win-64": {"win", "win64"},
    }.get(subdir, set())
    out = []
    for line in env_yml.splitlines():
        m = re.search(r"#\s*\[\s*([A-Za-z0-9_]+)\s*\]\s*$", line)
        if m and not line.lstrip().startswith("#") and m.group(1) not in names:
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def find_conda(extra_dirs: Sequence[Path] = ()) -> Optional[Path]:
    """conda, mamba or micromamba: $CONDA_EXE / $MAMBA_EXE, then PATH, then our own micromamba."""
    for var in ("MAMBA_EXE", "CONDA_EXE"):
        if os.environ.get(var) and Path(os.environ[var]).exists():
            return Path(os.environ[var])
    for name in ("mamba", "conda", "micromamba"):
        found = shutil.which(name)
        if found:
            return Path(found)
    exe = "micromamba.exe" if sys.platform == "win32" else "micromamba"
    for d in list(extra_dirs) + [micromamba_home() / "bin", micromamba_home() / "Library" / "bin"]:
        if (Path(d) / exe).exists():
            return Path(d) / exe
    return None


def conda_flavour(conda: Path) -> str:
    name = conda.name.lower()
    return "micromamba" if "micromamba" in name else ("mamba" if "mamba" in name else "conda")


def conda_plan(conda: Path, root: Path, subdir: str, prefix: Optional[Path], name: str,
               exists: bool, workdir: Path) -> tuple:
    """The commands the conda backend runs, in order, and the files it writes for them.

    Returns ``(commands, files, notice)``: ``commands`` a list of argument lists, where
    ``{python}`` stands for the environment's Python (known only once it exists); ``files``
    maps paths in ``workdir`` to their text; ``notice`` is a message to show (or "").
    Pure: runs nothing, so tests check it for every platform.
    """
    flavour = conda_flavour(conda)
    target = ["-p", str(prefix)] if prefix else ["-n", name]
    lock = root / "conda-lock.yml"
    files: Dict[Path, str] = {}
    commands: List[List[str]] = []
    notice = ""
    packages = read_conda_lock(lock) if lock.exists() else []
    if packages and any(p.platform == subdir for p in packages):
        explicit, pip = render_lock(packages, subdir)
        explicit_file = workdir / f"conda-{subdir}.explicit.txt"
        files[explicit_file] = explicit
        verb = "create" if not exists else ("install" if flavour == "micromamba" else "install")
        commands.append([str(conda), verb, "--yes", *target, "--file", str(explicit_file)])
        if pip:
            pip_file = workdir / f"pip-{subdir}.txt"
            files[pip_file] = pip
            commands.append(["{python}", "-m", "pip", "install", "--no-deps", "--require-hashes",
                             "-r", str(pip_file)])
    else:
        if not lock.exists():
            notice = ("NOTICE: conda-lock.yml not found: solving environment.yml instead, so "
                      "package versions are not pinned. Generate the lock with "
                      "scripts/lock-conda.sh (see docs/setup.md).")
        else:
            notice = (f"NOTICE: conda-lock.yml has no entries for {subdir}: solving "
                      "environment.yml instead, so package versions are not pinned.")
        env_file = workdir / f"environment-{subdir}.yml"
        files[env_file] = filter_selectors((root / "environment.yml").read_text(encoding="utf-8"),
                                           subdir)
        if flavour == "micromamba":
            verb = "create" if not exists else "install"
            commands.append([str(conda), verb, "--yes", *target, "--file", str(env_file)])
        else:
            verb = "create" if not exists else "update"
            commands.append([str(conda), "env", verb, "--yes", *target, "--file", str(env_file)])
    return commands, files, notice


def conda_env_prefix(conda: Path, name: str, env: Optional[dict] = None) -> Optional[Path]:
    """The prefix of a named conda environment, or None when there is none.

    ``env``: extra environment variables for the tool (micromamba's root prefix).
    """
    try:
        out = subprocess.run([str(conda), "env", "list", "--json"], capture_output=True,
                             text=True, check=True, env={**os.environ, **(env or {})}).stdout
        envs = json.loads(out).get("envs", [])
    except (OSError, subprocess.CalledProcessError, ValueError):
        return None
    for env in envs:
        if Path(env).name == name and Path(env).parent.name == "envs":
            return Path(env)
    return None


def micromamba_url(subdir: str) -> str:
    return f"https://micro.mamba.pm/api/micromamba/{subdir}/latest"


def get_micromamba(progress: Progress, step: str) -> Path:
    """Download micromamba into a user-owned folder (no admin rights, no shell start-up edits)."""
    import tarfile
    import urllib.request

    subdir = conda_platform()
    home = micromamba_home()
    home.mkdir(parents=True, exist_ok=True)
    archive = home / "micromamba.tar.bz2"
    progress.say(f"    downloading {micromamba_url(subdir)} into {home}")
    try:
        with urllib.request.urlopen(micromamba_url(subdir), timeout=60) as resp, \
                open(archive, "wb") as fh:
            shutil.copyfileobj(resp, fh)
    except OSError as exc:
        raise InstallError(step, "network", f"cannot download micromamba: {exc}",
                           "install conda, mamba or micromamba yourself (docs/setup.md), or use "
                           "--backend venv") from exc
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.name.endswith(("bin/micromamba",
                                                                   "micromamba.exe"))]
        tar.extractall(home, members=members)  # only the binary, from a known URL
    archive.unlink()
    exe = find_conda()
    if exe is None or "micromamba" not in exe.name:
        exe = next(p for p in home.rglob("micromamba*") if p.is_file())
    exe.chmod(0o755)
    return exe


def _conda_steps(prefix: Optional[Path], name: str, root: Path, source: str, force: bool,
                 editable: bool, get_mamba: bool, verbose: bool, progress: Progress) -> Path:
    progress.step("find conda, mamba or micromamba")
    conda = find_conda()
    if conda is None:
        if not get_mamba:
            raise InstallError(progress.current, "usage", "no conda, mamba or micromamba found",
                               "install Miniforge (https://conda-forge.org/download/), or rerun "
                               "with --get-micromamba to put micromamba in "
                               f"{micromamba_home()} (no admin rights, no shell changes), or use "
                               "--backend venv")
        conda = get_micromamba(progress, progress.current)
    progress.say(f"    using {conda}")
    env = dict(os.environ)
    if conda_flavour(conda) == "micromamba" and "MAMBA_ROOT_PREFIX" not in env:
        env["MAMBA_ROOT_PREFIX"] = str(micromamba_home())  # user-owned package cache and envs

    progress.step("check platform and target")
    subdir = conda_platform()
    if subdir not in CONDA_PLATFORMS:
        raise InstallError(progress.current, "platform", f"conda-forge has no {subdir} builds "
                           "of the packages needed", "use a Linux, macOS or Windows machine")
    target = conda_env_prefix(conda, name, env) if prefix is None else prefix.absolute()
    if target is not None:
        check_target(target, "conda", progress.current)
    marker = read_marker(target) if target else None
    if target is not None and target.exists() and marker is None and any(target.iterdir()):
        raise InstallError(progress.current, "conflict", f"{target} was not made by this installer")
    if marker and force:
        progress.say(f"    --force: removing {target} (created by this installer)")
        remove_own_env(target, progress.current)
        marker = None
    exists = marker is not None

    progress.step("create or update the conda environment")
    with tempfile.TemporaryDirectory() as tmp:
        commands, files, notice = conda_plan(conda, root, subdir, prefix, name, exists, Path(tmp))
        if notice:
            progress.say(notice)
        for path, text in files.items():
            path.write_text(text, encoding="utf-8")
        python = None
        for cmd in commands:
            if cmd[0] == "{python}":
                python = python or _locate(conda, name, prefix, env, progress)
                cmd = [str(python)] + cmd[1:]
            run_command(cmd, progress.current, progress, verbose, env=env)
    python = _locate(conda, name, prefix, env, progress)
    target = python.parent.parent if sys.platform != "win32" else python.parent
    write_marker(target, {"backend": "conda", "state": "incomplete", "source": source})

    progress.step("install transforemotion")
    version = project_version(root)
    if exists and not force and not verify_env(python, None, version, progress, progress.current):
        progress.say("    already installed")
    else:
        _pip_install_project(python, source, progress, progress.current, editable, verbose)
    write_marker(target, {"backend": "conda", "state": "complete", "source": source,
                          "version": version, "lock_sha256": file_sha256(root / "conda-lock.yml"),
                          "python": str(python)})
    return python


def _locate(conda: Path, name: str, prefix: Optional[Path], env: dict, progress: Progress) -> Path:
    if prefix is not None:
        return env_python(prefix.absolute(), windows=sys.platform == "win32")
    found = conda_env_prefix(conda, name, env)
    if found is None:
        raise InstallError(progress.current, "command", f"conda reports no environment '{name}'")
    return env_python(found)


# --------------------------------------------------------------------------- entry points

def setup_miniconda(backend: Optional[str] = None, prefix=None, force: bool = False,
                    source=None, python: Optional[str] = None, name: str = ENV_NAME,
                    editable: bool = False, torch_index_url: Optional[str] = TORCH_CPU_INDEX,
                    get_micromamba: bool = False, check: bool = True, verbose: bool = False,
                    quiet: bool = False) -> str:
    """Create (or check and repair) an environment for transforemotion; return its Python path.

    Args:
        backend: "conda" or "venv"; None picks conda where conda, mamba or micromamba is found,
            venv otherwise.
        prefix: the environment's folder. venv: default :func:`default_venv_path`. conda:
            default the named environment ``name``.
        force: rebuild from scratch (only an environment this installer made).
        source: what to install as the project: a folder or a pip requirement
            (default: this project's root).
        python: the interpreter the venv is built from (default: this one; must be 3.11).
        torch_index_url: where the venv backend finds torch's CPU build on Linux
            (None or "": pip's configured indexes only).
        get_micromamba: with no conda found, download micromamba into a user folder.
        check: run the self-check at the end.

    Returns:
        The environment's Python executable, as a string, for reticulate.

    Raises:
        InstallError: naming the failed step, the cause and what to do.

    Example:
        >>> setup_miniconda("venv", "/tmp/te-venv")  # doctest: +SKIP
        '/tmp/te-venv/bin/python'
    """
    root = project_root()
    if backend is None:
        backend = "conda" if find_conda() else "venv"
    if backend not in ("conda", "venv"):
        raise InstallError("arguments", "usage", f"unknown backend {backend!r}",
                           "choose one of: conda, venv")
    source = str(source or root)
    progress = Progress(5 if backend == "venv" else 5, quiet=quiet)
    progress.say(f"transforemotion setup: backend {backend}, project {source}")
    if backend == "venv":
        target = Path(prefix).expanduser() if prefix else default_venv_path()
        py = _venv_steps(target, python or sys.executable, root, source, force, editable,
                         torch_index_url, verbose, progress)
    else:
        target = Path(prefix).expanduser() if prefix else None
        py = _conda_steps(target, name, root, source, force, editable, get_micromamba,
                          verbose, progress)
    progress.step("self-check (tiny random model, no download)")
    if check:
        report = self_check(py, progress, progress.current)
        progress.say("    " + ", ".join(f"{k} {v}" for k, v in report.items() if k != "python"))
    else:
        progress.say("    skipped (--no-check)")
    progress.say("\nDone. Give reticulate this Python:\n"
                 f"    {py}\n"
                 f"  R:  Sys.setenv(RETICULATE_PYTHON = \"{py}\")"
                 + (f"   or   reticulate::use_virtualenv(\"{py.parent.parent}\")"
                    if backend == "venv" else f"   or   reticulate::use_condaenv(\"{name}\")"))
    return str(py)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="installer.py",
        description="Provision a Python environment for transforemotion (standard library only).")
    p.add_argument("--backend", help="conda or venv (default: conda where found, else venv)")
    p.add_argument("--prefix", help="environment folder (venv default: %(default_venv)s; conda "
                   "default: the named environment)" % {"default_venv": default_venv_path()})
    p.add_argument("--name", default=ENV_NAME, help="conda environment name (default %(default)s)")
    p.add_argument("--force", action="store_true", help="rebuild an environment this installer made")
    p.add_argument("--source", help="project to install: a folder or pip requirement "
                   "(default: this checkout)")
    p.add_argument("--editable", action="store_true", help="install the project in editable mode")
    p.add_argument("--python", help="interpreter for the venv (default: this one; must be 3.11)")
    p.add_argument("--torch-index-url", default=TORCH_CPU_INDEX,
                   help="venv on Linux: where torch's CPU build is (default %(default)s; '' for none)")
    p.add_argument("--get-micromamba", action="store_true",
                   help="with no conda found, download micromamba into a user-owned folder")
    p.add_argument("--no-check", action="store_true", help="skip the final self-check")
    p.add_argument("--print-default-venv", action="store_true",
                   help="print the default venv folder and exit")
    p.add_argument("--verbose", action="store_true", help="show the output of every command")
    p.add_argument("--quiet", action="store_true", help="print only the Python path")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point; returns the exit status (0 on success)."""
    args = _parser().parse_args(argv)
    if args.print_default_venv:
        print(default_venv_path())
        return 0
    try:
        py = setup_miniconda(backend=args.backend, prefix=args.prefix, force=args.force,
                             source=args.source, python=args.python, name=args.name,
                             editable=args.editable, torch_index_url=args.torch_index_url or None,
                             get_micromamba=args.get_micromamba, check=not args.no_check,
                             verbose=args.verbose, quiet=args.quiet)
    except InstallError as exc:
        print(f"\ntransforemotion setup failed: {exc}", file=sys.stderr)
        return EXIT.get(exc.kind, 1)
    except KeyboardInterrupt:
        print("\ninterrupted; run the same command again to finish", file=sys.stderr)
        return 130
    if args.quiet:
        print(py)
    return 0


if __name__ == "__main__":
    sys.exit(main())
