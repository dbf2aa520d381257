"""Models: the registry of named models, what each needs, where it runs, and the one loader.

- :mod:`.registry`: named models as data; ``model=`` strings resolved to a :class:`ModelSource`.
- :mod:`.needs`: what a model needs (GPU, packages, transformers range) and whether this machine has it.
- :mod:`.hub`: the Hugging Face cache first, one quick reachability check, then a download.
- :mod:`.device`: the device and number type, chosen in one place.
- :mod:`.preprocess`: the image preprocessing as a small config object, applied with torch.
- :mod:`.architectures`: one adapter per architecture (clip, jina, eva): load, encode text, encode images.
- :mod:`.prompts`: label templates (prompt ensembling).
- :mod:`.loader`: :func:`load_model`, its cache, and :class:`VisionLanguageModel`.
"""

from .device import check_device_name, check_requirements, default_dtype, select_device
from .loader import VisionLanguageModel, clear_model_cache, load_model, quiet_transformers
from .prompts import TEMPLATE_SETS, apply_template, resolve_templates
from .registry import (ARCHITECTURES, ModelSource, ModelSpec, list_vision_models, register_vision_model,
                       resolve_model)

__all__ = [
    "ARCHITECTURES", "ModelSource", "ModelSpec", "TEMPLATE_SETS", "VisionLanguageModel", "apply_template",
    "check_device_name", "check_requirements", "clear_model_cache", "default_dtype", "list_vision_models", "load_model",
    "quiet_transformers", "register_vision_model", "resolve_model", "resolve_templates", "select_device",
]
