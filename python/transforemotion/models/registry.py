"""The model registry: named models as data, and the one function that decides where weights come from.

As in open_clip, the registry is a table filled in one place
(:func:`register_vision_model` adds or replaces an entry); each entry also
says what the model needs to run (:class:`~transforemotion.models.needs.Needs`).
A ``model=`` string is a registered name, a Hugging Face id or a folder, and
:func:`resolve_model` alone decides which, returning a :class:`ModelSource`
that the loader takes as it is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Dict, Optional

from ..core.errors import ArgumentError, InputNotFoundError
from ..core.messages import arg, value
from .needs import ARCHITECTURE_NEEDS, Needs, availability, check_software, folder_needs, read_model_config
from ..core.options import takes_paths

__all__ = ["ARCHITECTURES", "ModelSpec", "ModelSource", "register_vision_model", "list_vision_models",
           "resolve_model", "LIST_COLUMNS"]

ARCHITECTURES = ("clip", "jina", "eva")



@dataclass(frozen=True)
class ModelSpec:
    name: str
    model_id: str
    architecture: str = "clip"
    description: str = ""
    needs: Optional[Needs] = None  # None: read from the folder, or the architecture's defaults


_REGISTRY: Dict[str, ModelSpec] = {}


@takes_paths
def register_vision_model(name: str, model_id: str, architecture: str = "clip", description: Optional[str] = None):
    """Add a model under a short name, or replace the entry of that name.

    Args:
        name: the alias to use as ``model=`` later.
        model_id: a Hugging Face id (``"org/model"``) or a local folder.
        architecture: ``"clip"`` (any CLIP-compatible transformers model),
            ``"jina"`` (jina-clip, with its own tokenizer) or ``"eva"``
            (EVA-CLIP, 4-bit on CUDA).
        description: free text shown by ``list_vision_models()``.

    Returns:
        The registry after the change, as ``list_vision_models()`` gives it.
    """
    if not isinstance(name, str) or not name.strip():
        raise ArgumentError("name must be a non-empty string, for example 'my-clip'.")
    if not isinstance(model_id, str) or not model_id.strip():
        raise ArgumentError("model_id must be a Hugging Face id such as 'openai/clip-vit-base-patch16' or a folder.")
    if architecture not in ARCHITECTURES:
        raise ArgumentError(f"architecture must be one of {', '.join(ARCHITECTURES)}; got {architecture!r}.")
    _REGISTRY[name] = ModelSpec(name, model_id, architecture, description or "")
    return list_vision_models()


def _add_builtin(name: str, model_id: str, architecture: str, description: str, needs: Needs) -> None:
    _REGISTRY[name] = ModelSpec(name, model_id, architecture, description, needs)


def _spec_needs(spec: ModelSpec) -> Needs:
    if os.path.isdir(os.path.expanduser(spec.model_id)):
        folder = os.path.expanduser(spec.model_id)
        return folder_needs(folder, _folder_architecture(folder, spec.architecture))
    return spec.needs or ARCHITECTURE_NEEDS[spec.architecture]


LIST_COLUMNS = ("name", "model_id", "architecture", "description", "gpu", "memory_gb", "packages",
                "transformers", "available", "reason")


def list_vision_models():
    """The registered models, what each needs, and whether this machine has it; nothing is downloaded.

    Returns:
        A dict of columns, one entry per model: ``name``, ``model_id``,
        ``architecture``, ``description``; ``gpu`` (True: runs only on a CUDA
        GPU, in 4-bit); ``memory_gb`` (about how much memory it takes once
        loaded, GPU memory where ``gpu``; None if unknown); ``packages``
        (packages it needs beyond transforemotion's own, comma-separated);
        ``transformers`` (the transformers versions it works with, "" for
        any); ``available`` (whether it can run here: packages, transformers
        version, GPU) and ``reason`` (what is missing, "" if nothing).

    Example:
        >>> table = list_vision_models()
        >>> table["name"][:2], table["gpu"][:2]
        (['oai-base', 'oai-large'], [False, False])
    """
    specs = list(_REGISTRY.values())
    needs = [_spec_needs(s) for s in specs]
    import torch

    cuda = torch.cuda.is_available()
    status = [availability(n, cuda) for n in needs]
    return {
        "name": [s.name for s in specs],
        "model_id": [s.model_id for s in specs],
        "architecture": [s.architecture for s in specs],
        "description": [s.description for s in specs],
        "gpu": [n.gpu for n in needs],
        "memory_gb": [n.memory_gb for n in needs],
        "packages": [", ".join(n.all_packages) for n in needs],
        "transformers": [n.transformers for n in needs],
        "available": [ok for ok, _ in status],
        "reason": [why for _, why in status],
    }


# Memory: float32 weights on a CPU for the CLIP and jina models (half on a GPU),
# eva-8B in 4-bit NF4 on a GPU. jina's and EVA's remote code was not run here
# with the real weights; see the README's table.
_add_builtin("oai-base", "openai/clip-vit-base-patch32", "clip", "OpenAI CLIP ViT-B/32: fast, the default",
             Needs(memory_gb=0.6))
_add_builtin("oai-large", "openai/clip-vit-large-patch14", "clip", "OpenAI CLIP ViT-L/14: slower, more accurate",
             Needs(memory_gb=1.7))
_add_builtin("eva-8B", "BAAI/EVA-CLIP-8B-448", "eva", "EVA-CLIP 8B at 448 px: 4-bit NF4 on a CUDA GPU (bitsandbytes)",
             Needs(gpu=True, memory_gb=6.0, cpu_memory_gb=32.0, gpu_packages=("bitsandbytes", "accelerate"),
                   extra="gpu"))
_add_builtin("jina-v2", "jinaai/jina-clip-v2", "jina", "Jina CLIP v2: multilingual labels, 512 px",
             Needs(memory_gb=3.6, packages=("einops", "timm", "torchvision"), transformers=">=4.52,<5",
                   extra="jina"))


def _detect_architecture(folder: str) -> str:
    """jina or EVA from a folder's config.json; CLIP otherwise.

    EVA-CLIP's config.json says ``model_type: "clip"``; only its ``auto_map``
    and ``architectures`` name the EVA classes.
    """
    config = read_model_config(folder)
    model_type = str(config.get("model_type", "")).lower()
    if "jina" in model_type:
        return "jina"
    if "eva" in model_type:
        return "eva"
    auto_map = config.get("auto_map") if isinstance(config.get("auto_map"), dict) else {}
    names = " ".join(str(v) for v in list(auto_map.values()) + list(config.get("architectures") or [])).lower()
    if "evaclip" in names or "eva_clip" in names:
        return "eva"
    if "jina" in names:
        return "jina"
    return "clip"


def _folder_architecture(folder: str, registered: str = "clip") -> str:
    """A registration's jina/eva wins; a "clip" registration still follows what the folder says it is."""
    return registered if registered != "clip" else _detect_architecture(folder)


@dataclass(frozen=True)
class ModelSource:
    """Where a model's weights come from, decided once per call and handed to the loader.

    ``source`` is a Hugging Face id or an absolute folder; ``local_only`` means
    nothing may be downloaded (a folder was given); ``name`` is what the user
    asked for, for messages; ``needs`` is what the model needs to run.
    """

    source: str
    architecture: str
    local_only: bool
    name: str
    needs: Needs = field(default_factory=Needs)


def _folder_source(folder: str, architecture: str, name: str) -> ModelSource:
    folder = os.path.abspath(folder)
    return ModelSource(folder, architecture, True, name, folder_needs(folder, architecture))


def _locate(model, local_model_path: Optional[str]) -> ModelSource:
    if local_model_path is not None:
        if not isinstance(local_model_path, str) or not local_model_path:
            raise ArgumentError(f"{arg('local_model_path')} must be the path of a model folder, or {value(None)}; "
                             f"got {value(local_model_path)}.")
        folder = os.path.expanduser(local_model_path)
        if not os.path.isdir(folder):
            raise InputNotFoundError(f"{arg('local_model_path')} does not exist or is not a folder: {local_model_path}")
        if not os.path.isfile(os.path.join(folder, "config.json")):
            raise ArgumentError(
                f"{local_model_path} has no config.json, so it is not a saved model. Point "
                f"{arg('local_model_path')} at the folder written by save_pretrained() (or a downloaded Hugging Face "
                "snapshot)."
            )
        spec = _REGISTRY.get(model) if isinstance(model, str) else None
        return _folder_source(folder, _folder_architecture(folder, spec.architecture if spec else "clip"),
                              local_model_path)
    if not isinstance(model, str) or not model.strip():
        raise ArgumentError(f"{arg('model')} must be a registered name such as {value('oai-base')}, a Hugging Face id, "
                         f"or a folder; got {value(model)}.")
    spec = _REGISTRY.get(model) or next((s for s in _REGISTRY.values() if s.model_id == model), None)
    if spec is not None:
        if os.path.isdir(os.path.expanduser(spec.model_id)):
            folder = os.path.expanduser(spec.model_id)
            return _folder_source(folder, _folder_architecture(folder, spec.architecture), model)
        return ModelSource(spec.model_id, spec.architecture, False, model, _spec_needs(spec))
    if os.path.isdir(os.path.expanduser(model)):
        folder = os.path.expanduser(model)
        return _folder_source(folder, _detect_architecture(folder), model)
    if "/" in model and not model.startswith(("/", ".", "~")):
        return ModelSource(model, "clip", False, model, ARCHITECTURE_NEEDS["clip"])
    raise ArgumentError(
        f"Unknown model {value(model)}. Known names: {', '.join(_REGISTRY)}. You can also give a Hugging Face id "
        f"('org/name'), a model folder via {arg('local_model_path')}, or add a name with "
        "register_vision_model()."
    )


def resolve_model(model="oai-base", local_model_path: Optional[str] = None) -> ModelSource:
    """Decide where the weights come from, and refuse at once a model this environment cannot run.

    ``local_model_path`` wins (a folder made by ``save_pretrained``; nothing is
    downloaded). Otherwise ``model`` is a registered alias, a Hugging Face id
    containing ``/`` (a registered model's id counts as its name), or an
    existing folder. A :class:`ModelSource` is returned unchanged, so callers
    may pass either.

    Raises:
        ImportError: the model needs packages or a transformers version this
            environment lacks (jina-clip under transformers 5, for one); the
            message says what to install. Nothing has been downloaded.
    """
    if isinstance(model, ModelSource):
        return model
    source = _locate(model, local_model_path)
    check_software(source.needs, source.name)
    return source
