"""``map_discrete_to_vad``: discrete emotion scores to valence, arousal and dominance through a lexicon."""

from __future__ import annotations

import csv
import math
import numbers
import os
from typing import Dict, Mapping, Sequence, Tuple

from ..core.errors import ArgumentError, InputNotFoundError
from ..core.checks import check_choice, check_flag
from ..core.messages import arg, current_caller, function, warn
from ..engine import METADATA_COLUMNS
from ..evaluation import columns_of, label_columns
from .labels import DIMENSIONS, as_text
from ..core.options import takes_paths

__all__ = ["map_discrete_to_vad"]

_NRC_VAD_PAGE = "https://saifmohammad.com/WebPages/nrc-vad.html"

_LEXICON_CACHE: Dict[Tuple[str, int, int], Dict[str, Tuple[float, float, float]]] = {}

_WORD_NAMES = ("word", "term")


def _lexicon_advice() -> str:
    kind = current_caller()
    # R's map_discrete_to_vad() takes a data frame or a file; a named list stops there, so it is not offered.
    tables = "a data frame or a CSV/TSV file" if kind == "r" else "a data frame, a dict, or a CSV/TSV file"
    if kind == "r":
        how = ("In R, textdata::lexicon_nrc_vad() downloads it once, after you accept its licence in an interactive "
               "session; then pass vad_lexicon = textdata::lexicon_nrc_vad(). Or download it from its authors' "
               f"page, {_NRC_VAD_PAGE}, and pass the file: vad_lexicon = \"NRC-VAD-Lexicon.txt\".")
    else:
        how = (f"Download it from its authors' page, {_NRC_VAD_PAGE} (in R, textdata::lexicon_nrc_vad() also "
               f"fetches it), unzip it, and pass the file: {arg('vad_lexicon', 'NRC-VAD-Lexicon.txt')}.")
    return (f"{function('map_discrete_to_vad')} needs a lexicon, given with {arg('vad_lexicon')}, and never downloads "
            f"one: the NRC VAD lexicon's terms (free for research) are for you to accept. {how} Any table with "
            f"the columns word, valence, arousal and dominance works too ({tables}).")


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
        raise ArgumentError(f"{source} must have the columns word, valence, arousal and dominance (in any case; "
                         f"'term' for word also works); found {', '.join(map(str, columns)) or 'none'}.")
    words, *dims = (list(columns[k]) for k in keys)
    lexicon: Dict[str, Tuple[float, float, float]] = {}
    for i, word in enumerate(words):
        if not isinstance(word, str) or not word.strip():
            continue
        try:
            vad = tuple(_number(d[i]) for d in dims)
        except (ValueError, TypeError):
            raise ArgumentError(f"{source}: the values for {word!r} must be numbers; got "
                             f"{[d[i] for d in dims]!r}.") from None
        key = word.strip().lower()
        # The first entry of a word wins, as in transforEmotion; rows with a missing value are dropped, as there.
        if key not in lexicon and not any(math.isnan(v) for v in vad):
            lexicon[key] = vad
    if not lexicon:
        raise ArgumentError(f"{source} has no complete entry (a word with valence, arousal and dominance).")
    return lexicon


def _read_lexicon_file(path: str) -> Dict[str, Tuple[float, float, float]]:
    if not os.path.exists(path):
        raise InputNotFoundError(f"Lexicon file not found: {path}. {_lexicon_advice()}")
    if os.path.isdir(path):
        raise ArgumentError(f"{arg('vad_lexicon')} is a folder ({path}); pass the lexicon file in it, such as "
                         f"NRC-VAD-Lexicon.txt.")
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ArgumentError(f"Could not read the lexicon file {path}: {exc}.") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise ArgumentError(f"The lexicon file {path} is empty.")
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
        raise ArgumentError(_lexicon_advice())
    vad_lexicon = as_text(vad_lexicon)
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
                raise ArgumentError(f"{arg('vad_lexicon')} as a dict maps each word to (valence, arousal, dominance), "
                                 f"or holds the columns word, valence, arousal, dominance; got {word!r}: {vad!r}.")
            words.append(word)
            for d, v in zip(DIMENSIONS, vad):
                dims[d].append(v)
        return _lexicon_from_columns({"word": words, **dims}, arg("vad_lexicon"))
    raise ArgumentError(f"{arg('vad_lexicon')} must be a lexicon file path, a data frame or a dict with the columns "
                     f"word, valence, arousal and dominance; got {type(vad_lexicon).__name__}. {_lexicon_advice()}")


@takes_paths
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
        raise ArgumentError(f"{arg('results')} must be a result of image_scores(), image_scores_dir() or "
                         f"video_scores() (a dict of columns or a data frame); got {type(results).__name__}. Text "
                         f"scores (transformer_scores()) are not supported: this package scores faces.") from None
    labels = label_columns(columns)
    if not labels:
        raise ArgumentError(f"{arg('results')} has no label columns (numeric columns other than "
                         f"{', '.join(sorted(METADATA_COLUMNS))}); found {', '.join(columns) or 'no columns'}.")
    lexicon = _read_lexicon(vad_lexicon, cache_lexicon)
    found = [label for label in labels if label.strip().lower() in lexicon]
    missing = [label for label in labels if label not in found]
    if not found:
        raise ArgumentError(f"None of the labels of {arg('results')} ({', '.join(map(repr, labels))}) is a word of "
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

