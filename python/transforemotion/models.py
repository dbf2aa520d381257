"""The model registry, the loader and the embedding caches.

One table of named models (``_REGISTRY``) that also says what each model needs
to run (:class:`~transforemotion.model_needs.Needs`), one function that
decides where weights come from (``resolve_model``), one check of what this
machine lacks (``check_requirements``, before anything is downloaded), one
loader (``load_model``) whose cache key is spelled out, and one wrapper
(``VisionLanguageModel``) that every architecture is adapted to: it turns
label texts and RGB crops into unit vectors, and scores them.

The three architectures differ only in how they are loaded and called:

- ``clip``: any transformers CLIP-compatible model (``get_text_features``
  with an attention mask, ``get_image_features``), CLIP's preprocessing
  from ``preprocessor_config.json``.
- ``jina``: jina-clip through its own remote code (transformers 4 only).
  Its own XLM-RoBERTa tokenizer, never CLIP's; ``get_text_features(input_ids)``
  (the model ignores any mask and makes its own from the pad id);
  preprocessing from jina's ``preprocessor_config.json`` (keys ``size``,
  ``mean``, ``std``), 512 px.
- ``eva``: EVA-CLIP through its own remote code (its config.json says
  ``model_type: "clip"`` and names its classes in ``auto_map``);
  ``encode_text(input_ids)`` / ``encode_image(pixel_values)``; CLIP
  ViT-L/14's tokenizer unless the folder has one; no preprocessing file, so
  448 px (from its config) with OpenAI's mean and std; 4-bit on a CUDA GPU
  when the weights are large.
"""

from __future__ import annotations

import json
import os
import threading
import contextlib
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from . import hub
from .messages import arg, value, warn
from .model_needs import ARCHITECTURE_NEEDS, Needs, availability, check_device, check_software, folder_needs
from .prompts import apply_template

__all__ = [
    "ModelSpec",
    "ModelSource",
    "register_vision_model",
    "list_vision_models",
    "resolve_model",
    "check_requirements",
    "select_device",
    "load_model",
    "clear_model_cache",
    "VisionLanguageModel",
]

ARCHITECTURES = ("clip", "jina", "eva")

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    model_id: str
    architecture: str = "clip"
    description: str = ""
    needs: Optional[Needs] = None  # None: read from the folder, or the architecture's defaults


