"""jina-clip-v2 and EVA-CLIP-8B-448 through their own remote code (stand-ins we wrote), as users load them.

Each stand-in folder is loaded through ``local_model_path`` and through a
registered name, with ``trust_remote_code``; its scores are compared with a
reference computed here from the stand-in's own modules, its weights file,
its tokenizer file and plain numpy preprocessing, not through the loader.
"""

import json
import math
import os

import numpy as np
import pytest
import torch
from PIL import Image

import transforemotion as te
from transforemotion import models
from .remote_code.build import (EVA_IMAGE_SIZE, JINA_MAX_POSITIONS, MULTILINGUAL_LABELS, PAD_ID, TRANSFORMERS_5,
                               UNK_ID)

needs_transformers_4 = pytest.mark.skipif(TRANSFORMERS_5, reason="jina-clip's remote code needs transformers < 5")
needs_transformers_5 = pytest.mark.skipif(not TRANSFORMERS_5, reason="checks the refusal under transformers 5")

OPENAI_MEAN = np.array([0.48145466, 0.4578275, 0.40821073])
OPENAI_STD = np.array([0.26862954, 0.26130258, 0.27577711])
LABELS = [label for labels in MULTILINGUAL_LABELS.values() for label in labels[:3]]


# --- the reference: the stand-in's own modules, its files, plain numpy ----------------------

def _stand_in(folder, config_class, model_class):
    from safetensors.torch import load_file

    with open(os.path.join(folder, "config.json"), encoding="utf-8") as fh:
        model = model_class(config_class(**json.load(fh)))
    model.load_state_dict(load_file(os.path.join(folder, "model.safetensors")))
    return model.eval()


def _token_ids(tokenizer_json, text):
    from tokenizers import Tokenizer

    return torch.tensor([Tokenizer.from_file(tokenizer_json).encode(text).ids])


def _pixels(path, mean, std):
    """A picture already at the model's input size: scale to [0, 1], normalise, channels first."""
    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64) / 255.0
    return torch.tensor(((rgb - mean) / std).transpose(2, 0, 1)[None], dtype=torch.float32)


def _unit(x):
    return torch.nn.functional.normalize(x.float(), dim=-1)


def _probabilities(model, image_features, text_features):
    logits = math.exp(model.logit_scale.item()) * _unit(image_features) @ _unit(text_features).T
    return torch.softmax(logits.double(), dim=-1)[0].numpy()


def _jina_reference(folder, picture, labels):
    from .remote_code.jina_like.configuration_jina_like import JinaLikeConfig
    from .remote_code.jina_like.modeling_jina_like import JinaLikeModel

    with open(os.path.join(folder, "preprocessor_config.json"), encoding="utf-8") as fh:
        pre = json.load(fh)
    model = _stand_in(folder, JinaLikeConfig, JinaLikeModel)
    tokenizer_json = os.path.join(folder, "tokenizer.json")
    with torch.no_grad():
        texts = torch.cat([model.get_text_features(_token_ids(tokenizer_json, t)) for t in labels])
        image = model.get_image_features(_pixels(picture, np.array(pre["mean"]), np.array(pre["std"])))
    return _unit(texts), _unit(image), _probabilities(model, image, texts)


def _eva_reference(folder, picture, labels):
    from .remote_code.eva_like.configuration_evaclip import EvaCLIPConfig
    from .remote_code.eva_like.modeling_evaclip import EvaCLIPModel

    model = _stand_in(folder, EvaCLIPConfig, EvaCLIPModel)
    tokenizer_json = os.path.join(folder, "tokenizer.json")
    with torch.no_grad():
        texts = torch.cat([model.encode_text(_token_ids(tokenizer_json, t)) for t in labels])
        pixels = _pixels(picture, OPENAI_MEAN, OPENAI_STD)
        image = model.encode_image(pixels)
    return _unit(texts), _unit(image), _probabilities(model, image, texts), pixels


def _scores(picture, labels, **kw):
    table = te.image_scores(picture, labels, face_selection="none", device="cpu", **kw)
    return np.array([table[label][0] for label in labels])


@pytest.fixture
def registered():
    names = []

    def register(name, folder, architecture="clip"):
        te.register_vision_model(name, folder, architecture)
        names.append(name)
        return name

    yield register
    for name in names:
        models.registry._REGISTRY.pop(name, None)


