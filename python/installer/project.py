"""Installing the project itself into an environment: when, and how (as a plan, see plans.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import List, Optional, Sequence

from .commands import Progress
from .options import Options
from .plans import PYTHON, Plan, Remove, Run, Write, run_plan
from .source import SOURCE_COPY, Source

__all__ = ["project_plan", "installed_source", "source_record", "project_problems",
           "install_project"]


def installed_source(prefix: Path, source: Source, editable: bool) -> str:
    """What the environment's record names as its source: the copy kept inside the environment
    for a project folder, the folder itself when editable, else the pip requirement."""
    if source.is_folder and not editable:
        return str(prefix / SOURCE_COPY)
    return source.spec


def project_plan(prefix: Path, source: Source, editable: bool, no_build_isolation: bool) -> Plan:
    """pip-install the project with ``--no-deps`` (the locks brought its dependencies).

    A project folder is first copied into ``prefix/transforemotion-source`` and installed from
    there: pip builds in the source folder, and the original may be read-only (an R library)
    or temporary; the copy also stays as the record of what was installed.

    ``no_build_isolation``: build with the environment's own setuptools (no network needed).
    """
    pip = [PYTHON, "-m", "pip", "install", "--no-deps", "--no-input", "--force-reinstall"]
    if no_build_isolation:
        pip.append("--no-build-isolation")
    plan = Plan()
    if editable:
        plan.actions.append(Run(tuple(pip + ["-e", source.spec])))
    elif source.is_folder:
        copy = prefix / SOURCE_COPY
        plan.actions.append(Remove(copy))
        for name, data in sorted(source.files.items()):
            plan.actions.append(Write(copy / name, data))
        plan.actions.append(Run(tuple(pip + [str(copy)])))
        # what the in-place build leaves behind
        plan.actions += [Remove(copy / "build"), Remove(copy / "python" / "transforemotion.egg-info")]
    else:
        plan.actions.append(Run(tuple(pip + [source.spec])))
    return plan


def source_record(opts: Options, prefix: Path) -> dict:
    """The marker fields that say which project the environment holds."""
    return {"source": installed_source(prefix, opts.source, opts.editable),
            "source_sha256": opts.source.sha256}


def project_problems(opts: Options, marker: Optional[dict], installed: Sequence[str]) -> List[str]:
    """Why the project must be (re)installed; empty when it is up to date.

    ``installed``: what verify_lock.py found wrong with the installed distribution. The
    project's files are compared by fingerprint, not by path, so the same project run from
    another folder (as the R package does) is no change."""
    problems = list(installed)
    if marker is None:
        return problems or ["new environment"]
    if marker.get("source_sha256") != opts.source.sha256:
        problems.append("the project's files changed" if opts.source.is_folder
                        else f"project source changed to {opts.source.spec}")
    recorded = marker.get("source")
    if opts.source.is_folder and not opts.editable and (not recorded or not Path(recorded).exists()):
        problems.append("the environment's copy of the project is missing")
    return problems


def install_project(opts: Options, prefix: Path, python: Path, marker: Optional[dict],
                    installed: Sequence[str], progress: Progress) -> bool:
    """Install the project when :func:`project_problems` finds a reason; return whether it did."""
    problems = project_problems(opts, marker, installed)
    if not problems:
        progress.say("    already installed")
        return False
    if marker is not None:
        progress.say("    reinstalling: " + "; ".join(problems[:4]))
    probe = subprocess.run([str(python), "-c", "import setuptools"], capture_output=True)
    plan = project_plan(prefix, opts.source, opts.editable, no_build_isolation=probe.returncode == 0)
    run_plan(plan, progress.current, progress, opts.verbose, python=lambda: python)
    return True
