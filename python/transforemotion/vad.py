"""Valence, arousal and dominance of faces, as in transforEmotion's ``vad_scores``.

transforEmotion scores each dimension as a zero-shot choice between two
descriptions, its "high" pole (positive valence, high arousal, high
dominance) and its "low" pole, and runs one classification per dimension.
Here every face is embedded once: all pole descriptions of the requested
dimensions are scored together, and each dimension is then

    score = p(high) / (p(high) + p(low))

over that one softmax. Because a softmax restricted to two of its labels and
renormalised is the softmax of those two labels alone, this is exactly the
two-label score ``image_scores(image, [high, low])[high]`` that
transforEmotion computes, at the cost of one image embedding instead of one
per dimension.

These scores are a contrast between two texts, not a calibrated rating;
check them against human ratings with ``evaluate_scores`` before relying on
them.

``map_discrete_to_vad`` turns discrete emotion scores (``image_scores``,
``video_scores``) into VAD through a lexicon such as the NRC VAD lexicon,
which the user supplies: nothing is downloaded.
"""

from __future__ import annotations

import csv
import math
import numbers
import os
import re
import urllib.parse
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

from . import api
from .checks import check_choice, check_flag, check_text
from .evaluation import columns_of, label_columns
from .messages import arg, current_caller, function, value, warn
from .video import DEFAULT_NFRAMES, VIDEO_EXTENSIONS

__all__ = [
    "vad_scores",
    "map_discrete_to_vad",
    "detect_input_type",
    "vad_labels",
    "DIMENSIONS",
    "POLES",
    "DEFINITIONAL_LABELS",
    "SIMPLE_LABELS",
]

DIMENSIONS = ("valence", "arousal", "dominance")
# The high pole first, as transforEmotion's format_labels_for_classification orders them.
POLES = {"valence": ("positive", "negative"), "arousal": ("high", "low"), "dominance": ("high", "low")}
INPUT_TYPES = ("auto", "text", "image", "video")
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

# transforEmotion's list for "auto" (it lowercases the extension); .tif added.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tiff", ".tif", ".webp")

# Columns the scoring functions put before the labels. A pole text with one of these
# names would overwrite that column of the underlying result.
_LEADING_COLUMNS = ("image", "image_id", "frame", "time", "face", "x", "y", "width", "height", "confidence")

# transforEmotion warns about custom pole texts shorter than this.
_SHORT_LABEL = 5

_NRC_VAD_PAGE = "https://saifmohammad.com/WebPages/nrc-vad.html"


# --- labels ------------------------------------------------------------------------------------

def _check_dimensions(dimensions) -> List[str]:
    allowed = ", ".join(value(d) for d in DIMENSIONS)
    given = [dimensions] if isinstance(dimensions, str) else dimensions
    if (not isinstance(given, (list, tuple)) or not given
            or not all(isinstance(d, str) and d in DIMENSIONS for d in given)):
        raise ValueError(f"{arg('dimensions')} must be one or more of: {allowed}; got {value(dimensions)}.")
    # A dimension asked for twice is one column; keep the order asked for.
    return list(dict.fromkeys(given))


