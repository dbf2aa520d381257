"""Questions asked inside an environment: what does it lack, and can it score a picture?"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from .commands import Progress, run_command
from .errors import InstallError

__all__ = ["VERIFY_SCRIPT", "verify_env", "self_check", "python_version"]

VERIFY_SCRIPT = Path(__file__).resolve().with_name("verify_lock.py")


def _last_json(output: str) -> Optional[dict]:
    for line in reversed(output.strip().splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                return None
    return None


def python_version(python, progress: Progress, step: str) -> tuple:
    out = run_command([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                      step, progress, show=False)
    return tuple(int(x) for x in out.strip().split("."))


def verify_env(python: Path, locks: Sequence[Path], version: str, progress: Progress,
               step: str) -> Dict[str, List[str]]:
    """What the environment lacks: ``{"locked": [...], "project": [...]}`` (empty lists: nothing).

    Runs verify_lock.py with the environment's Python in isolated mode (-I), so that nothing
    on PYTHONPATH or in the current folder stands in for what is installed."""
    try:
        out = run_command([python, "-I", VERIFY_SCRIPT, "--version", version, *locks], step,
                          progress, show=False)
    except InstallError as exc:
        return {"locked": [f"the environment's Python does not work: {exc.message}"],
                "project": ["transforemotion: not checked"]}
    report = _last_json(out)
    if not report:
        return {"locked": [f"the lock check printed no report: {out[-500:]}"],
                "project": ["transforemotion: not checked"]}
    return {"locked": list(report.get("locked", [])), "project": list(report.get("project", []))}


def self_check(python: Path, progress: Progress, step: str) -> dict:
    """Run ``python -m transforemotion.selfcheck`` in the environment (a tiny random model, one
    synthetic picture, no download); return its report.

    Raises:
        InstallError: ``check`` when the scores are wrong or transforemotion does not import.
    """
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    with tempfile.TemporaryDirectory(prefix="transforemotion-check-") as cwd:
        try:
            out = run_command([python, "-I", "-m", "transforemotion.selfcheck"], step, progress,
                              env=env, cwd=Path(cwd))
        except InstallError as exc:
            report = _last_json(exc.message.split(":", 1)[-1]) or {}
            raise InstallError(step, "check", report.get("error") or exc.message,
                               "run the same command again with --force to rebuild the "
                               "environment; if it fails again, report the message above") from exc
    report = _last_json(out)
    if not report or not report.get("ok"):
        raise InstallError(step, "check", "the self-check printed no report:\n" + out[-2000:])
    return report
