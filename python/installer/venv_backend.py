"""The venv backend: a virtual environment from the hash-locked pip requirements."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from . import gpu
from .checks import python_version, verify_env
from .commands import Progress
from .errors import InstallError
from .index_check import check_pytorch_builds
from .markers import evaluate_marker, marker_environment
from .options import Options, Outcome, choose_jina
from .pip_locks import (LOCK_FILES, LOCK_PYTHON, LockEntry, PipLock, lock_paths, pytorch_index_for,
                        read_pip_lock)
from .plans import PYTHON, Plan, Run, Write, run_plan
from .platforms import env_python, platform_key
from .project import install_project, source_record
from .targets import check_target, file_sha256, read_marker, remove_own_env, write_marker

__all__ = ["venv_create_plan", "venv_lock_plan", "pytorch_builds", "run_venv"]


def venv_create_plan(prefix: Path, base_python: str) -> Plan:
    return Plan([Run((base_python, "-m", "venv", str(prefix)))])


def pytorch_builds(locks: Sequence[PipLock], env: Dict[str, str]) -> Dict[str, List[LockEntry]]:
    """Entries that only PyTorch's index has (``+cpu``, ``+cu130`` ...) and that apply on
    ``env``'s platform, grouped by that label."""
    found: Dict[str, List[LockEntry]] = {}
    for lock in locks:
        for entry in lock.pytorch_builds():
            if entry.marker is None or evaluate_marker(entry.marker, env):
                found.setdefault(entry.label, []).append(entry)
    return found


def venv_lock_plan(locks: Sequence[PipLock], env: Dict[str, str], torch_index: Optional[str],
                   workdir: Path) -> Plan:
    """pip commands that install ``locks`` (base first) with ``--require-hashes``.

    PyTorch's own builds (``torch==2.13.0+cpu`` on Linux) are not on PyPI. They are installed
    first, alone and ``--no-deps``, with PyTorch's index (``torch_index``, ``{variant}`` standing
    for the label) as an extra index, so only this one lookup goes there: every extra index is
    asked about every package, which is slow where it is unreachable. With ``torch_index`` None
    pip's own configuration must provide them (a find-links folder, a mirror).
    """
    pip = (PYTHON, "-m", "pip", "install", "--no-input", "--require-hashes")
    plan = Plan()
    if torch_index:
        for label, entries in sorted(pytorch_builds(locks, env).items()):
            requirements = workdir / f"pytorch-{label}.txt"
            text = "\n".join(e.text for e in entries) + "\n"
            plan.actions.append(Write(requirements, text.encode("utf-8")))
            plan.actions.append(Run(pip + ("--no-deps", "--extra-index-url",
                                           pytorch_index_for(label, torch_index),
                                           "-r", str(requirements))))
    files: List[str] = []
    for lock in locks:
        files += ["-r", str(lock.path)]
    plan.actions.append(Run(pip + tuple(files)))
    return plan


def _pytorch_needs(locks: Sequence[PipLock], env: Dict[str, str], flavour: str):
    """The PyTorch builds pip will fetch, each with whether it is the jina layer's."""
    jina = Path(LOCK_FILES[flavour]["jina"]).name
    return [(entry, lock.path.name == jina) for lock in locks for entry in lock.pytorch_builds()
            if entry.marker is None or evaluate_marker(entry.marker, env)]


def _read_locks(opts: Options, flavour: str, where: str, step: str) -> List[PipLock]:
    locks = []
    for path in lock_paths(opts.root, flavour, opts.jina):
        if not path.exists():
            raise InstallError(step, "usage", f"{path} is missing",
                               "run scripts/lock-requirements.sh (docs/setup.md), or use --backend conda")
        lock = read_pip_lock(path)
        if not lock.covers(where):
            jina_lock = path.name == Path(LOCK_FILES[flavour]["jina"]).name
            raise InstallError(step, "platform",
                               f"{path.name} has no wheels for {where} (it covers "
                               f"{', '.join(lock.platforms) or 'no platform'})",
                               "add --without-jina to leave out jina-clip-v2's layer"
                               if jina_lock else "use --backend conda (conda-forge covers more platforms)")
        locks.append(lock)
    return locks


