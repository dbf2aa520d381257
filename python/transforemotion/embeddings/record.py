"""The model record: which model made a set of embeddings, so that they are never scored by another.

An image embedding means something only to the model that made it: another
model's text tower reads the same 512 numbers as noise. Every set of
embeddings therefore carries a record of its model (the source, the
architecture, the preprocessing, the number of dimensions, the number type it
ran in) and a fingerprint of its weights: the first values of the embeddings
of a fixed sentence and a fixed synthetic picture (the "probes").

Names alone cannot decide whether two models are the same: a model folder
may be moved, and a folder may be overwritten by another model under the
same name. The probes decide. Two loads of the same weights give the same
probes up to the rounding of the device and number type (a cosine above
0.9999 between CPU float32 and GPU float16); two different models give
unrelated ones.
"""

from __future__ import annotations

import math
import weakref
from typing import Any, Dict, Tuple

import numpy as np

from ..core.errors import ArgumentError
from ..core.messages import arg, function, value
from ..models import VisionLanguageModel

__all__ = ["model_record", "check_record", "check_same_model", "describe_model"]

PROBE_TEXT = "a photo of a face."
# Values of each probe kept in the record: enough to tell models apart, small enough for every corpus part.
PROBE_VALUES = 64
# Cosine between the stored and the fresh probes above which the weights count as the same.
SAME_WEIGHTS = 0.99
_RECORD_KEYS = ("model", "architecture", "dim", "dtype", "preprocess", "logit_scale", "probe")

_PROBES: "weakref.WeakKeyDictionary[VisionLanguageModel, Tuple[np.ndarray, np.ndarray]]" = weakref.WeakKeyDictionary()


