"""Where a model runs: the device chosen once per call, its number type, and what the machine must have.

Device choice lives here alone, as in sentence-transformers: an explicit
``device``, else ``TRANSFOREMOTION_DEVICE``, else CUDA, Apple MPS or the CPU,
the first that exists. Every entry point calls :func:`check_requirements`
before any download, so a model this machine cannot run is refused at once.
"""

from __future__ import annotations

import os
from typing import Optional

import torch

from ..core.errors import ArgumentError
from ..core.messages import arg, value
from .needs import check_device, check_software
from .registry import ModelSource

__all__ = ["select_device", "default_dtype", "check_requirements"]


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


def select_device(device: Optional[str] = None) -> torch.device:
    """``device``, else ``TRANSFOREMOTION_DEVICE``, else CUDA, Apple MPS or CPU, the first that exists."""
    if device is not None and (not isinstance(device, str) or not device.strip()):
        raise ArgumentError(f"{arg('device')} must be a device name such as {value('cpu')}, {value('cuda')} or "
                         f"{value('cuda:1')}, or {value(None)} to choose automatically; got {value(device)}.")
    where = arg("device", device) if device else f"TRANSFOREMOTION_DEVICE={os.environ.get('TRANSFOREMOTION_DEVICE')!r}"
    choice = device or os.environ.get("TRANSFOREMOTION_DEVICE", "").strip()
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
    # Half precision halves memory and roughly doubles throughput on GPUs; CPUs
    # have no fast float16 kernels, so they stay in float32.
    return torch.float16 if device.type in ("cuda", "mps") else torch.float32
