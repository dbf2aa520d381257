"""Write stand-in model folders that load through ``trust_remote_code``, as the real models do.

``build_jina_like`` and ``build_eva_like`` write what the real hub folders hold
(config.json with ``auto_map``, the remote-code modules, weights saved with
``save_pretrained``, tokenizer and preprocessing files where the real model
has them), so that the loader under test cannot tell them from the real ones
by their layout. ``put_in_hub_cache`` files a folder into a Hugging Face cache
directory under a repository id, as a download would.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _transformers_major() -> int:
    import transformers

    return int(transformers.__version__.split(".")[0])


# jina-clip's remote code (and so its stand-in) imports names transformers 5 removed.
TRANSFORMERS_5 = _transformers_major() >= 5

# --- jina-clip-v2 stand-in ------------------------------------------------------

# XLM-RoBERTa's special tokens and their ids.
XLMR_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
PAD_ID, UNK_ID = 1, 3

# Labels in several scripts; every character in them is in the stand-in's
# vocabulary, as it is in jina's 250,002-piece sentencepiece vocabulary.
MULTILINGUAL_LABELS = {
    "en": ["joy", "anger", "surprise", "sadness", "fear", "disgust"],
    "zh": ["喜悦", "愤怒", "惊讶", "悲伤", "恐惧", "厌恶"],
    "ar": ["فرح", "غضب", "مفاجأة", "حزن", "خوف", "اشمئزاز"],
    "ru": ["радость", "гнев", "удивление", "грусть", "страх", "отвращение"],
}

# The text tower's position table: XLM-RoBERTa counts positions from
# pad_token_id + 1, so the longest text it reads is 34 - 2 = 32 tokens,
# far fewer than the tokenizer's model_max_length below.
JINA_MAX_POSITIONS = 34
JINA_TOKENIZER_MAX_LENGTH = 512

# jina ships preprocessor_config.json in the format of its own image processor
# (keys size / mean / std / resize_mode / interpolation / fill_color, not
# CLIPImageProcessor's image_mean / crop_size). The stand-in keeps that format
# but its mean and std differ from OpenAI's on purpose, so that a loader
# which ignores the file (and falls back to CLIP's statistics) is caught.
JINA_MEAN = [0.5, 0.45, 0.4]
JINA_STD = [0.2, 0.25, 0.3]

# Where the real jina-clip-v2 folder's auto_map points: code in another hub
# repository, nothing in the folder itself.
JINA_HUB_CODE = "jinaai/jina-clip-implementation"


def _unigram_tokenizer():
    """An XLM-R-style unigram tokenizer (metaspace pre-tokenizer, <s> ... </s>) with every label's characters."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    words = sorted({w for labels in MULTILINGUAL_LABELS.values() for w in labels})
    chars = sorted({c for w in words for c in w} | set("abcdefghijklmnopqrstuvwxyz0123456789 .,'-{}"))
    pieces = [(s, 0.0) for s in XLMR_SPECIALS] + [("▁", -2.0)]
    pieces += [("▁" + w, -3.0) for w in words]  # whole words score best
    pieces += [(c, -6.0) for c in chars if c != " "]
    pieces += [("<mask>", 0.0)]
    tokenizer = Tokenizer(models.Unigram(pieces, unk_id=UNK_ID))
    tokenizer.normalizer = normalizers.NFKC()
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    return tokenizer, len(pieces)


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def jina_config(vocab_size: int, code: str = "local") -> dict:
    prefix = "" if code == "local" else JINA_HUB_CODE + "--"
    return {
        "architectures": ["JinaLikeModel"],
        "auto_map": {
            "AutoConfig": prefix + "configuration_jina_like.JinaLikeConfig",
            "AutoModel": prefix + "modeling_jina_like.JinaLikeModel",
        },
        "model_type": "jina_clip",
        "logit_scale_init_value": 4.6052,
        "text_config": {
            "embed_dim": 16,
            "hf_model_config_kwargs": {"vocab_size": vocab_size, "hidden_size": 24,
                                       "max_position_embeddings": JINA_MAX_POSITIONS, "pad_token_id": PAD_ID},
            "pooler_type": "mean_pooler",
        },
        "vision_config": {"embed_dim": 16, "width": 24, "image_size": 512, "patch_size": 64},
        "torch_dtype": "float32",
    }


