"""bfloat16 on CPUs with AMX, float32 elsewhere: chosen by the CPU's flags, overridable, and close to float32."""

import numpy as np
import pytest
import torch

import transforemotion as te
from transforemotion import models
from transforemotion.models import device

CLASSES = ["joy", "anger", "surprise", "fear"]


def cpuinfo(tmp_path, flags):
    path = tmp_path / "cpuinfo"
    path.write_text(f"processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: {flags}\n\nprocessor\t: 1\nflags\t\t: {flags}\n")
    return str(path)


def test_the_amx_flag_is_read_from_cpuinfo(tmp_path):
    assert device.cpu_has_amx_bf16(cpuinfo(tmp_path, "fpu sse2 avx512f amx_bf16 amx_tile amx_int8"))
    assert not device.cpu_has_amx_bf16(cpuinfo(tmp_path, "fpu sse2 avx512f avx512_bf16"))
    assert not device.cpu_has_amx_bf16(str(tmp_path / "missing"))


def test_cpu_number_type_follows_the_flag_and_the_setting(monkeypatch):
    cpu = torch.device("cpu")
    monkeypatch.delenv(device.BFLOAT16_SETTING, raising=False)
    monkeypatch.setattr(device, "cpu_has_amx_bf16", lambda: True)
    assert device.default_dtype(cpu) == torch.bfloat16
    monkeypatch.setenv(device.BFLOAT16_SETTING, "0")
    assert device.default_dtype(cpu) == torch.float32
    monkeypatch.setattr(device, "cpu_has_amx_bf16", lambda: False)
    monkeypatch.setenv(device.BFLOAT16_SETTING, "auto")
    assert device.default_dtype(cpu) == torch.float32
    monkeypatch.setenv(device.BFLOAT16_SETTING, "1")
    assert device.default_dtype(cpu) == torch.bfloat16
    assert device.default_dtype(torch.device("cuda")) == torch.float16
    monkeypatch.setenv(device.BFLOAT16_SETTING, "yes")
    with pytest.raises(ValueError, match="TRANSFOREMOTION_CPU_BFLOAT16 is 'yes'"):
        device.default_dtype(cpu)


@pytest.mark.filterwarnings("ignore::transforemotion.TransforemotionWarning")  # the blank picture has no face
def test_bfloat16_runs_the_image_tower_alone_and_moves_scores_little(tiny_model, image_dir, monkeypatch):
    models.clear_model_cache()
    try:
        monkeypatch.setenv(device.BFLOAT16_SETTING, "0")
        full = te.image_scores_dir(str(image_dir), CLASSES, local_model_path=tiny_model)
        monkeypatch.setenv(device.BFLOAT16_SETTING, "1")
        vlm = models.load_model(local_model_path=tiny_model)
        half = te.image_scores_dir(str(image_dir), CLASSES, local_model_path=tiny_model)
    finally:
        models.clear_model_cache()
    assert vlm.dtype == torch.bfloat16
    assert {p.dtype for p in vlm.model.vision_model.parameters()} == {torch.bfloat16}
    assert {p.dtype for p in vlm.model.text_model.parameters()} == {torch.float32}
    got, want = (np.array([r[c] for c in CLASSES], float) for r in (half, full))
    scored = ~np.isnan(want)
    assert scored.sum() >= 4 and np.array_equal(np.isnan(got), ~scored)
    # This model has 16 dimensions, where rounding weighs most; at ViT-B/32's 512 the difference is below 1e-2
    # even at CLIP's temperature of 100 (bench/bench_cpu_precision.py).
    assert 0 < np.abs(got - want)[scored].max() <= 2e-2
