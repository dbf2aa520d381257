"""The pole descriptions of each dimension (transforEmotion's, verbatim, or the caller's), and their checks."""

from __future__ import annotations

import math
import os
from typing import Dict, List, Mapping, Sequence

from ..core.checks import check_choice
from ..core.errors import ArgumentError
from ..core.messages import arg, current_caller, value, warn
from ..engine import METADATA_COLUMNS

__all__ = ["DIMENSIONS", "POLES", "LABEL_TYPES", "DEFINITIONAL_LABELS", "SIMPLE_LABELS", "vad_labels", "pole_classes",
           "vad_columns", "check_dimensions", "as_text"]

# Columns the scoring functions put before the labels. A pole text with one of these
# names would overwrite that column of the underlying result.
_RESULT_COLUMNS = tuple(sorted(METADATA_COLUMNS))

DIMENSIONS = ("valence", "arousal", "dominance")
# The high pole first, as transforEmotion's format_labels_for_classification orders them.
POLES = {"valence": ("positive", "negative"), "arousal": ("high", "low"), "dominance": ("high", "low")}
LABEL_TYPES = ("definitional", "simple", "custom")

# transforEmotion's R/vad_definitions.R, verbatim: scores are only comparable with
# transforEmotion's if the texts are the same to the character.
DEFINITIONAL_LABELS = {
    "valence": {
        "positive": "Positive emotional experience: pleasant, joyful, happy, satisfied, hopeful",
        "negative": "Negative emotional experience: unpleasant, sad, angry, fearful, distressed",
    },
    "arousal": {
        "high": "High energy emotional state: intense, excited, energetic, stimulating, alert",
        "low": "Low energy emotional state: calm, relaxed, peaceful, subdued, tranquil",
    },
    "dominance": {
        "high": "Feeling in control: powerful, confident, dominant, assertive, commanding",
        "low": "Feeling controlled by others: powerless, submissive, helpless, vulnerable, weak",
    },
}
SIMPLE_LABELS = {
    "valence": {"positive": "positive", "negative": "negative"},
    "arousal": {"high": "excited", "low": "calm"},
    "dominance": {"high": "dominant", "low": "submissive"},
}

# transforEmotion warns about custom pole texts shorter than this.
_SHORT_LABEL = 5



# --- labels ------------------------------------------------------------------------------------

def check_dimensions(dimensions) -> List[str]:
    allowed = ", ".join(value(d) for d in DIMENSIONS)
    given = [dimensions] if isinstance(dimensions, str) else dimensions
    if (not isinstance(given, (list, tuple)) or not given
            or not all(isinstance(d, str) and d in DIMENSIONS for d in given)):
        raise ArgumentError(f"{arg('dimensions')} must be one or more of: {allowed}; got {value(dimensions)}.")
    # A dimension asked for twice is one column; keep the order asked for.
    return list(dict.fromkeys(given))


def _check_custom_labels(custom_labels, dimensions: Sequence[str]) -> Dict[str, Dict[str, str]]:
    example = ('{"valence": {"positive": "a smiling, happy face", "negative": "a frowning, unhappy face"}}'
               if current_caller() != "r" else
               'list(valence = list(positive = "a smiling, happy face", negative = "a frowning, unhappy face"))')
    if not isinstance(custom_labels, Mapping):
        raise ArgumentError(f"{arg('custom_labels')} must be a list of dimensions, each a list of its two poles, "
                         f"for example {example}; got {value(custom_labels)}.")
    unknown = [k for k in custom_labels if k not in DIMENSIONS]
    if unknown:
        raise ArgumentError(f"{arg('custom_labels')} has elements named {', '.join(value(str(k)) for k in unknown)}, "
                         f"which are not dimensions; the names must be among: {', '.join(DIMENSIONS)}.")
    missing = [d for d in dimensions if d not in custom_labels]
    if missing:
        raise ArgumentError(f"{arg('custom_labels')} must have elements named: {', '.join(dimensions)} (the "
                         f"dimensions requested); {', '.join(missing)} missing. Add their poles, or leave "
                         f"them out of {arg('dimensions')}.")
    labels = {}
    for dim in dimensions:
        poles = custom_labels[dim]
        wanted = POLES[dim]
        if not isinstance(poles, Mapping) or not all(p in poles for p in wanted):
            raise ArgumentError(f"Dimension {value(dim)} of {arg('custom_labels')} must have poles: "
                             f"{', '.join(wanted)}; got {value(poles)}.")
        for pole in wanted:
            text = poles[pole]
            if not isinstance(text, str) or not text.strip():
                raise ArgumentError(f"Label for {dim}${pole} must be a single character string (a description of the "
                                 f"pole); got {value(text)}.")
            if len(text) < _SHORT_LABEL:
                warn(f"Label for {dim}${pole} is very short ({value(text)}). Consider using more descriptive "
                     f"labels.")
        high, low = (poles[p] for p in wanted)
        if high == low:
            raise ArgumentError(f"The two poles of {dim} in {arg('custom_labels')} are the same text ({value(high)}); "
                             "a dimension is scored as a contrast between two different descriptions.")
        labels[dim] = {p: poles[p] for p in wanted}
    return labels