def _check_custom_labels(custom_labels, dimensions: Sequence[str]) -> Dict[str, Dict[str, str]]:
    example = ('{"valence": {"positive": "a smiling, happy face", "negative": "a frowning, unhappy face"}}'
               if current_caller() != "r" else
               'list(valence = list(positive = "a smiling, happy face", negative = "a frowning, unhappy face"))')
    if not isinstance(custom_labels, Mapping):
        raise ValueError(f"{arg('custom_labels')} must be a list of dimensions, each a list of its two poles, "
                         f"for example {example}; got {value(custom_labels)}.")
    unknown = [k for k in custom_labels if k not in DIMENSIONS]
    if unknown:
        raise ValueError(f"{arg('custom_labels')} has elements named {', '.join(value(str(k)) for k in unknown)}, "
                         f"which are not dimensions; the names must be among: {', '.join(DIMENSIONS)}.")
    missing = [d for d in dimensions if d not in custom_labels]
    if missing:
        raise ValueError(f"{arg('custom_labels')} must have elements named: {', '.join(dimensions)} (the "
                         f"dimensions requested); {', '.join(missing)} missing. Add their poles, or leave "
                         f"them out of {arg('dimensions')}.")
    labels = {}
    for dim in dimensions:
        poles = custom_labels[dim]
        wanted = POLES[dim]
        if not isinstance(poles, Mapping) or not all(p in poles for p in wanted):
            raise ValueError(f"Dimension {value(dim)} of {arg('custom_labels')} must have poles: "
                             f"{', '.join(wanted)}; got {value(poles)}.")
        for pole in wanted:
            text = poles[pole]
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"Label for {dim}${pole} must be a single character string (a description of the "
                                 f"pole); got {value(text)}.")
            if len(text) < _SHORT_LABEL:
                warn(f"Label for {dim}${pole} is very short ({value(text)}). Consider using more descriptive "
                     f"labels.")
        high, low = (poles[p] for p in wanted)
        if high == low:
            raise ValueError(f"The two poles of {dim} in {arg('custom_labels')} are the same text ({value(high)}); "
                             "a dimension is scored as a contrast between two different descriptions.")
        labels[dim] = {p: poles[p] for p in wanted}
    return labels


def vad_labels(label_type: str = "definitional", custom_labels=None,
               dimensions: Sequence[str] = DIMENSIONS) -> Dict[str, Dict[str, str]]:
    """The pole descriptions of each dimension: transforEmotion's, or checked custom ones."""
    check_choice("label_type", label_type, LABEL_TYPES)
    dims = _check_dimensions(list(dimensions))
    if label_type == "custom":
        if custom_labels is None:
            raise ValueError(f"{arg('custom_labels')} must be provided when {arg('label_type', 'custom')}.")
        return _check_custom_labels(custom_labels, dims)
    if custom_labels is not None:
        # transforEmotion ignores them here; scoring with other texts than the ones given is a change of method.
        raise ValueError(f"{arg('custom_labels')} is given, but {arg('label_type', label_type)} scores with "
                         f"transforEmotion's {label_type} labels. Use {arg('label_type', 'custom')} to score with "
                         f"your labels, or leave out {arg('custom_labels')}.")
    table = DEFINITIONAL_LABELS if label_type == "definitional" else SIMPLE_LABELS
    return {d: dict(table[d]) for d in dims}


# --- input -------------------------------------------------------------------------------------

def _as_text(item):
    return os.fspath(item) if isinstance(item, os.PathLike) else item


def _kind_of(item: str) -> str:
    """'image', 'video', 'folder' or 'text' for one input, by its form (nothing is opened)."""
    if re.match(r"^https?://", item, re.IGNORECASE):
        path = urllib.parse.urlsplit(item).path.lower()
        # transforEmotion takes every URL for a video; a link that names an image file is one.
        return "image" if path.endswith(IMAGE_EXTENSIONS) else "video"
    lower = item.lower()
    if lower.endswith(IMAGE_EXTENSIONS):
        return "image"
    if lower.endswith(VIDEO_EXTENSIONS):
        return "video"
    if os.path.isdir(item):
        return "folder"
    return "text"


def _items(input) -> List[str]:
    items = [_as_text(input)] if not isinstance(input, (list, tuple)) else [_as_text(i) for i in input]
    if not items or not all(isinstance(i, str) for i in items):
        raise ValueError(f"Input must be character (text, file path, or URL): {arg('input')} must be an image or "
                         f"video file path, a folder of images, an http(s) URL, or a list of image paths; "
                         f"got {value(input)}.")
    return items


def detect_input_type(input) -> str:
    """transforEmotion's ``input_type = "auto"``: "image", "video" or "text", judged by the form of the input.

    An http(s) URL is a video unless its path ends in an image extension; a
    path ending in an image extension is an image, one ending in a video
    extension (.mp4, .avi, ...) a video; an existing folder is "image" (a
    folder of images); anything else is "text", which this package refuses.
    A list is judged by all its elements, which must agree.
    """
    kinds = {("image" if k == "folder" else k) for k in map(_kind_of, _items(input))}
    if len(kinds) > 1:
        raise ValueError(f"{arg('input')} mixes {' and '.join(sorted(kinds))} inputs; score images and videos in "
                         f"separate calls.")
    return kinds.pop()