# --- jina-clip-v2 ----------------------------------------------------------------------

@needs_transformers_4
def test_jina_loads_its_own_classes_tokenizer_and_preprocessing(jina_folder):
    vlm = models.load_model(local_model_path=jina_folder, device="cpu")
    assert vlm.architecture == "jina"
    assert type(vlm.model).__module__.startswith("transformers_modules.")  # built from the folder's code
    assert type(vlm.model).__name__ == "JinaLikeModel"
    assert "XLMRoberta" in type(vlm.tokenizer).__name__  # its own tokenizer, not CLIP's
    assert vlm.image_size == 512
    with open(os.path.join(jina_folder, "preprocessor_config.json"), encoding="utf-8") as fh:
        pre = json.load(fh)
    np.testing.assert_allclose(vlm.preprocess_cfg.mean, pre["mean"], rtol=1e-6)
    np.testing.assert_allclose(vlm.preprocess_cfg.std, pre["std"], rtol=1e-6)
    # ... and what the image preprocessor applies on the device, on the 0-255 scale.
    np.testing.assert_allclose(vlm.preprocess._mean.flatten().cpu().numpy() / 255, pre["mean"], rtol=1e-6)


@needs_transformers_4
def test_jina_multilingual_labels_are_real_tokens_with_distinct_embeddings(jina_folder):
    vlm = models.load_model(local_model_path=jina_folder, device="cpu")
    labels = [label for labels in MULTILINGUAL_LABELS.values() for label in labels]
    for ids in vlm.tokenizer(labels)["input_ids"]:
        assert UNK_ID not in ids
    embeddings = vlm.embed_texts(labels)
    similarity = (embeddings @ embeddings.T).cpu().numpy()
    off_diagonal = similarity[~np.eye(len(labels), dtype=bool)]
    assert off_diagonal.max() < 0.9999, "two labels share an embedding"


@needs_transformers_4
def test_jina_scores_equal_the_reference_by_folder_and_by_registered_name(jina_folder, pictures, registered):
    texts, image, expected = _jina_reference(jina_folder, pictures[512], LABELS)
    vlm = models.load_model(local_model_path=jina_folder, device="cpu")
    # A padded batch gives each label what it gets alone: the model's own pad mask works with our padding.
    torch.testing.assert_close(vlm.embed_texts(LABELS).cpu(), texts, atol=1e-5, rtol=0)
    torch.testing.assert_close(vlm.embed_images([np.asarray(Image.open(pictures[512]).convert("RGB"))]).cpu(),
                               image, atol=1e-5, rtol=0)
    np.testing.assert_allclose(_scores(pictures[512], LABELS, local_model_path=jina_folder), expected, atol=1e-5)

    models.clear_model_cache()
    as_jina = registered("jina-stand-in", jina_folder, "jina")
    as_detected = registered("jina-stand-in-detected", jina_folder)  # "clip" registration: config.json says jina
    for name in (as_jina, as_detected):
        assert models.resolve_model(name).architecture == "jina"
        np.testing.assert_allclose(_scores(pictures[512], LABELS, model=name), expected, atol=1e-5)


@needs_transformers_4
def test_jina_resizes_other_pictures_to_512(jina_folder, pictures):
    vlm = models.load_model(local_model_path=jina_folder, device="cpu")
    portrait = np.asarray(Image.open(pictures["portrait"]).convert("RGB"))
    assert tuple(vlm.pixel_values([portrait]).shape) == (1, 3, 512, 512)
    scores = _scores(pictures["portrait"], LABELS[:3], local_model_path=jina_folder)
    assert scores.sum() == pytest.approx(1.0)


@needs_transformers_4
def test_jina_reads_no_more_tokens_than_its_position_table_holds(jina_folder):
    vlm = models.load_model(local_model_path=jina_folder, device="cpu")
    # XLM-RoBERTa positions start at pad_token_id + 1; the tokenizer alone would allow 512.
    assert vlm.max_text_tokens == JINA_MAX_POSITIONS - PAD_ID - 1
    long_label = " ".join(["joy"] * 60)
    with pytest.warns(te.TransforemotionWarning, match="longer than the 32 tokens"):
        embedding = vlm.embed_texts([long_label, "anger"])
    assert torch.isfinite(embedding).all()


