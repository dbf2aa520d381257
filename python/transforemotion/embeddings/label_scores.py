"""Rescoring kept embeddings: the model that made them (or one proven the same), the labels' embeddings, the product."""

from __future__ import annotations

import os
from typing import Dict, Optional, Sequence

from ..core.checks import check_classes
from ..core.errors import ArgumentError, InputNotFoundError
from ..core.messages import arg, function, value
from ..models import VisionLanguageModel, check_requirements, load_model, resolve_model, resolve_templates
from .record import check_same_model, makers
from .table import Embeddings, check_label_names, rescore_vectors, scores_table

__all__ = ["rescoring_model", "rescore_embeddings"]


def rescoring_model(record: dict, model: Optional[str], local_model_path: Optional[str], device: Optional[str],
                    what: str) -> VisionLanguageModel:
    """The model to score ``what`` with: the one named, else the one in the record; refused unless it is the same.

    Only its text tower runs, once per set of labels; its image tower embeds
    one small test picture, once per loaded model, to check its weights.
    """
    if model is None and local_model_path is None:
        model = record["model"]
        if os.path.isabs(model) and not os.path.isdir(model):
            raise InputNotFoundError(
                f"{what} were made by the model in the folder {model}, which is not there any more. Point "
                f"{arg('local_model_path')} at that model's folder wherever it is now (its weights are checked, not "
                "its path).")
    source = resolve_model(model if model is not None else "oai-base", local_model_path)
    check_requirements(source, device)
    vlm = load_model(source, device=device)
    check_same_model(record, vlm, what)
    return vlm


def rescore_embeddings(embeddings: Embeddings, classes: Sequence[str], templates, model: Optional[str],
                       local_model_path: Optional[str], device: Optional[str]) -> Dict[str, list]:
    """The scoring functions' result for ``classes`` from ``embeddings`` alone (see ``transforemotion.rescore``)."""
    if not isinstance(embeddings, Embeddings):
        raise ArgumentError(f"{arg('embeddings')} must be embeddings made by {makers()}, or read by "
                            f"{function('load_embeddings')}; got {value(type(embeddings).__name__)}.")
    labels = check_classes(classes)
    templates = resolve_templates(templates)
    check_label_names(list(embeddings.rows), labels)
    vlm = rescoring_model(embeddings.model, model, local_model_path, device, "These embeddings")
    return scores_table(embeddings.rows, labels, rescore_vectors(vlm, embeddings.vectors, labels, templates))
