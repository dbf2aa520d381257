"""What a model needs to run (a GPU, memory, extra packages, a transformers range) and whether this machine has it.

Everything here is decided without downloading anything: from the registry's
data, from a model folder's own files (config.json, its remote-code modules,
the size of its weights), from the installed packages and from torch. The
loader asks before it touches the hub, so a model that cannot run here is
refused at once, with what to install, instead of after a download.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
from dataclasses import dataclass, replace
from typing import List, Optional, Set, Tuple

from ..core import settings
from ..core.errors import ArgumentError, MissingPackageError
from ..core.messages import arg, current_caller, value

__all__ = ["Needs", "ARCHITECTURE_NEEDS", "ALLOW_LARGE_ENV", "folder_needs", "read_model_config", "software_problems",
           "check_software", "check_device", "availability", "install_advice"]

ALLOW_LARGE_ENV = settings.ALLOW_LARGE

# An EVA-CLIP folder whose weights take more than this is loaded in 4-bit on a
# CUDA GPU; a smaller one (a distilled or test model) loads like any other.
LARGE_WEIGHTS_GB = 2.0

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")


@dataclass(frozen=True)
class Needs:
    """What a model needs. Package names are both what pip installs and what Python imports.

    Attributes:
        gpu: it runs only on a CUDA GPU (in 4-bit), unless TRANSFOREMOTION_ALLOW_LARGE=1.
        memory_gb: about how much memory it takes once loaded (GPU memory when
            ``gpu``); None if unknown.
        cpu_memory_gb: for a ``gpu`` model, about what it would take without
            a GPU (float32); None if unknown.
        packages: packages it always needs beyond transforemotion's own.
        gpu_packages: packages it needs when it runs on a GPU.
        transformers: the transformers versions it works with (PEP 440), "" for any.
        extra: the pip extra of transforemotion that installs those packages.
    """

    gpu: bool = False
    memory_gb: Optional[float] = None
    cpu_memory_gb: Optional[float] = None
    packages: Tuple[str, ...] = ()
    gpu_packages: Tuple[str, ...] = ()
    transformers: str = ""
    extra: str = ""

    @property
    def all_packages(self) -> Tuple[str, ...]:
        return self.packages + tuple(p for p in self.gpu_packages if p not in self.packages)


# What each architecture needs when nothing more is known (a hub id nobody registered with details).
ARCHITECTURE_NEEDS = {
    "clip": Needs(),
    # jina-clip's own code (trust_remote_code) imports names transformers 5
    # removed, and needs einops, timm and torchvision (its image processor).
    "jina": Needs(packages=("einops", "timm", "torchvision"), transformers=">=4.52,<5", extra="jina"),
    # EVA-CLIP-8B is loaded in 4-bit NF4 (bitsandbytes, placed by accelerate).
    "eva": Needs(gpu=True, gpu_packages=("bitsandbytes", "accelerate"), extra="gpu"),
}


def weights_gb(folder: str) -> Optional[float]:
    """The size of the weight files directly in ``folder``, in GB, or None if there are none."""
    try:
        names = os.listdir(folder)
    except OSError:
        return None
    sizes = [os.path.getsize(os.path.join(folder, n)) for n in names if n.endswith(WEIGHT_SUFFIXES)]
    return sum(sizes) / 1e9 if sizes else None


def read_model_config(folder: str) -> dict:
    try:
        with open(os.path.join(folder, "config.json"), encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def remote_code_imports(folder: str) -> Optional[Set[str]]:
    """The top-level modules that the folder's remote code imports, or None if its code is not in the folder.

    ``auto_map`` entries such as ``"org/code-repo--modeling.Model"`` name code
    kept in another hub repository (as the real jina-clip-v2 does); then
    nothing can be read here and the caller must assume the worst.

    Why read the code rather than trust the architecture alone: a folder that
    carries its code says exactly what it needs, so a jina-style model whose
    code does without timm and torchvision (our test stand-in, which must run
    where PyPI's torchvision cannot be installed beside a CPU build of torch)
    is not refused for them, while the real jina-clip-v2, whose code lives
    elsewhere, is held to all three.
    """
    auto_map = read_model_config(folder).get("auto_map")
    if not isinstance(auto_map, dict) or not auto_map:
        return None
    refs = [r for v in auto_map.values() for r in (v if isinstance(v, (list, tuple)) else [v]) if isinstance(r, str)]
    if not refs or any("--" in r for r in refs):
        return None
    modules: Set[str] = set()
    for name in os.listdir(folder):
        if not name.endswith(".py"):
            continue
        try:
            with open(os.path.join(folder, name), encoding="utf-8") as fh:
                tree = ast.parse(fh.read())
        except (OSError, SyntaxError, ValueError):
            return None
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules


def folder_needs(folder: str, architecture: str) -> Needs:
    """What a model folder needs, read from its files.

    jina: the packages its own code imports (all of jina's if the code lives
    elsewhere). EVA: the 4-bit GPU path only for weights over
    ``LARGE_WEIGHTS_GB``. Memory: the size of the weights on disk.
    """
    base = ARCHITECTURE_NEEDS.get(architecture, Needs())
    size = weights_gb(folder)
    memory = None if size is None else max(0.1, round(size, 1))
    if architecture == "jina":
        imported = remote_code_imports(folder)
        packages = base.packages if imported is None else tuple(p for p in base.packages if p in imported)
        return replace(base, packages=packages, memory_gb=memory)
    if architecture == "eva":
        if size is not None and size <= LARGE_WEIGHTS_GB:
            return replace(base, gpu=False, gpu_packages=(), memory_gb=memory)
        if size is None:
            return base
        # float32 on a CPU: twice the disk size of half-precision weights; in
        # 4-bit on a GPU: about a third of that disk size (the 4-bit matrices
        # plus the parts that stay in 16 bit).
        half = str(read_model_config(folder).get("torch_dtype", "")) in ("float16", "bfloat16")
        return replace(base, memory_gb=round(size / (3 if half else 6), 1),
                       cpu_memory_gb=round(size * (2 if half else 1), 1))
    return replace(base, memory_gb=memory)


def _missing(packages) -> List[str]:
    return [p for p in packages if importlib.util.find_spec(p) is None]


def _transformers_version() -> str:
    import transformers

    return transformers.__version__


def _version_ok(spec: str, version: str) -> bool:
    from packaging.specifiers import SpecifierSet

    return SpecifierSet(spec).contains(version, prereleases=True)


def software_problems(needs: Needs) -> List[str]:
    """What this Python environment lacks for ``needs``, GPU-only packages aside, as short phrases."""
    problems = []
    if needs.transformers and not _version_ok(needs.transformers, _transformers_version()):
        problems.append(f"transformers{needs.transformers} (this environment has {_transformers_version()})")
    missing = _missing(needs.packages)
    if missing:
        problems.append(f"{_join(missing)} (not installed)")
    return problems


def install_advice(needs: Needs) -> str:
    pins = " (it pins transformers below 5, so use an environment of its own)" if needs.transformers else ""
    command = f'pip install "transforemotion[{needs.extra}]"' if needs.extra else "pip install " + " ".join(
        needs.all_packages)
    # The installer is not in the wheel: R users reach it through setup_miniconda(), everyone else runs it
    # from a source checkout.
    installer = ("setup_miniconda()" if current_caller() == "r"
                 else "python python/installer, from a checkout of the source")
    return f"Install with {command}{pins}; the installer ({installer}) sets up environments."


def check_software(needs: Needs, name: str) -> None:
    """Raise ImportError, saying what to install, if this environment cannot run a model with ``needs``."""
    problems = software_problems(needs)
    if not problems:
        return
    why = " runs its own code from the model hub, which" if needs.transformers else ""
    raise MissingPackageError(f"The model {value(name)}{why} needs {' and '.join(problems)}. {install_advice(needs)}")


def check_device(needs: Needs, name: str, device) -> None:
    """Raise if a ``gpu`` model is asked to run without CUDA, or on CUDA without its 4-bit packages."""
    if not needs.gpu:
        return
    if device.type != "cuda":
        if settings.allow_large():
            return
        gpu = f"about {needs.memory_gb:g} GB of GPU memory" if needs.memory_gb else "a large GPU"
        cpu = (f" Without CUDA it would need about {needs.cpu_memory_gb:g} GB of memory in float32"
               if needs.cpu_memory_gb else " Without CUDA it is loaded in full precision")
        raise ArgumentError(
            f"The model {value(name)} is loaded in 4-bit (NF4) on a CUDA GPU, where it needs {gpu}; the device "
            f"here is {device.type}.{cpu}. Use {arg('model', 'oai-large')} on this machine, or set "
            f"{ALLOW_LARGE_ENV}=1 if you have that much memory."
        )
    missing = _missing(needs.gpu_packages)
    if missing:
        raise MissingPackageError(f"The model {value(name)} is loaded in 4-bit on the GPU with {_join(needs.gpu_packages)}, "
                          f"and {_join(missing)} {'is' if len(missing) == 1 else 'are'} not installed. "
                          f"{install_advice(needs)}")


def availability(needs: Needs, cuda: bool) -> Tuple[bool, str]:
    """Whether a model with ``needs`` can run here (``cuda``: a CUDA GPU is present), and if not, why."""
    problems = software_problems(needs)
    if needs.gpu:
        if cuda:
            missing = _missing(needs.gpu_packages)
            if missing:
                problems.append(f"{_join(missing)} for 4-bit loading (not installed)")
        elif not settings.allow_large():
            problems.append(f"a CUDA GPU (none found; {ALLOW_LARGE_ENV}=1 runs it without one, in full precision)")
    if not problems:
        return True, ""
    return False, "needs " + "; ".join(problems)


def _join(items) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