def vad_labels(label_type: str = "definitional", custom_labels=None,
               dimensions: Sequence[str] = DIMENSIONS) -> Dict[str, Dict[str, str]]:
    """The pole descriptions of each dimension: transforEmotion's, or checked custom ones."""
    check_choice("label_type", label_type, LABEL_TYPES)
    dims = check_dimensions(list(dimensions))
    if label_type == "custom":
        if custom_labels is None:
            raise ArgumentError(f"{arg('custom_labels')} must be provided when {arg('label_type', 'custom')}.")
        return _check_custom_labels(custom_labels, dims)
    if custom_labels is not None:
        # transforEmotion ignores them here; scoring with other texts than the ones given is a change of method.
        raise ArgumentError(f"{arg('custom_labels')} is given, but {arg('label_type', label_type)} scores with "
                         f"transforEmotion's {label_type} labels. Use {arg('label_type', 'custom')} to score with "
                         f"your labels, or leave out {arg('custom_labels')}.")
    table = DEFINITIONAL_LABELS if label_type == "definitional" else SIMPLE_LABELS
    return {d: dict(table[d]) for d in dims}


# --- scores ------------------------------------------------------------------------------------

def pole_classes(labels: Mapping[str, Mapping[str, str]]) -> List[str]:
    """Every pole text once, in dimension order, high pole first."""
    classes = list(dict.fromkeys(labels[d][p] for d in labels for p in POLES[d]))
    clash = [c for c in classes if c in _RESULT_COLUMNS]
    if clash:
        raise ArgumentError(f"A pole label cannot be {', '.join(value(c) for c in clash)}: that is the name of a "
                         f"column of the result ({', '.join(_RESULT_COLUMNS)}). Describe the pole in other words.")
    return classes


def _contrast(high: float, low: float) -> float:
    total = high + low
    if math.isnan(total) or total <= 0:
        # NaN: no face in that picture or frame. 0: both poles underflowed to 0 beside a third label
        # (a logit gap of ~100 nats), which leaves the contrast undefined.
        return float("nan")
    return high / total


def vad_columns(scores: Dict[str, list], labels: Mapping[str, Mapping[str, str]]) -> Dict[str, list]:
    classes = set(pole_classes(labels))
    out = {name: column for name, column in scores.items() if name not in classes}
    underflow = []
    for dim, poles in labels.items():
        high, low = (scores[poles[p]] for p in POLES[dim])
        out[dim] = [_contrast(h, lo) for h, lo in zip(high, low)]
        if any(h + lo == 0 for h, lo in zip(high, low)):
            underflow.append(dim)
    if underflow:
        warn(f"Both poles of {', '.join(underflow)} got a probability of 0 in some rows (the other dimensions' "
             f"labels took all of it), so those rows have missing values. Score {', '.join(underflow)} on its own "
             f"with {arg('dimensions', underflow)}.")
    return out


def as_text(item):
    """A path given as a ``pathlib.Path`` (or any path-like), as text; anything else unchanged."""
    return os.fspath(item) if isinstance(item, os.PathLike) else item
