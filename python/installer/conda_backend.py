"""The conda backend: conda, mamba or micromamba, from conda-lock.yml or environment.yml.

The lock is rendered into an explicit conda file (``url#md5``) plus a pip file with ``--hash``
lines: what ``conda-lock install`` does, without needing conda-lock, and the same for conda,
mamba and micromamba.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Optional, Sequence

from . import gpu
from .checks import verify_env
from .commands import Progress
from .conda_lock import filter_environment, read_conda_lock, render_lock
from .errors import InstallError
from .options import Options, Outcome, choose_jina
from .plans import PYTHON, Plan, Run, Write, run_plan
from .platforms import conda_platform, env_python, micromamba_home
from .project import install_project, source_record
from .targets import check_target, file_sha256, read_marker, remove_own_env, write_marker

__all__ = ["CONDA_PLATFORMS", "CUDA_SUBDIRS", "find_conda", "conda_flavour", "conda_plan",
           "run_conda"]
CONDA_PLATFORMS = ("linux-64", "linux-aarch64", "osx-64", "osx-arm64", "win-64")
CUDA_SUBDIRS = ("linux-64", "win-64")  # where conda-forge builds pytorch with CUDA


def find_conda(extra_dirs: Sequence[Path] = ()) -> Optional[Path]:
    """conda, mamba or micromamba: $MAMBA_EXE / $CONDA_EXE, then PATH, then our own micromamba."""
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
               exists: bool, workdir: Path, flavour: str = "cpu", jina: bool = True) -> Plan:
    """The commands that create or update the conda environment, and the files they read.

    From conda-lock.yml when it has this subdir (the lock fixes every build: ``flavour`` and
    ``jina`` do not change it, and a notice says so); else from environment.yml, with its
    platform selectors applied, the jina layer left out unless ``jina``, and for the ``cpu``
    flavour ``CONDA_OVERRIDE_CUDA=""`` so that the solver picks CPU builds of pytorch even
    where an NVIDIA driver is installed. Pure: runs nothing.
    """
    tool = conda_flavour(conda)
    target = ["-p", str(prefix)] if prefix else ["-n", name]
    lock = root / "conda-lock.yml"
    plan = Plan()
    packages = read_conda_lock(lock) if lock.exists() else []
    if packages and any(p.platform == subdir for p in packages):
        explicit, pip = render_lock(packages, subdir)
        explicit_file = workdir / f"conda-{subdir}.explicit.txt"
        plan.actions.append(Write(explicit_file, explicit.encode("utf-8")))
        verb = "create" if not exists else "install"
        plan.actions.append(Run((str(conda), verb, "--yes", *target, "--file", str(explicit_file))))
        if pip:
            pip_file = workdir / f"pip-{subdir}.txt"
            plan.actions.append(Write(pip_file, pip.encode("utf-8")))
            plan.actions.append(Run((PYTHON, "-m", "pip", "install", "--no-deps",
                                     "--require-hashes", "-r", str(pip_file))))
        if flavour != "cpu" or not jina:
            plan.notices.append("NOTICE: conda-lock.yml fixes every package build; --gpu and "
                                "--without-jina do not change what it installs.")
        return plan
    if not lock.exists():
        plan.notices.append("NOTICE: conda-lock.yml not found: solving environment.yml instead, "
                            "so package versions are not pinned. Generate the lock with "
                            "scripts/lock-conda.sh (see docs/setup.md).")
    else:
        plan.notices.append(f"NOTICE: conda-lock.yml has no entries for {subdir}: solving "
                            "environment.yml instead, so package versions are not pinned.")
    env_file = workdir / f"environment-{subdir}.yml"
    text = filter_environment((root / "environment.yml").read_text(encoding="utf-8"), subdir, jina)
    plan.actions.append(Write(env_file, text.encode("utf-8")))
    solver_env = (("CONDA_OVERRIDE_CUDA", ""),) if flavour == "cpu" else ()
    if tool == "micromamba":
        verb = "create" if not exists else "install"
        plan.actions.append(Run((str(conda), verb, "--yes", *target, "--file", str(env_file)),
                                solver_env))
    else:
        verb = "create" if not exists else "update"
        plan.actions.append(Run((str(conda), "env", verb, "--yes", *target, "--file",
                                 str(env_file)), solver_env))
    return plan


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
    for found in envs:
        if Path(found).name == name and Path(found).parent.name == "envs":
            return Path(found)
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


def _locate(conda: Path, name: str, prefix: Optional[Path], env: dict, step: str) -> Path:
    if prefix is not None:
        return env_python(prefix.absolute())
    found = conda_env_prefix(conda, name, env)
    if found is None:
        raise InstallError(step, "command", f"conda reports no environment '{name}'")
    return env_python(found)


def run_conda(opts: Options, progress: Progress) -> Outcome:
    progress.step("find conda, mamba or micromamba")
    conda = find_conda()
    if conda is None:
        if not opts.get_micromamba:
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
    driver = opts.gpu != "cpu" and gpu.nvidia_driver_answers()
    flavour, why = gpu.choose_flavour(opts.gpu, subdir, driver, CUDA_SUBDIRS, progress.current)
    progress.say(f"    {subdir}; flavour {flavour} ({why})")
    target = conda_env_prefix(conda, opts.name, env) if opts.prefix is None else opts.prefix.absolute()
    if target is not None:
        check_target(target, "conda", progress.current)
    marker = read_marker(target)
    jina, jina_why = choose_jina(opts.jina, marker)
    opts = replace(opts, jina=jina)
    if marker and opts.force:
        progress.say(f"    --force: removing {target} (created by this installer)")
        remove_own_env(target, progress.current)
        marker = None
    exists = marker is not None

    progress.step("create or update the conda environment")
    with tempfile.TemporaryDirectory() as tmp:
        plan = conda_plan(conda, opts.root, subdir, opts.prefix, opts.name, exists, Path(tmp),
                          flavour, opts.jina)
        run_plan(plan, progress.current, progress, opts.verbose,
                 python=lambda: _locate(conda, opts.name, opts.prefix, env, progress.current),
                 env=env)
    python = _locate(conda, opts.name, opts.prefix, env, progress.current)
    target = python.parent.parent if sys.platform != "win32" else python.parent
    record = {"backend": "conda", "flavour": flavour, "jina": opts.jina,
              "lock_sha256": file_sha256(opts.root / "conda-lock.yml")}
    if not exists:
        write_marker(target, dict(record, state="incomplete"))

    progress.step("install transforemotion")
    installed = verify_env(python, [], opts.version, progress, progress.current)["project"]
    install_project(opts, target, python, marker, installed, progress)
    write_marker(target, dict(record, state="complete", version=opts.version, python=str(python),
                              **source_record(opts, target)))
    return Outcome(backend="conda", python=python, prefix=target, flavour=flavour, flavour_reason=why,
                   jina=jina, jina_reason=jina_why)
