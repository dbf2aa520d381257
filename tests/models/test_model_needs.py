"""What each model needs, read without downloading, and the refusals that come before any download."""

import importlib.util
import os

import pytest

import transforemotion as te
from transforemotion import models
from transforemotion.core.messages import caller
from .remote_code.build import TRANSFORMERS_5, build_jina_like

JINA_PACKAGES = ("einops", "timm", "torchvision")


def _missing(packages):
    return [p for p in packages if importlib.util.find_spec(p) is None]


@pytest.fixture
def offline_hub(monkeypatch):
    """Any attempt to reach the hub would fail: a refusal seen under this came before hub access."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def test_list_vision_models_says_what_each_model_needs():
    table = te.list_vision_models()
    assert list(table) == ["name", "model_id", "architecture", "description", "gpu", "memory_gb", "packages",
                           "transformers", "available", "reason"]
    row = {name: {k: v[i] for k, v in table.items()} for i, name in enumerate(table["name"])}
    assert row["oai-base"]["gpu"] is False and row["oai-base"]["packages"] == ""
    assert row["oai-base"]["available"] is True and row["oai-base"]["reason"] == ""
    assert row["eva-8B"]["gpu"] is True
    assert row["eva-8B"]["packages"] == "bitsandbytes, accelerate"
    assert row["jina-v2"]["packages"] == "einops, timm, torchvision"
    assert row["jina-v2"]["transformers"] == ">=4.52,<5"
    for name in ("oai-base", "oai-large", "eva-8B", "jina-v2"):
        assert 0 < row[name]["memory_gb"] < 40


def test_availability_follows_this_environment(monkeypatch):
    monkeypatch.delenv("TRANSFOREMOTION_ALLOW_LARGE", raising=False)
    import torch

    table = te.list_vision_models()
    row = {name: i for i, name in enumerate(table["name"])}
    jina = row["jina-v2"]
    jina_missing = _missing(JINA_PACKAGES)
    assert table["available"][jina] is (not TRANSFORMERS_5 and not jina_missing)
    assert ("transformers>=4.52,<5" in table["reason"][jina]) is TRANSFORMERS_5
    for package in jina_missing:
        assert package in table["reason"][jina]
    eva = row["eva-8B"]
    if not torch.cuda.is_available():
        assert table["available"][eva] is False and "CUDA GPU" in table["reason"][eva]
        monkeypatch.setenv("TRANSFOREMOTION_ALLOW_LARGE", "1")
        assert te.list_vision_models()["available"][eva] is True


def test_a_registered_folder_is_described_from_its_files(jina_folder, eva_folder):
    try:
        te.register_vision_model("jina-folder", jina_folder, "jina")
        te.register_vision_model("eva-folder", eva_folder)
        table = te.list_vision_models()
        jina, eva = table["name"].index("jina-folder"), table["name"].index("eva-folder")
        # The stand-in's own code imports einops only (not timm or torchvision, as jina's does).
        assert table["packages"][jina] == "einops"
        assert table["architecture"][eva] == "clip" and table["gpu"][eva] is False
        assert table["packages"][eva] == "" and table["available"][eva] is True
        assert table["memory_gb"][eva] == 0.1  # the smallest figure given: a few hundred kB of weights
    finally:
        models.registry._REGISTRY.pop("jina-folder", None)
        models.registry._REGISTRY.pop("eva-folder", None)


def test_jina_by_name_is_refused_when_something_is_missing(offline_hub, tmp_path):
    if not TRANSFORMERS_5 and not _missing(JINA_PACKAGES):
        pytest.skip("this environment has everything jina-v2 needs")
    with pytest.raises(ImportError) as refused:
        te.image_scores(str(tmp_path / "not-read.jpg"), ["joy", "anger"], model="jina-v2")
    message = str(refused.value)
    assert 'pip install "transforemotion[jina]"' in message
    assert ("transformers>=4.52,<5" in message) is TRANSFORMERS_5
    for package in _missing(JINA_PACKAGES):
        assert package in message


def test_a_jina_folder_whose_code_lives_on_the_hub_needs_all_of_jinas_packages(offline_hub, tmp_path):
    """The real jina-clip-v2 folder holds no code (auto_map names jinaai/jina-clip-implementation): assume it all."""
    folder = build_jina_like(tmp_path / "jina-hub-code", weights=False, code="hub")
    missing = _missing(JINA_PACKAGES)
    if not TRANSFORMERS_5 and not missing:
        pytest.skip("this environment has everything jina-clip needs")
    with pytest.raises(ImportError) as refused:
        models.resolve_model(local_model_path=folder)
    for package in missing:
        assert package in str(refused.value)


def test_jina_by_name_passes_the_check_where_everything_is_installed(tmp_path, monkeypatch):
    """With einops, timm and torchvision importable, only the transformers version can stop jina-v2."""
    for package in JINA_PACKAGES:
        os.makedirs(tmp_path / "site" / package)
        (tmp_path / "site" / package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    if TRANSFORMERS_5:
        with pytest.raises(ImportError, match=r"transformers>=4\.52,<5 \(this environment has 5") as refused:
            models.resolve_model("jina-v2")
        assert "not installed" not in str(refused.value)
    else:
        source = models.resolve_model("jina-v2")
        assert (source.source, source.architecture, source.local_only) == ("jinaai/jina-clip-v2", "jina", False)


def test_eva_8b_without_cuda_is_refused_before_any_picture_is_read(offline_hub, tmp_path, monkeypatch):
    monkeypatch.delenv("TRANSFOREMOTION_ALLOW_LARGE", raising=False)
    with pytest.raises(ValueError, match=r"4-bit.*CUDA GPU.*6 GB.*32 GB.*oai-large.*TRANSFOREMOTION_ALLOW_LARGE=1"):
        te.image_scores(str(tmp_path / "not-read.jpg"), ["joy", "anger"], model="eva-8B", device="cpu")
    with caller("r"), pytest.raises(ValueError, match='model = "oai-large"'):
        models.check_requirements(models.resolve_model("eva-8B"), "cpu")
    monkeypatch.setenv("TRANSFOREMOTION_ALLOW_LARGE", "1")
    assert models.check_requirements(models.resolve_model("eva-8B"), "cpu").type == "cpu"


def test_a_large_eva_folder_is_treated_like_eva_8b(eva_folder, tmp_path, monkeypatch):
    """Weights over 2 GB mean the 4-bit GPU path; a sparse file stands in for 3 GB of weights."""
    import shutil

    monkeypatch.delenv("TRANSFOREMOTION_ALLOW_LARGE", raising=False)
    folder = tmp_path / "eva-large"
    shutil.copytree(eva_folder, folder)
    with open(folder / "model-00002-of-00002.safetensors", "wb") as fh:
        fh.truncate(3 * 10**9)
    source = models.resolve_model(local_model_path=str(folder))
    assert source.needs.gpu and source.needs.gpu_packages == ("bitsandbytes", "accelerate")
    with pytest.raises(ValueError, match="4-bit.*CUDA"):
        te.image_scores(str(tmp_path / "not-read.jpg"), ["joy", "anger"], local_model_path=str(folder),
                        device="cpu")


def test_a_hub_id_of_a_registered_model_is_that_model():
    source = models.resolve_model("BAAI/EVA-CLIP-8B-448")
    assert source.architecture == "eva" and source.needs.gpu


def test_eva_8b_on_a_gpu_needs_bitsandbytes_and_accelerate():
    """Checked against a CUDA device object (torch makes one without a GPU); nothing is loaded."""
    import torch

    from transforemotion.models.needs import check_device

    missing = _missing(("bitsandbytes", "accelerate"))
    if not missing:
        pytest.skip("bitsandbytes and accelerate are installed here")
    source = models.resolve_model("eva-8B")
    with pytest.raises(ImportError, match=r'4-bit.*pip install "transforemotion\[gpu\]"') as refused:
        check_device(source.needs, source.name, torch.device("cuda"))
    for package in missing:
        assert package in str(refused.value)
