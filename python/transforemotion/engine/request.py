"""A scoring request: every option of a scoring call, checked once, before any work starts.

:func:`scoring_request` is shared by the scoring functions, the corpus and
evaluation: each checks its own extra arguments and hands the common ones
here, so that the same mistake gets the same message everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional, Tuple

from ..core.checks import (check_choice, check_classes, check_flag, resolve_batch_size, resolve_face_workers,
                           resolve_progress)
from ..core.errors import ArgumentError
from ..core.messages import arg
from ..faces import FACE_SELECTIONS, resolve_face_backend
from ..models import ModelSource, check_requirements, load_model, resolve_model, resolve_templates

__all__ = ["ScoringPlan", "ScoringRequest", "scoring_request", "embedding_request"]


@dataclass(frozen=True)
class ScoringPlan:
    """What to score against and how: checked values, see :mod:`transforemotion.core.checks`."""

    labels: Tuple[str, ...]
    face_selection: str
    batch_size: int
    templates: Optional[Tuple[str, ...]] = None
    # Keep each row's image embedding in the joined result (score_all); the stream yields them per batch anyway.
    keep_embeddings: bool = False
    # Threads that find and crop faces beside the model (1: the reader thread does it itself).
    face_workers: int = 1
    # "opencv" (picture by picture, in face_workers threads) or "torch" (chunks of pictures searched together on
    # face_device, the model's device); see faces.backends.
    face_backend: str = "opencv"
    face_device: Optional[str] = None
    # Give each face an appearance vector for the person tracker (video with face_selection="all").
    appearance: bool = False
    # The number type kept embeddings are stored in ("float32" or "float16"), where they are stored (corpus parts).
    embedding_precision: str = "float32"


@dataclass(frozen=True)
class ScoringRequest:
    """Everything a scoring call needs, checked: the plan, the model, the options."""

    plan: ScoringPlan
    model: ModelSource
    device: Optional[str]
    face_boxes: bool
    progress: bool

    def load(self):
        return load_model(self.model, device=self.device)


def scoring_request(classes, face_selection, model, local_model_path, face_boxes, templates, batch_size, device,
                    progress, face_workers=None) -> ScoringRequest:
    """Check every scoring option once and bundle them; the corpus functions share it."""
    return _request(tuple(check_classes(classes)), face_selection, model, local_model_path, face_boxes, templates,
                    batch_size, device, progress, face_workers)


def embedding_request(face_selection, model, local_model_path, face_boxes, batch_size, device,
                      progress, face_workers=None) -> ScoringRequest:
    """The options of a scoring call without labels: the image embeddings only (``embed_images`` and its kin)."""
    request = _request((), face_selection, model, local_model_path, face_boxes, None, batch_size, device, progress,
                       face_workers)
    return replace(request, plan=replace(request.plan, keep_embeddings=True))


def _request(labels, face_selection, model, local_model_path, face_boxes, templates, batch_size, device,
             progress, face_workers=None) -> ScoringRequest:
    check_choice("face_selection", face_selection, FACE_SELECTIONS)
    check_flag("face_boxes", face_boxes)
    if face_boxes and face_selection == "none":
        raise ArgumentError(f"{arg('face_boxes', True)} reports the box of the face scored, but "
                         f"{arg('face_selection', 'none')} scores the whole picture without looking for faces. "
                         f"Use {arg('face_selection', 'largest')} (or another selection) with it.")
    batch_size = resolve_batch_size(batch_size)
    templates = resolve_templates(templates)
    source = resolve_model(model, local_model_path)
    # A bad device name, or a model this machine cannot run, fails now, not after the first picture.
    runs_on = check_requirements(source, device)
    workers = resolve_face_workers(face_workers, runs_on.type, face_selection)
    plan = ScoringPlan(tuple(labels), face_selection, batch_size, templates, face_workers=workers,
                       face_backend=resolve_face_backend("auto", runs_on.type), face_device=str(runs_on))
    return ScoringRequest(plan, source, device, face_boxes, resolve_progress(progress))