def run_venv(opts: Options, progress: Progress) -> Outcome:
    prefix = opts.prefix
    progress.step("check platform, Python and target")
    check_target(prefix, "venv", progress.current)  # first: bad targets fail before any work
    where = platform_key()
    cuda_lock = opts.root / LOCK_FILES["cuda"]["base"]
    cuda_platforms = read_pip_lock(cuda_lock).platforms if cuda_lock.exists() else ()
    driver = opts.gpu != "cpu" and gpu.nvidia_driver_answers()
    flavour, why = gpu.choose_flavour(opts.gpu, where, driver, cuda_platforms, progress.current)
    marker = read_marker(prefix)
    jina, jina_why = choose_jina(opts.jina, marker)
    opts = replace(opts, jina=jina)
    locks = _read_locks(opts, flavour, where, progress.current)
    have = python_version(opts.base_python, progress, progress.current)
    if have[:2] != LOCK_PYTHON:
        raise InstallError(progress.current, "python",
                           f"{opts.base_python} is Python {'.'.join(map(str, have))}; the locks "
                           f"are for Python {'.'.join(map(str, LOCK_PYTHON))}",
                           "pass --python /path/to/python3.11, or use --backend conda")
    progress.say(f"    {where}, Python {'.'.join(map(str, have))}; flavour {flavour} ({why})")

    py = env_python(prefix)
    env = marker_environment(where, ".".join(map(str, have)))
    needs = _pytorch_needs(locks, env, flavour) if opts.index_check else []
    if marker is None or opts.force or not py.exists():  # before anything is made or removed
        check_pytorch_builds(needs, opts.torch_index, progress.current)
        needs = []
    progress.step("create the virtual environment")
    if marker and opts.force:
        progress.say(f"    --force: removing {prefix} (created by this installer)")
        remove_own_env(prefix, progress.current)
        marker = None
    if marker and not py.exists():
        progress.say("    the environment's Python is gone: rebuilding it")
        remove_own_env(prefix, progress.current)
        marker = None
    fresh = marker is None
    record = {"backend": "venv", "flavour": flavour, "jina": opts.jina,
              "locks": {str(lk.path.relative_to(opts.root).as_posix()): file_sha256(lk.path)
                        for lk in locks}}
    if fresh:
        run_plan(venv_create_plan(prefix, opts.base_python), progress.current, progress, opts.verbose)
        write_marker(prefix, dict(record, state="incomplete"))
    else:
        progress.say(f"    {prefix} exists (made by this installer): checking it")

    progress.step("install the locked requirements (pip --require-hashes)")
    version = opts.version
    found = {"locked": ["new environment"], "project": ["new environment"]} if fresh else \
        verify_env(py, [lk.path for lk in locks], version, progress, progress.current)
    lock_problems = list(found["locked"]) + ([] if fresh else _changes(marker, record))
    if lock_problems:
        if not fresh:
            progress.say("    repairing: " + "; ".join(lock_problems[:8]))
            # Only builds pip will fetch matter; a problem that names no package may be any.
            named = {p.split(":", 1)[0] for p in found["locked"] if ": want " in p}
            if all(": want " in p for p in found["locked"]):
                needs = [n for n in needs if n[0].name in named]
            check_pytorch_builds(needs, opts.torch_index, progress.current)
        with tempfile.TemporaryDirectory() as tmp:
            plan = venv_lock_plan(locks, env, opts.torch_index, Path(tmp))
            run_plan(plan, progress.current, progress, opts.verbose, python=lambda: py)
    else:
        progress.say("    up to date: nothing to install")

    progress.step("install transforemotion")
    changed = install_project(opts, prefix, py, marker, found["project"], progress)
    if changed or lock_problems:
        write_marker(prefix, dict(record, state="complete", version=version,
                                  python=str(py), **source_record(opts, prefix)))
    return Outcome(backend="venv", python=py, prefix=prefix, flavour=flavour, flavour_reason=why,
                   jina=jina, jina_reason=jina_why)


def _changes(marker: dict, record: dict) -> List[str]:
    """What differs between the earlier run's record and this run's, each said for what it is."""
    changes = []
    if marker.get("jina", True) != record["jina"]:
        changes.append("adding the jina-clip-v2 layer (--with-jina)" if record["jina"] else
                       "leaving out the jina-clip-v2 layer (--without-jina); its packages stay")
    elif marker.get("locks") != record["locks"]:
        changes.append("the lock files changed since the last run")
    if marker.get("flavour", "cpu") != record["flavour"]:
        changes.append(f"flavour changed from {marker.get('flavour', 'cpu')} to {record['flavour']}")
    return changes
