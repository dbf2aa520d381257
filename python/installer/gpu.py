"""``--gpu auto|cuda|cpu``: which flavour of the environment to build."""

from __future__ import annotations

import shutil
import subprocess
from typing import Sequence, Tuple

from .errors import InstallError

__all__ = ["GPU_CHOICES", "nvidia_driver_answers", "choose_flavour"]

GPU_CHOICES = ("auto", "cuda", "cpu")


def nvidia_driver_answers(timeout: float = 20) -> bool:
    """True when ``nvidia-smi -L`` runs and lists a GPU: an NVIDIA driver is installed."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return False
    try:
        done = subprocess.run([exe, "-L"], capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0 and "GPU" in done.stdout


def choose_flavour(requested: str, where: str, driver: bool, cuda_platforms: Sequence[str],
                   step: str) -> Tuple[str, str]:
    """The flavour to build, ``"cuda"`` or ``"cpu"``, and why (for the summary).

    Args:
        requested: ``auto`` (CUDA where an NVIDIA driver answers and a CUDA lock covers this
            platform), ``cuda`` or ``cpu``.
        where: this platform, as the locks name it (``linux-x86_64``; a conda subdir for conda).
        driver: whether an NVIDIA driver answered (:func:`nvidia_driver_answers`).
        cuda_platforms: the platforms the CUDA flavour covers.

    Raises:
        InstallError: ``usage`` for an unknown choice; ``platform`` for ``cuda`` where no CUDA
            flavour exists.
    """
    if requested not in GPU_CHOICES:
        raise InstallError(step, "usage", f"unknown --gpu choice {requested!r}",
                           "choose one of: " + ", ".join(GPU_CHOICES))
    if requested == "cpu":
        return "cpu", "--gpu cpu"
    covered = where in cuda_platforms
    if requested == "cuda":
        if not covered:
            raise InstallError(step, "platform", f"there is no CUDA flavour for {where} (CUDA "
                               f"covers: {', '.join(cuda_platforms) or 'nothing yet'})",
                               "use --gpu cpu, or regenerate the CUDA lock where PyTorch's "
                               "index is reachable (docs/setup.md, 'Regenerating the locks')")
        return "cuda", "--gpu cuda" + ("" if driver else " (no NVIDIA driver answered here: "
                                       "it will not run on this machine's GPU until one does)")
    if not driver:
        return "cpu", "--gpu auto: no NVIDIA driver answered nvidia-smi"
    if not covered:
        return "cpu", (f"--gpu auto: an NVIDIA driver answered, but there is no CUDA flavour "
                       f"for {where} yet")
    return "cuda", "--gpu auto: an NVIDIA driver answered nvidia-smi"