_REGISTRY: Dict[str, ModelSpec] = {}


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
        raise ValueError("name must be a non-empty string, for example 'my-clip'.")
    if not isinstance(model_id, str) or not model_id.strip():
        raise ValueError("model_id must be a Hugging Face id such as 'openai/clip-vit-base-patch16' or a folder.")
    if architecture not in ARCHITECTURES:
        raise ValueError(f"architecture must be one of {', '.join(ARCHITECTURES)}; got {architecture!r}.")
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
    try:
        with open(os.path.join(folder, "config.json"), encoding="utf-8") as fh:
            config = json.load(fh)
    except (OSError, ValueError):
        return "clip"
    if not isinstance(config, dict):
        return "clip"
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
            raise ValueError(f"{arg('local_model_path')} must be the path of a model folder, or {value(None)}; "
                             f"got {value(local_model_path)}.")
        folder = os.path.expanduser(local_model_path)
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"{arg('local_model_path')} does not exist or is not a folder: {local_model_path}")
        if not os.path.isfile(os.path.join(folder, "config.json")):
            raise ValueError(
                f"{local_model_path} has no config.json, so it is not a saved model. Point "
                f"{arg('local_model_path')} at the folder written by save_pretrained() (or a downloaded Hugging Face "
                "snapshot)."
            )
        spec = _REGISTRY.get(model) if isinstance(model, str) else None
        return _folder_source(folder, _folder_architecture(folder, spec.architecture if spec else "clip"),
                              local_model_path)
    if not isinstance(model, str) or not model.strip():
        raise ValueError(f"{arg('model')} must be a registered name such as {value('oai-base')}, a Hugging Face id, "
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
    raise ValueError(
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
        raise ValueError(f"{arg('device')} must be a device name such as {value('cpu')}, {value('cuda')} or "
                         f"{value('cuda:1')}, or {value(None)} to choose automatically; got {value(device)}.")
    where = arg("device", device) if device else f"TRANSFOREMOTION_DEVICE={os.environ.get('TRANSFOREMOTION_DEVICE')!r}"
    choice = device or os.environ.get("TRANSFOREMOTION_DEVICE", "").strip()
    if choice:
        try:
            chosen = torch.device(choice)
        except (RuntimeError, ValueError) as exc:
            raise ValueError(f"{where} is not a device torch knows ({exc}). Use cpu, cuda, cuda:N or mps.") from None
        if chosen.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"{where} asks for a CUDA GPU, but torch finds none on this machine. Use cpu, or set up "
                             "the GPU environment (the installer's --gpu cuda; see the README's set-up section).")
        mps = getattr(torch.backends, "mps", None)
        if chosen.type == "mps" and (mps is None or not mps.is_available()):
            raise ValueError(f"{where} asks for Apple's MPS, which is not available here. Use cpu.")
        return chosen
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def _default_dtype(device: torch.device) -> torch.dtype:
    # Half precision halves memory and roughly doubles throughput on GPUs; CPUs
    # have no fast float16 kernels, so they stay in float32.
    return torch.float16 if device.type in ("cuda", "mps") else torch.float32


def _as_tensor(output) -> torch.Tensor:
    """The projected embeddings, whatever wraps them.

    transformers 4.x's CLIP returns a tensor; 5.x returns an output object
    whose ``pooler_output`` holds the projected features; output classes with
    ``text_embeds`` / ``image_embeds`` (projected by definition) are looked at
    first, since next to them ``pooler_output`` may be the unprojected one.
    """
    if isinstance(output, torch.Tensor):
        return output
    for name in ("text_embeds", "image_embeds", "pooler_output"):
        value = getattr(output, name, None)
        if isinstance(value, torch.Tensor):
            return value
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        return output[0]
    raise TypeError(f"Cannot find embeddings in a {type(output).__name__} returned by the model.")


PREPROCESSOR_FILE = "preprocessor_config.json"


def _preprocessor_config(source: str, local_only: bool, final: bool) -> Optional[dict]:
    """The model's preprocessor_config.json as a dict, or None if it has none (EVA-CLIP ships none)."""
    if os.path.isdir(source):
        path = os.path.join(source, PREPROCESSOR_FILE)
        if not os.path.isfile(path):
            return None
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    return hub.hub_json(source, PREPROCESSOR_FILE, local_only, final)


def _three(values, name: str, source: str) -> Tuple[float, float, float]:
    values = [values] * 3 if isinstance(values, (int, float)) else list(values)
    if len(values) != 3:
        raise ValueError(f"The {name} in {source}'s {PREPROCESSOR_FILE} must have 3 values (R, G, B); got {values}.")
    return tuple(float(v) for v in values)


def _image_settings(config: Optional[dict], default_size: int, source: str):
    """Input side, mean and std from a preprocessor config, in CLIP's format or jina's; CLIP's values if absent.

    CLIP's processor writes ``crop_size`` / ``image_mean`` / ``image_std``;
    jina's writes ``size`` (an int) / ``mean`` / ``std`` and a
    ``resize_mode``, of which only "shortest" (shorter side to the size, then
    a centre crop, as here) is what :meth:`VisionLanguageModel.pixel_values` does.
    """
    size, mean, std = default_size, CLIP_MEAN, CLIP_STD
    if not config:
        return size, mean, std
    mode = config.get("resize_mode", "shortest")
    if mode != "shortest":
        raise ValueError(f"{source}'s {PREPROCESSOR_FILE} asks for resize_mode {mode!r}; only 'shortest' (resize the "
                         "shorter side, then crop the centre) is supported.")
    crop = config.get("crop_size") or config.get("size") or default_size
    if isinstance(crop, dict):
        crop = crop.get("height") or crop.get("shortest_edge") or default_size
    if isinstance(crop, (list, tuple)):
        crop = crop[0]
    size = int(crop)
    mean = _three(config.get("image_mean", config.get("mean", mean)), "mean", source)
    std = _three(config.get("image_std", config.get("std", std)), "std", source)
    return size, mean, std


# The centre crop only ever keeps a square of the shorter side; a picture more
# elongated than this is first cut to a central window of this many short
# sides, so that a 1 x 1,000,000 strip is not resized to 224 x 224,000,000.
MAX_ASPECT = 3


def _central_window(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    if w > MAX_ASPECT * h:
        keep = MAX_ASPECT * h
        left = (w - keep) // 2
        return img[:, left : left + keep]
    if h > MAX_ASPECT * w:
        keep = MAX_ASPECT * w
        top = (h - keep) // 2
        return img[top : top + keep]
    return img


def _text_token_limit(model, tokenizer, default: int = 77) -> int:
    """The longest token sequence the text tower takes: its position table, or the tokenizer's own cap.

    jina-clip keeps its text tower's XLM-RoBERTa settings in the text config's
    ``hf_model_config_kwargs``; XLM-RoBERTa numbers positions from
    ``pad_token_id + 1``, so its table holds that many rows more than the
    longest text.
    """
    limits = []
    config = getattr(model, "config", None)
    text_config = getattr(config, "text_config", None)
    for cfg in (text_config, config):
        n = getattr(cfg, "max_position_embeddings", None)
        if isinstance(n, int) and n > 0:
            limits.append(n)
            break
    else:
        settings = getattr(text_config, "hf_model_config_kwargs", None)
        if isinstance(settings, dict) and isinstance(settings.get("max_position_embeddings"), int):
            pad = settings.get("pad_token_id", 1)
            limits.append(settings["max_position_embeddings"] - (pad if isinstance(pad, int) else 1) - 1)
    n = getattr(tokenizer, "model_max_length", None)
    if isinstance(n, int) and 0 < n < 1_000_000:
        limits.append(n)
    limits = [n for n in limits if n > 2]
    return min(limits) if limits else default


class VisionLanguageModel:
    """A loaded model behind one small interface.

    ``embed_texts`` and ``embed_images`` return L2-normalised float32 rows on
    the model's device; ``probabilities`` turns image and text embeddings into
    a softmax over the labels, scaled by the model's learned temperature.
    """

    def __init__(self, model, tokenizer, device, dtype, image_size, mean, std, logit_scale, architecture):
        self.key = None  # the cache key, set by load_model
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.dtype = dtype
        self.image_size = int(image_size)
        self.architecture = architecture
        self.logit_scale = float(logit_scale)
        self.max_text_tokens = _text_token_limit(model, tokenizer)
        self._mean = torch.tensor(mean, dtype=torch.float32, device=device).view(1, 3, 1, 1) * 255.0
        self._std = torch.tensor(std, dtype=torch.float32, device=device).view(1, 3, 1, 1) * 255.0
        self._text_cache: Dict[tuple, torch.Tensor] = {}
        self._lock = threading.Lock()

    # -- text -----------------------------------------------------------------
    def embed_texts(self, labels: Sequence[str], templates: Optional[Sequence[str]] = None) -> torch.Tensor:
        """One unit vector per label, computed once per (labels, templates) and reused.

        With templates, each label is put into every template, the sentences
        are embedded and normalised, and the label's vector is their mean,
        normalised again (CLIP's prompt ensembling).
        """
        key = (tuple(labels), None if templates is None else tuple(templates))
        with self._lock:
            cached = self._text_cache.get(key)
        if cached is not None:
            return cached
        texts = list(labels) if templates is None else [apply_template(t, label) for label in labels for t in templates]
        features = torch.cat([self._encode_texts(texts[i : i + 256]) for i in range(0, len(texts), 256)])
        if templates is not None:
            features = features.view(len(labels), len(templates), -1).mean(dim=1)
            features = torch.nn.functional.normalize(features, dim=-1)
        with self._lock:
            self._text_cache[key] = features
        return features

    def _encode_texts(self, texts: List[str]) -> torch.Tensor:
        limit = self.max_text_tokens
        lengths = [len(ids) for ids in self.tokenizer(texts, truncation=False, verbose=False)["input_ids"]]
        too_long = [t for t, n in zip(texts, lengths) if n > limit]
        if too_long:
            shown = "; ".join(repr(t if len(t) <= 60 else t[:57] + "...") for t in too_long[:3])
            warn(f"{len(too_long)} label text(s) are longer than the {limit} tokens this model reads, so only their "
                 f"beginning is used: {shown}. Shorten the label (the column name can stay as it is if you score "
                 "with a shorter label and rename the column).")
        with torch.inference_mode():
            tokens = self.tokenizer(texts, padding=True, truncation=True, max_length=limit, return_tensors="pt")
            tokens = {k: v.to(self.device) for k, v in tokens.items() if k in ("input_ids", "attention_mask")}
            if self.architecture == "eva":
                features = self.model.encode_text(tokens["input_ids"])
            elif self.architecture == "jina":
                # jina's get_text_features(input_ids, *_, **__) drops any mask
                # and makes its own from the pad id, so only the ids are passed.
                features = _as_tensor(self.model.get_text_features(tokens["input_ids"]))
            else:
                features = _as_tensor(self.model.get_text_features(**tokens))
            return torch.nn.functional.normalize(features.float(), dim=-1)

    # -- images ---------------------------------------------------------------
    def pixel_values(self, images: Sequence[np.ndarray]) -> torch.Tensor:
        """CLIP preprocessing, done with torch on the model's device.

        Shortest side resized to the model's input size (bicubic, antialiased,
        as PIL does), centre crop, scale to [0, 1], normalise. Images of the
        same shape are resized together in one call; on a GPU this moves all
        the per-pixel work off the CPU. On the CPU the resize runs on 8-bit
        pixels, as PIL's does in transformers' own processor: about ten times
        faster than in floating point there (measured: 0.6 against 5.2 ms for
        a 720x528 frame), which is a sixth of a ViT-B/32 forward pass.
        """
        size = self.image_size
        out = torch.empty((len(images), 3, size, size), dtype=torch.float32, device=self.device)
        groups: Dict[Tuple[int, int], List[int]] = {}
        images = [_central_window(img) for img in images]
        for i, img in enumerate(images):
            groups.setdefault(img.shape[:2], []).append(i)
        on_cpu = self.device.type == "cpu"
        for (h, w), idx in groups.items():
            batch = torch.from_numpy(np.stack([images[i] for i in idx]))
            batch = batch.to(self.device, non_blocking=True).permute(0, 3, 1, 2)
            if not on_cpu:
                batch = batch.float()
            # Same output size as transformers' CLIP processor: the long side
            # is truncated, not rounded.
            if h <= w:
                nh, nw = size, max(size, int(size * w / h))
            else:
                nh, nw = max(size, int(size * h / w)), size
            if (nh, nw) != (h, w):
                batch = torch.nn.functional.interpolate(
                    batch.contiguous(memory_format=torch.channels_last) if on_cpu else batch,
                    size=(nh, nw), mode="bicubic", align_corners=False, antialias=True,
                )
                if not on_cpu:
                    batch = batch.clamp_(0, 255)
            top, left = (nh - size) // 2, (nw - size) // 2
            out[idx] = batch[:, :, top : top + size, left : left + size].float()
        return ((out - self._mean) / self._std).to(self.dtype)

    def embed_pixels(self, pixel_values: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            if self.architecture == "eva":
                features = self.model.encode_image(pixel_values)
            elif self.architecture == "jina":
                features = _as_tensor(self.model.get_image_features(pixel_values))
            else:
                features = _as_tensor(self.model.get_image_features(pixel_values=pixel_values))
            return torch.nn.functional.normalize(features.float(), dim=-1)

    def embed_images(self, images: Sequence[np.ndarray]) -> torch.Tensor:
        with torch.inference_mode():
            return self.embed_pixels(self.pixel_values(images))

    def probabilities(self, image_embeddings: torch.Tensor, text_embeddings: torch.Tensor) -> np.ndarray:
        logits = self.logit_scale * image_embeddings @ text_embeddings.T
        return torch.softmax(logits.double(), dim=-1).cpu().numpy()


_CACHE: Dict[tuple, VisionLanguageModel] = {}
_CACHE_LOCK = threading.Lock()


def clear_model_cache() -> None:
    """Forget every loaded model (frees memory; the next call loads again)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def load_model(
    model="oai-base",
    local_model_path: Optional[str] = None,
    device: Optional[str] = None,
    dtype: Optional[torch.dtype] = None,
) -> VisionLanguageModel:
    """Load a model once per process; the cache key is (source, architecture, device, dtype).

    ``model`` is a name, id or folder as in :func:`resolve_model`, or an
    already resolved :class:`ModelSource`. What the model needs is checked
    first (:func:`check_requirements`). A folder is read as it is; a hub id is
    loaded from the local cache if it is there, and otherwise downloaded
    after one quick check that the hub answers (:mod:`transforemotion.hub`).
    """
    spec = resolve_model(model, local_model_path)
    dev = check_requirements(spec, device)
    quantized = spec.architecture == "eva" and spec.needs.gpu and dev.type == "cuda"
    dt = torch.float16 if quantized else (dtype or _default_dtype(dev))
    key = (spec.source, spec.architecture, str(dev), str(dt))
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            return cached

        def attempt(local_only: bool, final: bool) -> VisionLanguageModel:
            preprocessing = _preprocessor_config(spec.source, local_only, final)
            if spec.architecture == "eva":
                return _load_eva(spec.source, dev, dt, local_only, quantized, preprocessing)
            return _load_dual_encoder(spec.source, dev, dt, local_only, spec.architecture, preprocessing)

        with _quiet_transformers():
            if spec.local_only:
                try:
                    loaded = attempt(True, True)
                except OSError as exc:
                    raise ValueError(f"Could not load a model from {spec.source}: {exc}") from None
            else:
                loaded = hub.load_cache_first(spec.source, spec.name, attempt)
        loaded.key = key
        _CACHE[key] = loaded
        return loaded


@contextlib.contextmanager
def _quiet_transformers():
    """transformers' log lines and progress bars off while a model loads, then exactly as they were.

    A library should not change another library's settings for good; loads
    run one at a time under the cache lock, so saving and restoring here is safe.
    """
    from transformers.utils import logging as transformers_logging

    verbosity = transformers_logging.get_verbosity()
    bars = transformers_logging.is_progress_bar_enabled()
    try:
        from huggingface_hub.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

        hub_bars_off = are_progress_bars_disabled()
    except ImportError:  # pragma: no cover - huggingface_hub always comes with transformers
        hub_bars_off = None
    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()
    try:
        yield
    finally:
        transformers_logging.set_verbosity(verbosity)
        if bars:
            transformers_logging.enable_progress_bar()
        if hub_bars_off is not None:
            (disable_progress_bars if hub_bars_off else enable_progress_bars)()


def _vision_size(model, default: int) -> int:
    size = getattr(getattr(model.config, "vision_config", None), "image_size", None)
    return size if isinstance(size, int) and size > 0 else default


def _logit_scale(model) -> float:
    return model.logit_scale.exp().item() if hasattr(model, "logit_scale") else 100.0


def _load_dual_encoder(source, device, dtype, local_only, architecture, preprocessing) -> VisionLanguageModel:
    """CLIP-compatible transformers models, and jina-clip through its own remote code.

    jina-clip-v2 is multilingual: it must use its own XLM-RoBERTa tokenizer,
    which AutoTokenizer finds in its folder, never CLIP's, or non-English
    labels turn into unknown tokens.
    """
    from transformers import AutoModel, AutoTokenizer

    remote = {"trust_remote_code": True} if architecture == "jina" else {}
    tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local_only, **remote)
    # The dtype is applied after loading: transformers 4.x calls it
    # `torch_dtype`, 5.x `dtype`, and `.to()` means the same in both.
    model = AutoModel.from_pretrained(source, local_files_only=local_only, **remote)
    model = model.to(device=device, dtype=dtype).eval()
    size, mean, std = _image_settings(preprocessing, _vision_size(model, 512 if architecture == "jina" else 224),
                                      source)
    return VisionLanguageModel(model, tokenizer, device, dtype, size, mean, std, _logit_scale(model), architecture)


# EVA-CLIP ships no tokenizer: it reads text with CLIP ViT-L/14's.
EVA_TOKENIZER = "openai/clip-vit-large-patch14"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.json")


def _eva_tokenizer(source: str, local_only: bool):
    # CLIP's tokenizer class itself, not AutoTokenizer: that would read the
    # folder's config.json (EVA's, with auto_map) or need the CLIP repo's.
    from transformers import CLIPTokenizerFast

    if os.path.isdir(source) and any(os.path.isfile(os.path.join(source, f)) for f in TOKENIZER_FILES):
        return CLIPTokenizerFast.from_pretrained(source, local_files_only=True)
    # Asked first, because transformers 4.x, finding no files, fails with a
    # misleading message about protobuf rather than an OSError.
    if not local_only or any(hub.in_cache(EVA_TOKENIZER, f) for f in TOKENIZER_FILES):
        return CLIPTokenizerFast.from_pretrained(EVA_TOKENIZER, local_files_only=local_only)
    if not os.path.isdir(source):
        raise hub.NotInCache(f"{EVA_TOKENIZER}'s tokenizer is not in the local cache")  # may still be downloaded
    raise ValueError(
        f"{source} has no tokenizer, and EVA-CLIP reads text with CLIP ViT-L/14's ({EVA_TOKENIZER}), which is "
        f"not in the local Hugging Face cache either. Copy that tokenizer's files ({', '.join(TOKENIZER_FILES)}, "
        "merges.txt, special_tokens_map.json) into the folder, or load it once with internet access so that it "
        "is cached."
    )


def _load_eva(source, device, dtype, local_only, quantized, preprocessing) -> VisionLanguageModel:
    """EVA-CLIP through its own remote code: 4-bit NF4 on a CUDA GPU when large, as it is otherwise.

    Its config.json says ``model_type: "clip"``, so only ``trust_remote_code``
    makes transformers build the EVA classes named in ``auto_map`` rather than
    a CLIPModel with mismatched (random) weights.
    """
    from transformers import AutoModel

    tokenizer = _eva_tokenizer(source, local_only)
    kwargs = dict(trust_remote_code=True, local_files_only=local_only)
    if quantized:
        import transformers
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.float16
        )
        kwargs["device_map"] = {"": device.index or 0}
        # The non-quantised parts in half precision; the keyword was renamed in 5.x.
        kwargs["dtype" if int(transformers.__version__.split(".")[0]) >= 5 else "torch_dtype"] = torch.float16
    model = AutoModel.from_pretrained(source, **kwargs).eval()
    if not quantized:
        model = model.to(device=device, dtype=dtype)
    size, mean, std = _image_settings(preprocessing, _vision_size(model, 448), source)
    return VisionLanguageModel(model, tokenizer, device, dtype, size, mean, std, _logit_scale(model), "eva")
