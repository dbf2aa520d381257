"""One adapter per architecture: how each family is loaded, and how it embeds text and pixels.

The loader and :class:`~transforemotion.models.loader.VisionLanguageModel`
never branch on the architecture's name; they ask its adapter here:

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

import os
from typing import Dict, Tuple

import torch

from ..core.errors import ArgumentError
from . import hub
from .registry import ARCHITECTURES

__all__ = ["Adapter", "ADAPTERS", "adapter_for", "as_tensor"]


def as_tensor(output) -> torch.Tensor:
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


class Adapter:
    """How one architecture is loaded and called. Subclasses fill in the three methods."""

    name = ""
    default_image_size = 224
    # Whether large weights are loaded in 4-bit NF4 on a CUDA GPU.
    quantizes = False

    def load(self, source: str, device: torch.device, dtype: torch.dtype, local_only: bool,
             quantized: bool) -> Tuple[object, object]:
        """The model (on ``device``, in eval mode) and its tokenizer."""
        raise NotImplementedError

    def encode_text(self, model, tokens: Dict[str, torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def encode_image(self, model, pixel_values: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


def _load_dual_encoder(source, device, dtype, local_only, remote: bool):
    from transformers import AutoModel, AutoTokenizer

    options = {"trust_remote_code": True} if remote else {}
    tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local_only, **options)
    # The dtype is applied after loading: transformers 4.x calls it
    # `torch_dtype`, 5.x `dtype`, and `.to()` means the same in both.
    model = AutoModel.from_pretrained(source, local_files_only=local_only, **options)
    return model.to(device=device, dtype=dtype).eval(), tokenizer


class ClipAdapter(Adapter):
    """Any CLIP-compatible transformers model."""

    name = "clip"

    def load(self, source, device, dtype, local_only, quantized):
        return _load_dual_encoder(source, device, dtype, local_only, remote=False)

    def encode_text(self, model, tokens):
        return as_tensor(model.get_text_features(**tokens))

    def encode_image(self, model, pixel_values):
        return as_tensor(model.get_image_features(pixel_values=pixel_values))


class JinaAdapter(Adapter):
    """jina-clip through its own remote code.

    jina-clip-v2 is multilingual: it must use its own XLM-RoBERTa tokenizer,
    which AutoTokenizer finds in its folder, never CLIP's, or non-English
    labels turn into unknown tokens.
    """

    name = "jina"
    default_image_size = 512

    def load(self, source, device, dtype, local_only, quantized):
        return _load_dual_encoder(source, device, dtype, local_only, remote=True)

    def encode_text(self, model, tokens):
        # jina's get_text_features(input_ids, *_, **__) drops any mask
        # and makes its own from the pad id, so only the ids are passed.
        return as_tensor(model.get_text_features(tokens["input_ids"]))

    def encode_image(self, model, pixel_values):
        return as_tensor(model.get_image_features(pixel_values))


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
    raise ArgumentError(
        f"{source} has no tokenizer, and EVA-CLIP reads text with CLIP ViT-L/14's ({EVA_TOKENIZER}), which is "
        f"not in the local Hugging Face cache either. Copy that tokenizer's files ({', '.join(TOKENIZER_FILES)}, "
        "merges.txt, special_tokens_map.json) into the folder, or load it once with internet access so that it "
        "is cached."
    )


class EvaAdapter(Adapter):
    """EVA-CLIP through its own remote code: 4-bit NF4 on a CUDA GPU when large, as it is otherwise.

    Its config.json says ``model_type: "clip"``, so only ``trust_remote_code``
    makes transformers build the EVA classes named in ``auto_map`` rather than
    a CLIPModel with mismatched (random) weights.
    """

    name = "eva"
    default_image_size = 448
    quantizes = True

    def load(self, source, device, dtype, local_only, quantized):
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
        return model, tokenizer

    def encode_text(self, model, tokens):
        return model.encode_text(tokens["input_ids"])

    def encode_image(self, model, pixel_values):
        return model.encode_image(pixel_values)


ADAPTERS: Dict[str, Adapter] = {a.name: a for a in (ClipAdapter(), JinaAdapter(), EvaAdapter())}
assert tuple(ADAPTERS) == ARCHITECTURES, "every registered architecture needs its adapter"


def adapter_for(architecture: str) -> Adapter:
    return ADAPTERS[architecture]