def _refuse_text(items: Sequence[str]) -> None:
    example = items[0] if len(items[0]) <= 60 else items[0][:57] + "..."
    raise ValueError(
        f"{function('vad_scores')} here scores faces in images and video; text input is not supported "
        f"(transforEmotion's vad_scores(input_type = \"text\") scores texts). {value(example)} is not an image "
        f"or video file path, a folder, or a URL. If it is a picture or a video with an unusual extension, say "
        f"so with {arg('input_type', 'image')} or {arg('input_type', 'video')}.")


def _check_unused(given: Mapping[str, tuple], applies_to: str) -> None:
    """Options of another kind of input must be left at their defaults, not ignored silently."""
    used = [name for name, (v, default) in given.items() if v is not default and v != default]
    if used:
        raise ValueError(f"{', '.join(arg(n, given[n][0]) for n in used)} {'applies' if len(used) == 1 else 'apply'} "
                         f"to {applies_to} only; leave "
                         f"{'it' if len(used) == 1 else 'them'} out for this input.")


# --- scores ------------------------------------------------------------------------------------

def _pole_classes(labels: Mapping[str, Mapping[str, str]]) -> List[str]:
    """Every pole text once, in dimension order, high pole first."""
    classes = list(dict.fromkeys(labels[d][p] for d in labels for p in POLES[d]))
    clash = [c for c in classes if c in _LEADING_COLUMNS]
    if clash:
        raise ValueError(f"A pole label cannot be {', '.join(value(c) for c in clash)}: that is the name of a "
                         f"column of the result ({', '.join(_LEADING_COLUMNS)}). Describe the pole in other words.")
    return classes


def _contrast(high: float, low: float) -> float:
    total = high + low
    if math.isnan(total) or total <= 0:
        # NaN: no face in that picture or frame. 0: both poles underflowed to 0 beside a third label
        # (a logit gap of ~100 nats), which leaves the contrast undefined.
        return float("nan")
    return high / total


def _vad_columns(scores: Dict[str, list], labels: Mapping[str, Mapping[str, str]]) -> Dict[str, list]:
    classes = set(_pole_classes(labels))
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


