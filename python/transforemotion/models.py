"""The model registry, the loader and the embedding caches.

One table of named models (``_REGISTRY``), one function that decides where
weights come from (``resolve_model``), one loader (``load_model``) whose cache
key is spelled out, and one wrapper (``VisionLanguageModel``) that every
architecture is adapted to: it turns label texts and RGB crops into unit
vectors, and scores them.
"""

from __future__ import annotations

import json
import os
import threading
import contextlib
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from .messages import arg, value, warn
from .prompts import apply_template

__all__ = [
    "ModelSpec",
    "ModelSource",
    "register_vision_model",
    "list_vision_models",
    "resolve_model",
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


def list_vision_models():
    """The registered models as a dict of columns: name, model_id, architecture, description.

    Example:
        >>> list_vision_models()["name"][:2]
        ['oai-base', 'oai-large']
    """
    specs = list(_REGISTRY.values())
    return {
        "name": [s.name for s in specs],
        "model_id": [s.model_id for s in specs],
        "architecture": [s.architecture for s in specs],
        "description": [s.description for s in specs],
    }


register_vision_model("oai-base", "openai/clip-vit-base-patch32", "clip", "OpenAI CLIP ViT-B/32: fast, the default")
register_vision_model("oai-large", "openai/clip-vit-large-patch14", "clip", "OpenAI CLIP ViT-L/14: slower, more accurate")
register_vision_model(
    "eva-8B", "BAAI/EVA-CLIP-8B-448", "eva", "EVA-CLIP 8B at 448 px: 4-bit NF4 on a CUDA GPU (bitsandbytes)"
)
register_vision_model("jina-v2", "jinaai/jina-clip-v2", "jina", "Jina CLIP v2: multilingual labels, 512 px")


def _detect_architecture(folder: str) -> str:
    try:
        with open(os.path.join(folder, "config.json"), encoding="utf-8") as fh:
            model_type = str(json.load(fh).get("model_type", "")).lower()
    except (OSError, ValueError):
        return "clip"
    if "jina" in model_type:
        return "jina"
    if "eva" in model_type:
        return "eva"
    return "clip"


@dataclass(frozen=True)
class ModelSource:
    """Where a model's weights come from, decided once per call and handed to the loader.

    ``source`` is a Hugging Face id or an absolute folder; ``local_only`` means
    nothing may be downloaded (a folder was given); ``name`` is what the user
    asked for, for messages.
    """

    source: str
    architecture: str
    local_only: bool
    name: str


def resolve_model(model="oai-base", local_model_path: Optional[str] = None) -> ModelSource:
    """Decide where the weights come from.

    ``local_model_path`` wins (a folder made by ``save_pretrained``; nothing is
    downloaded). Otherwise ``model`` is a registered alias, a Hugging Face id
    containing ``/``, or an existing folder. A :class:`ModelSource` is
    returned unchanged, so callers may pass either.
    """
    if isinstance(model, ModelSource):
        return model
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
        arch = spec.architecture if spec is not None and spec.architecture != "clip" else _detect_architecture(folder)
        return ModelSource(os.path.abspath(folder), arch, True, local_model_path)
    if not isinstance(model, str) or not model.strip():
        raise ValueError(f"{arg('model')} must be a registered name such as {value('oai-base')}, a Hugging Face id, "
                         f"or a folder; got {value(model)}.")
    if model in _REGISTRY:
        spec = _REGISTRY[model]
        if os.path.isdir(spec.model_id):
            return ModelSource(os.path.abspath(spec.model_id), _detect_architecture(spec.model_id)
                               if spec.architecture == "clip" else spec.architecture, True, model)
        return ModelSource(spec.model_id, spec.architecture, False, model)
    if os.path.isdir(os.path.expanduser(model)):
        folder = os.path.abspath(os.path.expanduser(model))
        return ModelSource(folder, _detect_architecture(folder), True, model)
    if "/" in model and not model.startswith(("/", ".", "~")):
        return ModelSource(model, "clip", False, model)
    raise ValueError(
        f"Unknown model {value(model)}. Known names: {', '.join(_REGISTRY)}. You can also give a Hugging Face id "
        f"('org/name'), a model folder via {arg('local_model_path')}, or add a name with "
        "register_vision_model()."
    )


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
    """transformers 4.x returns the projected embeddings as a tensor; 5.x wraps them in an output object."""
    if isinstance(output, torch.Tensor):
        return output
    for name in ("pooler_output", "image_embeds", "text_embeds"):
        value = getattr(output, name, None)
        if isinstance(value, torch.Tensor):
            return value
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        return output[0]
    raise TypeError(f"Cannot find embeddings in a {type(output).__name__} returned by the model.")


def _read_preprocessing(folder_or_id: str, local_only: bool, default_size: int):
    """Image side, mean and std from the model's preprocessor_config.json, CLIP's values if absent."""
    config = None
    path = os.path.join(folder_or_id, "preprocessor_config.json")
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as fh:
            config = json.load(fh)
    elif not os.path.isdir(folder_or_id) and not local_only:
        try:
            from huggingface_hub import hf_hub_download

            with open(hf_hub_download(folder_or_id, "preprocessor_config.json"), encoding="utf-8") as fh:
                config = json.load(fh)
        except Exception:  # noqa: BLE001 - a model without the file uses CLIP's settings
            config = None
    size, mean, std = default_size, CLIP_MEAN, CLIP_STD
    if config:
        crop = config.get("crop_size") or config.get("size") or default_size
        if isinstance(crop, dict):
            crop = crop.get("height") or crop.get("shortest_edge") or default_size
        size = int(crop)
        mean = tuple(config.get("image_mean", mean))
        std = tuple(config.get("image_std", std))
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
    """The longest token sequence the text tower takes: its position table, or the tokenizer's own cap."""
    limits = []
    config = getattr(model, "config", None)
    for cfg in (getattr(config, "text_config", None), config):
        n = getattr(cfg, "max_position_embeddings", None)
        if isinstance(n, int) and n > 0:
            limits.append(n)
            break
    n = getattr(tokenizer, "model_max_length", None)
    if isinstance(n, int) and 0 < n < 1_000_000:
        limits.append(n)
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
            else:
                features = _as_tensor(self.model.get_text_features(**tokens))
            return torch.nn.functional.normalize(features.float(), dim=-1)

    # -- images ---------------------------------------------------------------
    def pixel_values(self, images: Sequence[np.ndarray]) -> torch.Tensor:
        """CLIP preprocessing, done with torch on the model's device.

        Shortest side resized to the model's input size (bicubic, antialiased,
        as PIL does), centre crop, scale to [0, 1], normalise. Images of the
        same shape are resized together in one call; on a GPU this moves all
        the per-pixel work off the CPU.
        """
        size = self.image_size
        out = torch.empty((len(images), 3, size, size), dtype=torch.float32, device=self.device)
        groups: Dict[Tuple[int, int], List[int]] = {}
        images = [_central_window(img) for img in images]
        for i, img in enumerate(images):
            groups.setdefault(img.shape[:2], []).append(i)
        for (h, w), idx in groups.items():
            batch = torch.from_numpy(np.stack([images[i] for i in idx]))
            batch = batch.to(self.device, non_blocking=True).permute(0, 3, 1, 2).float()
            # Same output size as transformers' CLIP processor: the long side
            # is truncated, not rounded.
            if h <= w:
                nh, nw = size, max(size, int(size * w / h))
            else:
                nh, nw = max(size, int(size * h / w)), size
            if (nh, nw) != (h, w):
                batch = torch.nn.functional.interpolate(
                    batch, size=(nh, nw), mode="bicubic", align_corners=False, antialias=True
                ).clamp_(0, 255)
            top, left = (nh - size) // 2, (nw - size) // 2
            out[idx] = batch[:, :, top : top + size, left : left + size]
        return ((out - self._mean) / self._std).to(self.dtype)

    def embed_pixels(self, pixel_values: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            if self.architecture == "eva":
                features = self.model.encode_image(pixel_values)
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
    already resolved :class:`ModelSource`.
    """
    spec = resolve_model(model, local_model_path)
    dev = select_device(device)
    dt = dtype or _default_dtype(dev)
    key = (spec.source, spec.architecture, str(dev), str(dt))
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            return cached
        with _quiet_transformers():
            if spec.architecture == "eva":
                loaded = _load_eva(spec.source, dev, dt, spec.local_only)
            else:
                loaded = _load_dual_encoder(spec.source, dev, dt, spec.local_only, spec.architecture)
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


def _load_dual_encoder(source, device, dtype, local_only, architecture) -> VisionLanguageModel:
    """CLIP-compatible transformers models, and jina-clip through its own remote code.

    jina-clip-v2 is multilingual: it must use its own XLM-RoBERTa tokenizer,
    which AutoTokenizer finds in its folder, never CLIP's, or non-English
    labels turn into unknown tokens.
    """
    from transformers import AutoModel, AutoTokenizer

    remote = {"trust_remote_code": True} if architecture == "jina" else {}
    # The dtype is applied after loading: transformers 4.x calls it
    # `torch_dtype`, 5.x `dtype`, and `.to()` means the same in both.
    try:
        model = AutoModel.from_pretrained(source, local_files_only=local_only, **remote)
    except OSError as exc:
        raise _load_error(source, local_only, exc) from None
    tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local_only, **remote)
    model = model.to(device=device, dtype=dtype).eval()
    vision = getattr(model.config, "vision_config", None)
    default_size = 512 if architecture == "jina" else 224
    size, mean, std = _read_preprocessing(source, local_only, getattr(vision, "image_size", default_size))
    logit_scale = model.logit_scale.exp().item() if hasattr(model, "logit_scale") else 100.0
    return VisionLanguageModel(model, tokenizer, device, dtype, size, mean, std, logit_scale, architecture)


def _load_eva(source, device, dtype, local_only) -> VisionLanguageModel:
    from transformers import AutoModel, CLIPTokenizer

    if device.type != "cuda" and os.environ.get("TRANSFOREMOTION_ALLOW_LARGE") != "1":
        raise ValueError(
            "eva-8B has 8 billion parameters. It is loaded in 4-bit (NF4) on a CUDA GPU, where it needs about "
            "6 GB of GPU memory. Without CUDA it would need about 16 GB in half precision (Apple MPS) or 32 GB "
            "in float32 (CPU). Use model='oai-large' on this machine, or set TRANSFOREMOTION_ALLOW_LARGE=1 if "
            "you have that much memory."
        )
    kwargs = dict(trust_remote_code=True, local_files_only=local_only)
    if device.type == "cuda":
        try:
            from transformers import BitsAndBytesConfig
            import bitsandbytes  # noqa: F401
        except ImportError:
            raise ImportError(
                "eva-8B on a GPU is loaded in 4-bit with bitsandbytes, which is not installed. "
                "Install the GPU extra: pip install 'transforemotion[gpu]'"
            ) from None
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.float16
        )
        kwargs["device_map"] = {"": device.index or 0}
        dtype = torch.float16
    kwargs["torch_dtype"] = dtype
    try:
        model = AutoModel.from_pretrained(source, **kwargs).eval()
    except OSError as exc:
        raise _load_error(source, local_only, exc) from None
    if device.type != "cuda":
        model = model.to(device)
    # EVA-CLIP-8B uses CLIP ViT-L/14's tokenizer and image statistics at 448 px.
    tokenizer_source = source if os.path.isfile(os.path.join(source, "tokenizer_config.json")) else "openai/clip-vit-large-patch14"
    tokenizer = CLIPTokenizer.from_pretrained(tokenizer_source, local_files_only=local_only)
    size, mean, std = _read_preprocessing(source, True, 448)
    logit_scale = model.logit_scale.exp().item() if hasattr(model, "logit_scale") else 100.0
    return VisionLanguageModel(model, tokenizer, device, dtype, size, mean, std, logit_scale, "eva")


def _load_error(source: str, local_only: bool, exc: Exception) -> Exception:
    if local_only:
        return ValueError(f"Could not load a model from {source}: {exc}")
    return OSError(
        f"Could not download or load {source!r} ({exc}). Check the internet connection and the model id, or "
        "download the model once and pass its folder as local_model_path."
    )

