"""Where a model runs: the device chosen once per call, its number type, and what the machine must have.

Device choice lives here alone, as in sentence-transformers: an explicit
``device``, else ``TRANSFOREMOTION_DEVICE``, else CUDA, Apple MPS or the CPU,
the first that exists. Every entry point calls :func:`check_requirements`
before any download, so a model this machine cannot run is refused at once.
"""

from __future__ import annotations

from typing import Optional

import torch

from ..core import settings
from ..core.errors import ArgumentError
from ..core.messages import arg, value
from .needs import check_device, check_software
from .registry import ModelSource

__all__ = ["select_device", "default_dtype", "check_requirements", "cpu_has_amx_bf16", "BFLOAT16_SETTING"]


def check_requirements(source: ModelSource, device: Optional[str] = None) -> torch.device:
    """Refuse, before any download, a model this machine cannot run; return the device it will run on.

    Checks the packages and transformers version (as :func:`resolve_model`
    does) and what depends on the device: a model that runs only in 4-bit on
    a CUDA GPU (eva-8B) is refused elsewhere unless
    TRANSFOREMOTION_ALLOW_LARGE=1, and on a GPU it needs bitsandbytes and
    accelerate.

    Raises:
        ValueError: a bad device name, or a GPU-only model without CUDA.
        ImportError: a package or transformers version is missing.
    """
    dev = select_device(device)
    check_software(source.needs, source.name)
    check_device(source.needs, source.name, dev)
    return dev


def check_device_name(device: Optional[str]) -> Optional[str]:
    """Only the spelling of a device name: for devices this machine cannot see (the workers of a Ray cluster)."""
    if device is None:
        return None
    try:
        torch.device(device)
    except (RuntimeError, ValueError, TypeError):
        raise ArgumentError(f"{arg('device')} must be a device name such as {value('cpu')}, {value('cuda')} or "
                            f"{value('cuda:1')}, or {value(None)} to choose on each worker; got {value(device)}."
                            ) from None
    return device


def select_device(device: Optional[str] = None) -> torch.device:
    """``device``, else ``TRANSFOREMOTION_DEVICE``, else CUDA, Apple MPS or CPU, the first that exists."""
    if device is not None and (not isinstance(device, str) or not device.strip()):
        raise ArgumentError(f"{arg('device')} must be a device name such as {value('cpu')}, {value('cuda')} or "
                         f"{value('cuda:1')}, or {value(None)} to choose automatically; got {value(device)}.")
    choice = device or settings.device()
    where = arg("device", device) if device else f"{settings.DEVICE}={choice!r}"
    if choice:
        try:
            chosen = torch.device(choice)
        except (RuntimeError, ValueError) as exc:
            raise ArgumentError(f"{where} is not a device torch knows ({exc}). Use cpu, cuda, cuda:N or mps.") from None
        if chosen.type == "cuda" and not torch.cuda.is_available():
            raise ArgumentError(f"{where} asks for a CUDA GPU, but torch finds none on this machine. Use cpu, or set up "
                             "the GPU environment (the installer's --gpu cuda; see the README's set-up section).")
        mps = getattr(torch.backends, "mps", None)
        if chosen.type == "mps" and (mps is None or not mps.is_available()):
            raise ArgumentError(f"{where} asks for Apple's MPS, which is not available here. Use cpu.")
        return chosen
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def default_dtype(device: torch.device) -> torch.dtype:
    """float16 on a GPU; on a CPU bfloat16 where it has AMX's bfloat16 unit, else float32.

    Half precision halves memory and roughly doubles throughput on GPUs.
    CPUs have no fast float16 kernels. bfloat16 runs on AMX tiles (issue 17: ViT-B/32
    at 181 against 104 images/s in float32 on a 16-core Xeon with AMX), image
    embeddings at a cosine of at least 0.99995 to float32's; without AMX it is
    3.5 times slower than float32 (measured on our 2-core AVX-512 machines),
    so it is chosen by the CPU's features, never everywhere.
    ``TRANSFOREMOTION_CPU_BFLOAT16`` overrides the choice: ``0`` keeps
    float32 (identical numbers on every CPU), ``1`` asks for bfloat16.
    """
    if device.type in ("cuda", "mps"):
        return torch.float16
    return torch.bfloat16 if _cpu_bfloat16() else torch.float32


BFLOAT16_SETTING = settings.CPU_BFLOAT16


def _cpu_bfloat16() -> bool:
    setting = settings.cpu_bfloat16()
    return cpu_has_amx_bf16() if setting == "auto" else setting == "1"


CPUINFO = "/proc/cpuinfo"


def cpu_has_amx_bf16(cpuinfo: str = CPUINFO) -> bool:
    """Whether the CPU lists ``amx_bf16`` among its flags (Linux; False where that cannot be read)."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return "amx_bf16" in line.split(":", 1)[-1].split()
    except OSError:
        pass
    return False