def vad_scores(
    input: Union[str, Sequence[str]],
    input_type: str = "auto",
    dimensions: Sequence[str] = DIMENSIONS,
    label_type: str = "definitional",
    custom_labels: Optional[Mapping[str, Mapping[str, str]]] = None,
    model: str = "auto",
    face_selection: str = "largest",
    local_model_path: Optional[str] = None,
    face_boxes: bool = False,
    templates: Union[None, str, Sequence[str]] = None,
    batch_size: Optional[int] = None,
    device: Optional[str] = None,
    progress: Optional[bool] = None,
    pattern: str = api.DEFAULT_IMAGE_PATTERN,
    recursive: bool = False,
    nframes: int = DEFAULT_NFRAMES,
    start: float = 0,
    end: float = -1,
    uniform: bool = False,
    ffreq: int = 15,
    timestamps: bool = False,
    save_video: bool = False,
    save_frames: bool = False,
    save_dir: str = "temp/",
    video_name: str = "temp",
) -> Dict[str, list]:
    """Valence, arousal and dominance of the faces in images, a folder of images, or a video.

    Each dimension's score is the zero-shot probability of its high pole
    (positive valence, high arousal, high dominance) against its low pole:
    0.5 means the model cannot tell the two descriptions apart. All
    dimensions come from one embedding of each face; each score equals
    ``image_scores(image, [high, low])[high]``, transforEmotion's method.

    Args:
        input: an image file or http(s) URL, a list of them, a folder of
            images (scored with ``image_scores_dir``: every file matching
            ``pattern``), or one video file or URL.
        input_type: ``"auto"`` (judged by the input's form, see
            ``detect_input_type``), ``"image"`` or ``"video"``. ``"text"``
            is refused: this package scores faces.
        dimensions: one or more of ``"valence"``, ``"arousal"``,
            ``"dominance"``; one column each, in this order.
        label_type: ``"definitional"`` (transforEmotion's descriptions of
            each pole, the default), ``"simple"`` (positive/negative,
            excited/calm, dominant/submissive) or ``"custom"``.
        custom_labels: with ``label_type="custom"``, a dict with an entry for
            every requested dimension: ``{"valence": {"positive": ...,
            "negative": ...}, "arousal": {"high": ..., "low": ...},
            "dominance": {"high": ..., "low": ...}}``. Nothing falls back to
            other labels.
        model: ``"auto"`` (``"oai-base"``, as in transforEmotion) or any
            model ``image_scores`` takes.
        face_selection, local_model_path, face_boxes, templates, batch_size,
        device, progress: as in ``image_scores``.
        pattern, recursive: for a folder, as in ``image_scores_dir``.
        nframes, start, end, uniform, ffreq, timestamps, save_video,
        save_frames, save_dir, video_name: for a video, as in
        ``video_scores``.

    Returns:
        A dict of columns: the leading columns the underlying function gives
        (``image`` and the box with ``face_selection="all"``; ``image_id``
        for a folder; ``frame`` and ``time`` for a video with
        ``timestamps=True`` or ``"all"``), then one column per dimension,
        from 0 (low pole) to 1 (high pole). NaN where no face was found.

    Raises:
        ValueError: an argument is invalid (checked before any work),
            including text input and options that do not apply to the input.
        FileNotFoundError: an input path does not exist.

    Example:
        >>> vad_scores("face.jpg")  # doctest: +SKIP
        {'valence': [0.81], 'arousal': [0.34], 'dominance': [0.58]}
        >>> vad_scores("interview.mp4", dimensions=["valence", "arousal"], nframes=3, timestamps=True)  # doctest: +SKIP
        {'frame': [0, 15, 30], 'time': [0.0, 0.5, 1.0], 'valence': [...], 'arousal': [...]}
    """
    dims = _check_dimensions(dimensions)
    check_choice("input_type", input_type, INPUT_TYPES)
    labels = vad_labels(label_type, custom_labels, dims)
    classes = _pole_classes(labels)
    items = _items(input)
    kinds = [_kind_of(i) for i in items]
    if input_type == "auto":
        input_type = detect_input_type(items)
    if input_type == "text":
        _refuse_text(items)
    folder = input_type == "image" and "folder" in kinds
    if folder and len(items) > 1:
        raise ValueError(f"{arg('input')} has a folder among several inputs; give one folder on its own, or a list "
                         f"of image files.")
    check_text("model", model, "a model name, a Hugging Face id or a model folder")
    model = "oai-base" if model == "auto" else model
    for name, flag in (("recursive", recursive), ("uniform", uniform), ("timestamps", timestamps),
                       ("save_video", save_video), ("save_frames", save_frames)):
        check_flag(name, flag)
    video_options = {"nframes": (nframes, DEFAULT_NFRAMES), "start": (start, 0), "end": (end, -1),
                     "uniform": (uniform, False), "ffreq": (ffreq, 15), "timestamps": (timestamps, False),
                     "save_video": (save_video, False), "save_frames": (save_frames, False),
                     "save_dir": (save_dir, "temp/"), "video_name": (video_name, "temp")}
    folder_options = {"pattern": (pattern, api.DEFAULT_IMAGE_PATTERN), "recursive": (recursive, False)}
    scoring = dict(face_selection=face_selection, model=model, local_model_path=local_model_path,
                   face_boxes=face_boxes, templates=templates, batch_size=batch_size, device=device,
                   progress=progress)
    if input_type == "video":
        _check_unused(folder_options, "a folder of images")
        if len(items) > 1:
            raise ValueError(f"{arg('input')} must be one video; to score several, call {function('vad_scores')} "
                             f"for each, or use {function('score_corpus')} for a whole corpus.")
        scores = api.video_scores(items[0], classes, nframes=nframes, start=start, end=end, uniform=uniform,
                                  ffreq=ffreq, save_video=save_video, save_frames=save_frames, save_dir=save_dir,
                                  video_name=video_name, timestamps=timestamps, **scoring)
    else:
        _check_unused(video_options, "a video")
        if folder:
            scores = api.image_scores_dir(items[0], classes, pattern=pattern, recursive=recursive, **scoring)
        else:
            _check_unused(folder_options, "a folder of images")
            image = items if isinstance(input, (list, tuple)) else items[0]
            scores = api.image_scores(image, classes, **scoring)
    return _vad_columns(scores, labels)