def _probe_image() -> np.ndarray:
    """A fixed 96 x 96 RGB picture (gradients and stripes): the same pixels on every machine."""
    y, x = np.mgrid[0:96, 0:96]
    return np.stack([x * 255 // 95, y * 255 // 95, (x + 2 * y) % 32 * 8], axis=-1).astype(np.uint8)


def _probes(vlm: VisionLanguageModel) -> Tuple[np.ndarray, np.ndarray]:
    """The embeddings of the probe sentence and picture; computed once per loaded model."""
    cached = _PROBES.get(vlm)
    if cached is None:
        text = vlm.embed_texts((PROBE_TEXT,)).float().cpu().numpy()[0]
        image = vlm.embed_images([_probe_image()]).float().cpu().numpy()[0]
        cached = (text, image)
        _PROBES[vlm] = cached
    return cached


def model_record(vlm: VisionLanguageModel) -> Dict[str, Any]:
    """The record of a loaded model: plain JSON values, the same in Python, R and a Parquet file."""
    text, image = _probes(vlm)
    source = vlm.key[0] if vlm.key else "unknown"
    cfg = vlm.preprocess_cfg
    return {
        "model": source,
        "architecture": vlm.architecture,
        "dim": int(image.shape[0]),
        "dtype": str(vlm.dtype).replace("torch.", ""),
        "preprocess": {"size": int(cfg.size), "mean": [float(v) for v in cfg.mean], "std": [float(v) for v in cfg.std]},
        "logit_scale": float(vlm.logit_scale),
        "probe": {"text": [round(float(v), 7) for v in text[:PROBE_VALUES]],
                  "image": [round(float(v), 7) for v in image[:PROBE_VALUES]]},
    }


def _numbers(given, where: str, name: str) -> list:
    values = list(given) if isinstance(given, (list, tuple, np.ndarray)) else [given]
    try:
        numbers = [float(v) for v in values]
    except (TypeError, ValueError):
        raise ArgumentError(f"{where}: the model record's {name} must be numbers; got {value(given)}.") from None
    if not numbers or not all(math.isfinite(v) for v in numbers):
        raise ArgumentError(f"{where}: the model record's {name} must be finite numbers; got {value(given)}.")
    return numbers


def makers() -> str:
    """The embedding functions, spelled for the caller (for "made by ..." advice)."""
    return f"{function('embed_images')}, {function('embed_dir')} or {function('embed_video')}"


def check_record(record, where: str) -> Dict[str, Any]:
    """A record as written by :func:`model_record`, with its types made exact (R hands back doubles and scalars).

    ``where`` names the record's origin in messages (a file, an argument).
    """
    if not isinstance(record, dict):
        raise ArgumentError(f"{where} has no model record (a dict with {', '.join(_RECORD_KEYS)}); got "
                            f"{value(record)}. Use embeddings made by {makers()}.")
    missing = [k for k in _RECORD_KEYS if k not in record]
    if missing:
        raise ArgumentError(f"{where}: the model record lacks {', '.join(missing)}, so nobody can tell which model "
                            f"made these embeddings. Make them again with {makers()}.")
    preprocess, probe = record["preprocess"], record["probe"]
    if not isinstance(preprocess, dict) or not isinstance(probe, dict) or not {"text", "image"} <= set(probe):
        raise ArgumentError(f"{where}: the model record's preprocess and probe entries are damaged.")
    dim = _numbers(record["dim"], where, "dim")
    if len(dim) != 1 or dim[0] < 1 or dim[0] != int(dim[0]):
        raise ArgumentError(f"{where}: the model record's dim must be a whole number; got {value(record['dim'])}.")
    return {
        "model": str(record["model"]),
        "architecture": str(record["architecture"]),
        "dim": int(dim[0]),
        "dtype": str(record["dtype"]),
        "preprocess": {"size": int(_numbers(preprocess.get("size"), where, "size")[0]),
                       "mean": _numbers(preprocess.get("mean"), where, "mean"),
                       "std": _numbers(preprocess.get("std"), where, "std")},
        "logit_scale": _numbers(record["logit_scale"], where, "logit_scale")[0],
        "probe": {"text": _numbers(probe["text"], where, "probe"), "image": _numbers(probe["image"], where, "probe")},
    }


def describe_model(record: Dict[str, Any]) -> str:
    return f"{value(record['model'])} ({record['architecture']}, {record['dim']} dimensions)"


def _cosine(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape:
        return -1.0
    norm = np.linalg.norm(a) * np.linalg.norm(b)
    return float(a @ b / norm) if norm > 0 else -1.0


def _difference(stored: Dict[str, Any], fresh: Dict[str, Any]) -> str:
    """Why two records are not the same model, or "" when they are."""
    if stored["architecture"] != fresh["architecture"] or stored["dim"] != fresh["dim"]:
        return "another architecture or size"
    if not np.allclose(stored["preprocess"]["mean"], fresh["preprocess"]["mean"], atol=1e-6) or \
            not np.allclose(stored["preprocess"]["std"], fresh["preprocess"]["std"], atol=1e-6) or \
            stored["preprocess"]["size"] != fresh["preprocess"]["size"]:
        return "another image preprocessing"
    if not math.isclose(stored["logit_scale"], fresh["logit_scale"], rel_tol=1e-3):
        return "other weights (another temperature)"
    for kind in ("text", "image"):
        if _cosine(stored["probe"][kind], fresh["probe"][kind]) < SAME_WEIGHTS:
            return f"other weights (its {kind} tower embeds a test {'sentence' if kind == 'text' else 'picture'} " \
                   "differently)"
    return ""


def check_same_model(record: Dict[str, Any], vlm: VisionLanguageModel, what: str) -> None:
    """Refuse to score ``what`` (embeddings made by ``record``'s model) with ``vlm`` unless it is the same model.

    The same weights under another name (a moved folder) pass: the probes decide, not the name.
    """
    fresh = model_record(vlm)
    reason = _difference(record, fresh)
    if reason:
        raise ArgumentError(
            f"{what} were made by the model {describe_model(record)}, but the model given, "
            f"{describe_model(fresh)}, has {reason}. Its label embeddings would mean nothing to these image "
            f"embeddings. Leave {arg('model')} out to use the model that made them (or point "
            f"{arg('local_model_path')} at its folder), or embed the pictures again with this model.")