@needs_transformers_5
def test_jina_is_refused_under_transformers_5_before_any_picture_is_read(jina_folder, registered, tmp_path):
    missing_picture = str(tmp_path / "not-read.jpg")
    for kw in ({"local_model_path": jina_folder}, {"model": registered("jina-stand-in", jina_folder, "jina")},
               {"model": "jina-v2"}):
        with pytest.raises(ImportError, match=r'transformers>=4\.52,<5.*pip install "transforemotion\[jina\]"'):
            te.image_scores(missing_picture, ["joy", "anger"], **kw)


@needs_transformers_5
def test_the_refusal_under_transformers_5_is_needed(jina_folder):
    """Without the refusal, transformers 5 fails inside the remote code, as it does with jina's."""
    import importlib
    import importlib.util

    from transformers import AutoModel

    with pytest.raises(ImportError, match="clip_loss"):
        importlib.import_module(__package__ + ".remote_code.jina_like.modeling_jina_like")
    if importlib.util.find_spec("einops") is not None:  # else transformers stops at the missing einops first
        with pytest.raises(ImportError, match="clip_loss|create_position_ids_from_input_ids"):
            AutoModel.from_pretrained(jina_folder, trust_remote_code=True, local_files_only=True)


# --- EVA-CLIP-8B-448 ---------------------------------------------------------------------

def test_eva_loads_its_own_classes_not_a_clip_model(eva_folder_with_tokenizer):
    import transformers

    with open(os.path.join(eva_folder_with_tokenizer, "config.json"), encoding="utf-8") as fh:
        assert json.load(fh)["model_type"] == "clip"  # as EVA-CLIP-8B-448's
    vlm = models.load_model(local_model_path=eva_folder_with_tokenizer, device="cpu")
    assert vlm.architecture == "eva"
    assert not isinstance(vlm.model, transformers.CLIPModel)
    assert type(vlm.model).__module__.startswith("transformers_modules.")
    assert not hasattr(vlm.model, "get_text_features")
    assert vlm.image_size == EVA_IMAGE_SIZE


def test_eva_scores_equal_the_reference_at_448_px_with_openai_statistics(eva_folder_with_tokenizer, pictures,
                                                                         registered):
    folder = eva_folder_with_tokenizer
    texts, image, expected, pixels = _eva_reference(folder, pictures[EVA_IMAGE_SIZE], LABELS)
    vlm = models.load_model(local_model_path=folder, device="cpu")
    picture = np.asarray(Image.open(pictures[EVA_IMAGE_SIZE]).convert("RGB"))
    torch.testing.assert_close(vlm.pixel_values([picture]).cpu(), pixels, atol=1e-5, rtol=0)
    torch.testing.assert_close(vlm.embed_texts(LABELS).cpu(), texts, atol=1e-5, rtol=0)
    torch.testing.assert_close(vlm.embed_images([picture]).cpu(), image, atol=1e-5, rtol=0)
    np.testing.assert_allclose(_scores(pictures[EVA_IMAGE_SIZE], LABELS, local_model_path=folder), expected,
                               atol=1e-5)

    models.clear_model_cache()
    for name in (registered("eva-stand-in", folder, "eva"), registered("eva-stand-in-detected", folder)):
        assert models.resolve_model(name).architecture == "eva"
        np.testing.assert_allclose(_scores(pictures[EVA_IMAGE_SIZE], LABELS, model=name), expected, atol=1e-5)


def test_eva_resizes_other_pictures_to_448(eva_folder_with_tokenizer, pictures):
    vlm = models.load_model(local_model_path=eva_folder_with_tokenizer, device="cpu")
    portrait = np.asarray(Image.open(pictures["portrait"]).convert("RGB"))
    assert tuple(vlm.pixel_values([portrait]).shape) == (1, 3, EVA_IMAGE_SIZE, EVA_IMAGE_SIZE)
    assert _scores(pictures["portrait"], LABELS[:3], local_model_path=eva_folder_with_tokenizer).sum() == \
        pytest.approx(1.0)


def test_small_eva_runs_on_a_cpu_without_the_large_model_switch(eva_folder_with_tokenizer, monkeypatch):
    monkeypatch.delenv("TRANSFOREMOTION_ALLOW_LARGE", raising=False)
    source = models.resolve_model(local_model_path=eva_folder_with_tokenizer)
    assert not source.needs.gpu and source.needs.packages == () and source.needs.gpu_packages == ()
    assert models.load_model(source, device="cpu").architecture == "eva"
