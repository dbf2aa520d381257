"""A scoring request: every option of a scoring call, checked once, before any work starts.

:func:`scoring_request` is shared by the scoring functions, the corpus and
evaluation: each checks its own extra arguments and hands the common ones
here, so that the same mistake gets the same message everywhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Optional, Tuple

from ..core.checks import (MAX_FACE_WORKERS, check_choice, check_classes, check_count, check_flag, check_text,
                           resolve_batch_size, resolve_face_workers, resolve_progress)
from ..core.errors import ArgumentError
from ..core.messages import arg, say, value
from ..core.options import check_fields, option
from ..faces import FACE_SELECTIONS, resolve_face_backend
from ..models import (TEMPLATE_SETS, ModelSource, check_device_name, check_requirements, load_model, resolve_model,
                      resolve_templates)

__all__ = ["ScoringOptions", "ScoringPlan", "ScoringRequest", "scoring_request", "embedding_request"]


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
        return load_model(self.model, device=self.device, announce=say if self.progress else None)


def _face_selection(name, given):
    return check_choice(name, given, FACE_SELECTIONS)


def _optional_text(what: str):
    def check(name, given):
        if given is None:
            return None
        if isinstance(given, os.PathLike):  # pathlib.Path and its kin, as every path argument takes
            given = os.fspath(given)
        return check_text(name, given, f"{what}, or {value(None)}")
    return check


def _model(name, given):
    given = os.fspath(given) if isinstance(given, os.PathLike) else given
    return check_text(name, given, "a model name, a Hugging Face id or a model folder")


def _optional_workers(name, given):
    return None if given is None else check_count(name, given, 1, MAX_FACE_WORKERS)


def _templates(name, given):
    return resolve_templates(given)


def _one_or_many(texts):
    """The command line gives a list; one template (or a set's name) is a text."""
    return texts if texts is None or len(texts) != 1 else texts[0]


@dataclass(frozen=True)
class ScoringOptions:
    """The options every scoring function takes, as the caller gave them, each checked once on construction.

    One field, one definition: its default, check, help text and
    command-line flag are here (see :mod:`transforemotion.core.options`).
    Defaults taken from the environment (``TRANSFOREMOTION_BATCH_SIZE``,
    ``TRANSFOREMOTION_PROGRESS``) are read now; the model, the device and
    the number of face threads are settled by :func:`scoring_request`.
    """

    face_selection: str = option(
        "largest", "which face to score: the largest, the leftmost or rightmost, every face (one row each), or none "
                   "(the whole picture)", check=_face_selection, cli=dict(choices=FACE_SELECTIONS))
    model: str = option("oai-base", "registered name (see `transforemotion models`), Hugging Face id, or model folder",
                        check=_model)
    local_model_path: Optional[str] = option(None, "model folder on disk; nothing is downloaded",
                                             check=_optional_text("a model folder"), cli=dict(metavar="FOLDER"))
    face_boxes: bool = option(False, "add the scored face's box (x, y, width, height) and the detector's confidence",
                              check=check_flag, cli=dict(action="store_true"))
    templates: Optional[Tuple[str, ...]] = option(
        None, "phrase each label with these templates (one {} where the label goes; their embeddings are averaged) "
              f"or a built-in set: {', '.join(TEMPLATE_SETS)}; default: labels as given",
        check=_templates, cli=dict(nargs="+", metavar="TEMPLATE"), from_cli=_one_or_many)
    batch_size: int = option(None, "faces per forward pass (default: 32, or TRANSFOREMOTION_BATCH_SIZE)",
                             check=lambda name, given: resolve_batch_size(given), cli=dict(type=int, metavar="N"))
    device: Optional[str] = option(None, "cpu, cuda, cuda:1 or mps (default: the first of CUDA, MPS and CPU that "
                                         "exists)", check=_optional_text("a device name such as 'cpu' or 'cuda'"))
    progress: bool = option(None, "no progress bar", check=lambda name, given: resolve_progress(given), flag="--quiet",
                            cli=dict(action="store_const", const=False))
    face_workers: Optional[int] = option(None, "threads that find faces while the model embeds (default: automatic, "
                                               "or TRANSFOREMOTION_FACE_WORKERS)",
                                         check=_optional_workers, cli=dict(type=int, metavar="N"))

    def __post_init__(self):
        check_fields(self)
        if self.face_boxes and self.face_selection == "none":
            raise ArgumentError(f"{arg('face_boxes', True)} reports the box of the face scored, but "
                                f"{arg('face_selection', 'none')} scores the whole picture without looking for faces. "
                                f"Use {arg('face_selection', 'largest')} (or another selection) with it.")


def scoring_request(classes, options: ScoringOptions, *, video: bool = False,
                    device_check: bool = True) -> ScoringRequest:
    """The labels checked, the model resolved once, the device checked: everything a scoring call needs.

    ``video``: the pictures are frames of one video, so with
    ``face_selection="all"`` each face gets an appearance vector for
    following people. ``device_check=False`` (a corpus on Ray, whose workers
    have devices this machine cannot see) checks only the device's spelling.
    """
    return _request(tuple(check_classes(classes)), options, video, device_check)


def embedding_request(options: ScoringOptions, *, video: bool = False) -> ScoringRequest:
    """The options of a scoring call without labels: the image embeddings only (``embed_images`` and its kin)."""
    request = _request((), options, video)
    return replace(request, plan=replace(request.plan, keep_embeddings=True))


def _request(labels, options: ScoringOptions, video: bool = False, device_check: bool = True) -> ScoringRequest:
    source = resolve_model(options.model, options.local_model_path)
    # A bad device name, or a model this machine cannot run, fails now, before any file is touched.
    runs_on = check_requirements(source, options.device if device_check else None)
    if not device_check:
        check_device_name(options.device)
    workers = resolve_face_workers(options.face_workers, runs_on.type, options.face_selection)
    plan = ScoringPlan(tuple(labels), options.face_selection, options.batch_size, options.templates,
                       face_workers=workers, face_backend=resolve_face_backend("auto", runs_on.type),
                       face_device=str(runs_on), appearance=video and options.face_selection == "all")
    return ScoringRequest(plan, source, options.device, options.face_boxes, options.progress)