# --- from discrete emotions to VAD -------------------------------------------------------------

_LEXICON_CACHE: Dict[Tuple[str, int, int], Dict[str, Tuple[float, float, float]]] = {}

_WORD_NAMES = ("word", "term")


def _lexicon_advice() -> str:
    kind = current_caller()
    if kind == "r":
        how = ("In R, textdata::lexicon_nrc_vad() downloads it once, after you accept its licence in an interactive "
               "session; then pass vad_lexicon = textdata::lexicon_nrc_vad(). Or download it from its authors' "
               f"page, {_NRC_VAD_PAGE}, and pass the file: vad_lexicon = \"NRC-VAD-Lexicon.txt\".")
    else:
        how = (f"Download it from its authors' page, {_NRC_VAD_PAGE} (in R, textdata::lexicon_nrc_vad() also "
               f"fetches it), unzip it, and pass the file: {arg('vad_lexicon', 'NRC-VAD-Lexicon.txt')}.")
    return (f"{function('map_discrete_to_vad')} needs a lexicon, given with {arg('vad_lexicon')}, and never downloads "
            f"one: the NRC VAD lexicon's terms (free for research) are for you to accept. {how} Any table with "
            "the columns word, valence, arousal and dominance works too (a data frame, a dict, or a CSV/TSV file).")


def _number(v) -> float:
    if isinstance(v, bool):
        raise ValueError
    if isinstance(v, numbers.Real):
        return float(v)
    if isinstance(v, str):
        return float(v.strip()) if v.strip() not in ("", "NA", "NaN", "nan") else float("nan")
    if v is None:
        return float("nan")
    raise ValueError


def _lexicon_from_columns(columns: Mapping[str, Sequence], source: str) -> Dict[str, Tuple[float, float, float]]:
    by_lower = {str(k).strip().lower(): k for k in columns}
    word_key = next((by_lower[n] for n in _WORD_NAMES if n in by_lower), None)
    keys = [word_key] + [by_lower.get(d) for d in DIMENSIONS]
    if any(k is None for k in keys):
        raise ValueError(f"{source} must have the columns word, valence, arousal and dominance (in any case; "
                         f"'term' for word also works); found {', '.join(map(str, columns)) or 'none'}.")
    words, *dims = (list(columns[k]) for k in keys)
    lexicon: Dict[str, Tuple[float, float, float]] = {}
    for i, word in enumerate(words):
        if not isinstance(word, str) or not word.strip():
            continue
        try:
            vad = tuple(_number(d[i]) for d in dims)
        except (ValueError, TypeError):
            raise ValueError(f"{source}: the values for {word!r} must be numbers; got "
                             f"{[d[i] for d in dims]!r}.") from None
        key = word.strip().lower()
        # The first entry of a word wins, as in transforEmotion; rows with a missing value are dropped, as there.
        if key not in lexicon and not any(math.isnan(v) for v in vad):
            lexicon[key] = vad
    if not lexicon:
        raise ValueError(f"{source} has no complete entry (a word with valence, arousal and dominance).")
    return lexicon


