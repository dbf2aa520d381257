"""The loader and its cache, and the loaded model behind one small interface.

:func:`load_model` is the one loader: it resolves the name
(:mod:`~transforemotion.models.registry`), checks the machine
(:mod:`~transforemotion.models.device`), asks the architecture's adapter
(:mod:`~transforemotion.models.architectures`) to load the weights, reads the
preprocessing (:mod:`~transforemotion.models.preprocess`), and keeps the
result in a cache whose key is spelled out: (source, architecture, device,
number type). :class:`VisionLanguageModel` turns label texts and RGB crops
into unit vectors, and scores them.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import torch

from ..core.errors import ArgumentError
from ..core.messages import warn
from . import hub
from .architectures import adapter_for
from .device import check_requirements, default_dtype
from .preprocess import ImagePreprocessor, PreprocessCfg, preprocess_cfg, preprocessor_config
from .prompts import apply_template
from .registry import resolve_model

__all__ = ["VisionLanguageModel", "load_model", "clear_model_cache", "quiet_transformers"]


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

    def __init__(self, model, tokenizer, device, dtype, preprocess_cfg: PreprocessCfg, logit_scale,
                 architecture: str):
        self.key = None  # the cache key, set by load_model
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.dtype = dtype
        self.preprocess_cfg = preprocess_cfg
        self.preprocess = ImagePreprocessor(preprocess_cfg, device, dtype)
        self.architecture = architecture
        self.adapter = adapter_for(architecture)
        self.logit_scale = float(logit_scale)
        self.max_text_tokens = _text_token_limit(model, tokenizer)
        self._text_cache: Dict[tuple, torch.Tensor] = {}
        self._lock = threading.Lock()

    @property
    def image_size(self) -> int:
        """The side, in pixels, of the square the image tower reads."""
        return self.preprocess_cfg.size

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
            features = self.adapter.encode_text(self.model, tokens)
            return torch.nn.functional.normalize(features.float(), dim=-1)

    # -- images ---------------------------------------------------------------
    def pixel_values(self, images: Sequence[np.ndarray]) -> torch.Tensor:
        """The model's input for RGB uint8 arrays (see :class:`~transforemotion.models.preprocess.ImagePreprocessor`)."""
        return self.preprocess(images)

    def embed_pixels(self, pixel_values: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            features = self.adapter.encode_image(self.model, pixel_values)
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
    announce: Optional[Callable[[str], None]] = None,
) -> VisionLanguageModel:
    """Load a model once per process; the cache key is (source, architecture, device, dtype).

    ``model`` is a name, id or folder as in :func:`resolve_model`, or an
    already resolved :class:`ModelSource`. What the model needs is checked
    first (:func:`check_requirements`). A folder is read as it is; a hub id is
    loaded from the local cache if it is there, and otherwise downloaded
    after one quick check that the hub answers (:mod:`transforemotion.models.hub`). ``announce``, if
    given, hears "loading model NAME…" when the model is not loaded yet (a load takes seconds).
    """
    spec = resolve_model(model, local_model_path)
    dev = check_requirements(spec, device)
    adapter = adapter_for(spec.architecture)
    quantized = adapter.quantizes and spec.needs.gpu and dev.type == "cuda"
    dt = torch.float16 if quantized else (dtype or default_dtype(dev))
    key = (spec.source, spec.architecture, str(dev), str(dt))
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            return cached
        said: list = []

        def attempt(local_only: bool, final: bool) -> VisionLanguageModel:
            config = preprocessor_config(spec.source, local_only, final)
            # Said where the model is there to load (a folder, the cache, or a download the hub answered for), so
            # a model that cannot be had fails in one line.
            if announce is not None and not said and (spec.local_only or not local_only
                                                      or hub.in_cache(spec.source, "config.json")):
                said.append(announce(f"loading model {spec.name}…"))
            # bfloat16 on a CPU is for the image tower alone: the text tower runs once per set of labels, and
            # in bfloat16 it moved scores 3.7 times as much as the image tower did (bench/bench_cpu_precision.py).
            image_only = dt == torch.bfloat16 and dev.type == "cpu"
            model, tokenizer = adapter.load(spec.source, dev, torch.float32 if image_only else dt, local_only, quantized)
            image_dtype = dt if not image_only or image_tower_to(model, dt) else torch.float32
            cfg = preprocess_cfg(config, _vision_size(model, adapter.default_image_size), spec.source)
            return VisionLanguageModel(model, tokenizer, dev, image_dtype, cfg, _logit_scale(model),
                                       spec.architecture)

        with quiet_transformers():
            if spec.local_only:
                try:
                    loaded = attempt(True, True)
                except OSError as exc:
                    raise ArgumentError(f"Could not load a model from {spec.source}: {exc}") from None
            else:
                loaded = hub.load_cache_first(spec.source, spec.name, attempt)
        loaded.key = key
        _CACHE[key] = loaded
        return loaded



@contextlib.contextmanager
def quiet_transformers():
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


def image_tower_to(model, dtype: torch.dtype) -> bool:
    """The image tower (the model's parts named vision... or visual..., in every architecture we load) in
    ``dtype``, the rest as it is; False where the model has no such part (then nothing is changed)."""
    towers = [module for name, module in model.named_children() if name.startswith(("vision", "visual"))]
    for module in towers:
        module.to(dtype)
    return bool(towers)


def _vision_size(model, default: int) -> int:
    size = getattr(getattr(model.config, "vision_config", None), "image_size", None)
    return size if isinstance(size, int) and size > 0 else default


def _logit_scale(model) -> float:
    return model.logit_scale.exp().item() if hasattr(model, "logit_scale") else 100.0