def build_jina_like(folder, seed: int = 0, weights: bool = True, code: str = "local") -> str:
    """A jina-clip-v2 stand-in folder.

    Args:
        folder: where to write (created).
        seed: torch seed for the random weights.
        weights: write model.safetensors. The modeling module imports names
            transformers 5 removed, so weights can only be made under 4.x;
            folders for 5.x tests (which check the refusal) go without.
        code: ``"local"``: the remote-code modules sit in the folder, as in a
            folder saved with ``save_pretrained``; ``"hub"``: ``auto_map``
            points at a code repository on the hub, as in the real
            jina-clip-v2 download, and the folder holds no code.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer, vocab_size = _unigram_tokenizer()
    config = jina_config(vocab_size, code)
    if weights:
        import torch

        from .jina_like.configuration_jina_like import JinaLikeConfig
        from .jina_like.modeling_jina_like import JinaLikeModel

        torch.manual_seed(seed)
        JinaLikeModel(JinaLikeConfig(**config)).eval().save_pretrained(str(folder))
    if code == "local":
        for name in ("configuration_jina_like.py", "modeling_jina_like.py"):
            shutil.copy(HERE / "jina_like" / name, folder / name)
    _write_json(folder / "config.json", config)
    tokenizer.save(str(folder / "tokenizer.json"))
    specials = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
                "cls_token": "<s>", "pad_token": "<pad>", "mask_token": "<mask>"}
    _write_json(folder / "special_tokens_map.json", specials)
    _write_json(folder / "tokenizer_config.json", {"tokenizer_class": "XLMRobertaTokenizer",
                                                   "model_max_length": JINA_TOKENIZER_MAX_LENGTH,
                                                   "clean_up_tokenization_spaces": True, **specials})
    _write_json(folder / "preprocessor_config.json", {
        "image_processor_type": "JinaCLIPImageProcessor",
        "processor_class": "JinaCLIPProcessor",
        "size": 512,
        "mean": JINA_MEAN,
        "std": JINA_STD,
        "resize_mode": "shortest",
        "interpolation": "bicubic",
        "fill_color": 0,
    })
    return str(folder)


# --- EVA-CLIP-8B-448 stand-in -------------------------------------------------------

EVA_IMAGE_SIZE = 448
EVA_TOKENIZER_REPO = "openai/clip-vit-large-patch14"


def write_clip_tokenizer(folder) -> int:
    """Save a byte-level CLIP tokenizer (every script tokenizes) to ``folder``; returns its vocabulary size."""
    from transforemotion.testing import _byte_level_tokenizer

    os.makedirs(folder, exist_ok=True)
    tokenizer, vocab_size = _byte_level_tokenizer(str(folder))
    tokenizer.save_pretrained(str(folder))
    return vocab_size


def eva_config(vocab_size: int) -> dict:
    return {
        "architectures": ["EvaCLIPModel"],
        "auto_map": {"AutoConfig": "configuration_evaclip.EvaCLIPConfig", "AutoModel": "modeling_evaclip.EvaCLIPModel"},
        "model_type": "clip",
        "projection_dim": 16,
        "logit_scale_init_value": 4.6052,
        # CLIP's tokenizer gives start- and end-of-text the two largest ids.
        "text_config": {"vocab_size": vocab_size, "hidden_size": 24, "max_position_embeddings": 77,
                        "bos_token_id": vocab_size - 2, "eos_token_id": vocab_size - 1,
                        "pad_token_id": vocab_size - 1},
        "vision_config": {"hidden_size": 24, "image_size": EVA_IMAGE_SIZE, "patch_size": 64},
        "torch_dtype": "float32",
    }


def build_eva_like(folder, seed: int = 0, tokenizer: bool = False) -> str:
    """An EVA-CLIP-8B-448 stand-in folder: no preprocessor_config.json, and (like the real one) no tokenizer
    unless ``tokenizer=True``, in which case the byte-level CLIP tokenizer is written into it."""
    import torch

    from .eva_like.configuration_evaclip import EvaCLIPConfig
    from .eva_like.modeling_evaclip import EvaCLIPModel

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    vocab_size = write_clip_tokenizer(folder) if tokenizer else _clip_vocab_size()
    config = eva_config(vocab_size)
    torch.manual_seed(seed)
    EvaCLIPModel(EvaCLIPConfig(**config)).eval().save_pretrained(str(folder))
    for name in ("configuration_evaclip.py", "modeling_evaclip.py"):
        shutil.copy(HERE / "eva_like" / name, folder / name)
    _write_json(folder / "config.json", config)
    return str(folder)


def _clip_vocab_size() -> int:
    from transforemotion.testing import _byte_symbols

    return 2 * len(_byte_symbols()) + 2


# --- a Hugging Face cache on disk -------------------------------------------------------

def put_in_hub_cache(hub_cache, repo_id: str, folder, revision: str = "0" * 40) -> str:
    """File the contents of ``folder`` in ``hub_cache`` (the layout of HF_HUB_CACHE) as ``repo_id``'s main revision."""
    repo_dir = Path(hub_cache) / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo_dir / "snapshots" / revision
    shutil.copytree(folder, snapshot, dirs_exist_ok=True)
    (repo_dir / "refs").mkdir(parents=True, exist_ok=True)
    (repo_dir / "refs" / "main").write_text(revision, encoding="utf-8")
    return str(snapshot)