def _read_lexicon_file(path: str) -> Dict[str, Tuple[float, float, float]]:
    if not os.path.exists(path):
        raise FileNotFoundError(f"Lexicon file not found: {path}. {_lexicon_advice()}")
    if os.path.isdir(path):
        raise ValueError(f"{arg('vad_lexicon')} is a folder ({path}); pass the lexicon file in it, such as "
                         f"NRC-VAD-Lexicon.txt.")
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"Could not read the lexicon file {path}: {exc}.") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise ValueError(f"The lexicon file {path} is empty.")
    delimiter = "\t" if "\t" in lines[0] else ","
    rows = list(csv.reader(lines, delimiter=delimiter))
    first = rows[0]
    try:
        [float(v) for v in first[1:4]]
        has_header = len(first) < 4
    except ValueError:
        has_header = True
    if has_header:
        header, body = first, rows[1:]
    else:
        # The NRC VAD release files without a header line: word, valence, arousal, dominance.
        header, body = ["word", *DIMENSIONS], rows
    columns = {name: [row[j] if j < len(row) else None for row in body] for j, name in enumerate(header)}
    return _lexicon_from_columns(columns, f"The lexicon file {path}")


def _read_lexicon(vad_lexicon, cache: bool) -> Dict[str, Tuple[float, float, float]]:
    if vad_lexicon is None:
        raise ValueError(_lexicon_advice())
    vad_lexicon = _as_text(vad_lexicon)
    if isinstance(vad_lexicon, str):
        if not cache:
            return _read_lexicon_file(vad_lexicon)
        try:
            info = os.stat(vad_lexicon)
            key = (os.path.abspath(vad_lexicon), info.st_size, info.st_mtime_ns)
        except OSError:
            return _read_lexicon_file(vad_lexicon)
        if key not in _LEXICON_CACHE:
            _LEXICON_CACHE.clear()  # one lexicon at a time: the NRC file is 20,000 words
            _LEXICON_CACHE[key] = _read_lexicon_file(vad_lexicon)
        return _LEXICON_CACHE[key]
    if hasattr(vad_lexicon, "columns") and hasattr(vad_lexicon, "to_dict"):  # a pandas DataFrame
        return _lexicon_from_columns({c: vad_lexicon[c].tolist() for c in vad_lexicon.columns}, arg("vad_lexicon"))
    if isinstance(vad_lexicon, Mapping) and vad_lexicon:
        first = next(iter(vad_lexicon.values()))
        if isinstance(first, (list, tuple)) and any(str(k).strip().lower() in _WORD_NAMES for k in vad_lexicon):
            return _lexicon_from_columns(vad_lexicon, arg("vad_lexicon"))
        # {word: (valence, arousal, dominance)} or {word: {"valence": ..., ...}}
        words, dims = [], {d: [] for d in DIMENSIONS}
        for word, vad in vad_lexicon.items():
            if isinstance(vad, Mapping):
                vad = [vad.get(d, vad.get(d.capitalize())) for d in DIMENSIONS]
            if not isinstance(vad, (list, tuple)) or len(vad) != 3:
                raise ValueError(f"{arg('vad_lexicon')} as a dict maps each word to (valence, arousal, dominance), "
                                 f"or holds the columns word, valence, arousal, dominance; got {word!r}: {vad!r}.")
            words.append(word)
            for d, v in zip(DIMENSIONS, vad):
                dims[d].append(v)
        return _lexicon_from_columns({"word": words, **dims}, arg("vad_lexicon"))
    raise ValueError(f"{arg('vad_lexicon')} must be a lexicon file path, a data frame or a dict with the columns "
                     f"word, valence, arousal and dominance; got {type(vad_lexicon).__name__}. {_lexicon_advice()}")


