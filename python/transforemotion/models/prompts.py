"""Prompt templates: how a label is phrased before the text tower reads it.

CLIP scores a picture against sentences, and the phrasing matters: CLIP's
authors and the CLIP_benchmark suite score facial-expression data (FER2013)
with several templates per class, averaging the text embeddings ("prompt
ensembling"). The built-in sets are data, like a model registry: a name and
its templates. ``None`` sends the labels verbatim, as transforEmotion does.
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple

from ..core.errors import ArgumentError
from ..core.messages import arg, value

__all__ = ["TEMPLATE_SETS", "resolve_templates", "apply_template"]

TEMPLATE_SETS: Dict[str, Tuple[str, ...]] = {
    # The six FER2013 templates of CLIP_benchmark (after CLIP's own zero-shot prompts).
    "fer": (
        "a photo of a {} looking face.",
        "a photo of a face showing the emotion: {}.",
        "a photo of a face looking {}.",
        "a face that looks {}.",
        "they look {}.",
        "look at how {} they are.",
    ),
    # Plain descriptions of a facial expression, for labels that are nouns ("joy") or adjectives ("happy").
    "face": (
        "a photo of a face with an expression of {}.",
        "a close-up photo of a face showing {}.",
        "a person whose face shows {}.",
        "a facial expression of {}.",
    ),
}


def _check_template(template) -> str:
    if not isinstance(template, str) or template.count("{}") != 1:
        raise ArgumentError(
            f"Each template must be a text with exactly one {{}} where the label goes, for example "
            f"{value('a photo of a {} face.')}; got {value(template)}."
        )
    return template


def resolve_templates(templates) -> Optional[Tuple[str, ...]]:
    """``None`` (labels verbatim), a built-in set's name, one template, or a list of them -> a tuple or None."""
    if templates is None:
        return None
    if isinstance(templates, str):
        if templates in TEMPLATE_SETS:
            return TEMPLATE_SETS[templates]
        if "{}" not in templates:
            raise ArgumentError(
                f"{arg('templates')} {value(templates)} is neither a built-in set "
                f"({', '.join(value(n) for n in TEMPLATE_SETS)}) nor a template with {{}} where the label goes."
            )
        return (_check_template(templates),)
    if isinstance(templates, (list, tuple)) and templates:
        return tuple(_check_template(t) for t in templates)
    raise ArgumentError(
        f"{arg('templates')} must be {value(None)}, the name of a built-in set "
        f"({', '.join(value(n) for n in TEMPLATE_SETS)}), a template such as {value('a photo of a {} face.')}, "
        f"or a list of templates; got {value(templates)}."
    )


def apply_template(template: str, label: str) -> str:
    # str.replace, not str.format: a label may itself contain braces.
    return template.replace("{}", label, 1)
