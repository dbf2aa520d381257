"""Small CLIP models built on the spot, for tests, examples and benchmarks.

Nothing here downloads anything: the models are made from a ``CLIPConfig``
with random weights and saved with ``save_pretrained``, so that they load
through ``local_model_path`` exactly as a downloaded model would.
"""

from __future__ import annotations

import json
import os

__all__ = ["build_tiny_clip", "build_clip_vit_b32"]


def _byte_symbols() -> list:
    """The 256 printable stand-ins that byte-level BPE uses for raw bytes."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(
        range(ord("®"), ord("ÿ") + 1)
    )
    symbols, extra = [], 0
    for b in range(256):
        if b in printable:
            symbols.append(chr(b))
        else:
            symbols.append(chr(256 + extra))
            extra += 1
    return symbols


def _byte_level_tokenizer(folder: str):
    """Write a CLIP tokenizer whose vocabulary is the 256 byte symbols.

    CLIP's tokenizer is byte-level BPE, so with every byte symbol in the
    vocabulary any label in any script (Cyrillic, CJK, emoji) tokenizes
    without unknown tokens. No merges are needed for tests.
    """
    from transformers import CLIPTokenizerFast

    symbols = _byte_symbols()
    vocab = {}
    for s in symbols:
        vocab[s] = len(vocab)
    for s in symbols:
        vocab[s + "</w>"] = len(vocab)
    for special in ("<|startoftext|>", "<|endoftext|>"):
        vocab[special] = len(vocab)
    import transformers

    if int(transformers.__version__.split(".")[0]) >= 5:
        tok = CLIPTokenizerFast(vocab=vocab, merges=[])
    else:  # 4.x reads the vocabulary from files only
        vocab_file = os.path.join(folder, "_vocab.json")
        merges_file = os.path.join(folder, "_merges.txt")
        with open(vocab_file, "w", encoding="utf-8") as fh:
            json.dump(vocab, fh)
        with open(merges_file, "w", encoding="utf-8") as fh:
            fh.write("#version: 0.2\n")
        tok = CLIPTokenizerFast(vocab_file=vocab_file, merges_file=merges_file)
        os.remove(vocab_file)
        os.remove(merges_file)
    return tok, len(vocab)


def _build(path: str, text: dict, vision: dict, projection_dim: int, seed: int) -> str:
    from .models import quiet_transformers

    # transformers shows a "Writing model shards" bar; a helper for tests and examples should be silent.
    with quiet_transformers():
        return _build_quietly(path, text, vision, projection_dim, seed)


def _build_quietly(path: str, text: dict, vision: dict, projection_dim: int, seed: int) -> str:
    import torch
    from transformers import CLIPConfig, CLIPModel

    os.makedirs(path, exist_ok=True)
    tokenizer, vocab_size = _byte_level_tokenizer(path)
    text = dict(text)
    text.setdefault("vocab_size", vocab_size)
    text.update(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    config = CLIPConfig(text_config=text, vision_config=vision, projection_dim=projection_dim)
    torch.manual_seed(seed)
    model = CLIPModel(config).eval()
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    size = vision["image_size"]
    with open(os.path.join(path, "preprocessor_config.json"), "w", encoding="utf-8") as fh:
        json.dump(
            {
                "image_processor_type": "CLIPImageProcessor",
                "do_resize": True,
                "size": {"shortest_edge": size},
                "do_center_crop": True,
                "crop_size": {"height": size, "width": size},
                "do_rescale": True,
                "rescale_factor": 1 / 255,
                "do_normalize": True,
                "image_mean": [0.48145466, 0.4578275, 0.40821073],
                "image_std": [0.26862954, 0.26130258, 0.27577711],
                "do_convert_rgb": True,
                "resample": 3,
            },
            fh,
            indent=2,
        )
    return path


def build_tiny_clip(path: str, image_size: int = 32, seed: int = 0) -> str:
    """Save a tiny random-weight CLIP model (a few hundred kB) to ``path``.

    Args:
        path: folder to write; created if missing.
        image_size: the model's input side in pixels.
        seed: torch seed for the random weights.

    Returns:
        ``path``, ready for ``local_model_path``.

    Example:
        >>> import tempfile, transforemotion as te
        >>> from transforemotion.testing import build_tiny_clip
        >>> model_dir = build_tiny_clip(tempfile.mkdtemp())
        >>> te.image_scores("face.jpg", ["joy", "anger"], local_model_path=model_dir)  # doctest: +SKIP
    """
    layer = dict(hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2)
    return _build(
        path,
        text=dict(layer, max_position_embeddings=77),
        vision=dict(layer, image_size=image_size, patch_size=8),
        projection_dim=16,
        seed=seed,
    )


def build_clip_vit_b32(path: str, seed: int = 0) -> str:
    """Save a model with openai/clip-vit-base-patch32's exact dimensions and random weights.

    Speed does not depend on the weights, so this stands in for the real
    model in benchmarks on machines that cannot reach a model hub.
    """
    return _build(
        path,
        text=dict(hidden_size=512, intermediate_size=2048, num_attention_heads=8, num_hidden_layers=12,
                  max_position_embeddings=77, vocab_size=49408),
        vision=dict(hidden_size=768, intermediate_size=3072, num_attention_heads=12, num_hidden_layers=12,
                    image_size=224, patch_size=32),
        projection_dim=512,
        seed=seed,
    )


def build_clip_vit_l14(path: str, seed: int = 0) -> str:
    """Save a model with openai/clip-vit-large-patch14's exact dimensions and random weights (for benchmarks)."""
    return _build(
        path,
        text=dict(hidden_size=768, intermediate_size=3072, num_attention_heads=12, num_hidden_layers=12,
                  max_position_embeddings=77, vocab_size=49408),
        vision=dict(hidden_size=1024, intermediate_size=4096, num_attention_heads=16, num_hidden_layers=24,
                    image_size=224, patch_size=14),
        projection_dim=768,
        seed=seed,
    )