def map_discrete_to_vad(
    results,
    mapping: str = "nrc_vad",
    weighted: bool = True,
    cache_lexicon: bool = True,
    vad_lexicon=None,
) -> Dict[str, list]:
    """Valence, arousal and dominance from discrete emotion scores, through a lexicon.

    Args:
        results: a result of ``image_scores``, ``image_scores_dir`` or
            ``video_scores`` (a dict of columns or a pandas DataFrame). Its
            label columns are the numeric columns other than ``image_id``,
            ``frame``, ``time``, ``face``, the box and the like.
        mapping: ``"nrc_vad"``, the only one, as in transforEmotion.
        weighted: ``True``: each row's VAD is the mean of its labels' lexicon
            values weighted by their scores (renormalised over the labels
            found in the lexicon). ``False``: the VAD of the row's top label.
        cache_lexicon: keep a lexicon read from a file for later calls (read
            again when the file changes).
        vad_lexicon: the lexicon: a file (the NRC VAD lexicon's
            ``NRC-VAD-Lexicon.txt``, or any CSV/TSV with the columns word,
            valence, arousal, dominance, or those four columns without a
            header), a pandas DataFrame (such as R's
            ``textdata::lexicon_nrc_vad()``), a dict of those columns, or a
            dict ``{word: (valence, arousal, dominance)}``. Labels are
            matched to words ignoring case and surrounding spaces; exactly,
            not by part of a word (transforEmotion falls back to partial
            matches, which can pick an unrelated word). Nothing is ever
            downloaded.

    Returns:
        A dict of columns: the result's other columns (``image_id``,
        ``frame``, ``time``, ...) then ``valence``, ``arousal``,
        ``dominance`` in the lexicon's scale. NaN where the row has no
        scores. Labels missing from the lexicon are named in one warning and
        left out (of the mean, and as candidates for the top label).

    Example:
        >>> scores = image_scores("face.jpg", ["joy", "anger", "fear"])  # doctest: +SKIP
        >>> map_discrete_to_vad(scores, vad_lexicon="NRC-VAD-Lexicon.txt")  # doctest: +SKIP
        {'valence': [0.83], 'arousal': [0.61], 'dominance': [0.67]}
    """
    check_choice("mapping", mapping, ("nrc_vad",))
    check_flag("weighted", weighted)
    check_flag("cache_lexicon", cache_lexicon)
    try:
        columns = columns_of(results)
    except ValueError:
        raise ValueError(f"{arg('results')} must be a result of image_scores(), image_scores_dir() or "
                         f"video_scores() (a dict of columns or a data frame); got {type(results).__name__}. Text "
                         f"scores (transformer_scores()) are not supported: this package scores faces.") from None
    labels = label_columns(columns)
    if not labels:
        raise ValueError(f"{arg('results')} has no label columns (numeric columns other than "
                         f"{', '.join(_LEADING_COLUMNS)}); found {', '.join(columns) or 'no columns'}.")
    lexicon = _read_lexicon(vad_lexicon, cache_lexicon)
    found = [label for label in labels if label.strip().lower() in lexicon]
    missing = [label for label in labels if label not in found]
    if not found:
        raise ValueError(f"None of the labels of {arg('results')} ({', '.join(map(repr, labels))}) is a word of "
                         "the lexicon, so there is nothing to map. Rename the columns to lexicon words (for "
                         "example 'joy', 'anger', 'sadness').")
    if missing:
        warn(f"{len(missing)} label(s) are not in the lexicon and were left out: {', '.join(map(repr, missing))}. "
             f"The VAD values come from the other labels ({', '.join(map(repr, found))}). Rename those columns to "
             f"lexicon words to include them.")
    values = [lexicon[label.strip().lower()] for label in found]
    out = {name: column for name, column in columns.items() if name not in labels}
    rows = []
    for i in range(len(next(iter(columns.values()))) if columns else 0):
        scores = [_number(columns[label][i]) for label in found]
        kept = [(s, v) for s, v in zip(scores, values) if not math.isnan(s)]
        if not kept:
            rows.append((float("nan"),) * 3)
        elif weighted:
            total = sum(s for s, _ in kept)
            rows.append(tuple(sum(s * v[j] for s, v in kept) / total if total > 0 else float("nan")
                              for j in range(3)))
        else:
            # max() keeps the first of equal scores, as R's which.max does.
            rows.append(max(kept, key=lambda sv: sv[0])[1])
    for j, dim in enumerate(DIMENSIONS):
        out[dim] = [float(r[j]) for r in rows]
    return out
