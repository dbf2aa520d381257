"""``vad_corpus``: valence, arousal and dominance of every face in a corpus, scored resumably.

The corpus is scored with :func:`~transforemotion.corpus.score_corpus` against
the pole descriptions of the requested dimensions (every face embedded once,
as in ``vad_scores``), and each dimension is then the contrast of its two
poles. Running the same call again skips the finished units, so it also reads
a finished corpus back.
"""

from __future__ import annotations

import inspect
from typing import Dict, Optional, Sequence, Union

from ..core.errors import ArgumentError
from ..core.messages import arg, function
from ..corpus import read_corpus, score_corpus
from .labels import DIMENSIONS, check_dimensions, pole_classes, vad_columns, vad_labels
from ..core.options import takes_paths

__all__ = ["vad_corpus"]

# What vad_corpus decides itself; every other option of score_corpus is passed through.
_OWN = ("inputs", "classes", "output_dir")


@takes_paths
def vad_corpus(
    inputs: Union[str, Sequence[str]],
    output_dir: str,
    dimensions: Sequence[str] = DIMENSIONS,
    label_type: str = "definitional",
    custom_labels: Optional[Dict[str, Dict[str, str]]] = None,
    **options,
) -> Dict[str, list]:
    """Valence, arousal and dominance of the faces in a corpus of videos and images.

    Args:
        inputs, output_dir: as in ``score_corpus`` (a folder, a list of files
            or a manifest; the folder the parts are saved in).
        dimensions, label_type, custom_labels: as in ``vad_scores``.
        **options: any other option of ``score_corpus`` (``nframes``,
            ``ffreq``, ``face_selection``, ``engine``, ``model``,
            ``local_model_path``, ``templates``, ...).

    Returns:
        The corpus as ``read_corpus`` gives it, with one column per dimension
        (the probability of its high pole against its low pole) in place of
        the pole descriptions' scores.

    Example:
        >>> vad_corpus("videos/", "vad-out/", nframes=20, ffreq=5)  # doctest: +SKIP
        {'source': ['a.mp4', ...], 'frame': [0, 5, ...], 'time': [...], 'valence': [...], 'arousal': [...], ...}
    """
    known = [name for name in inspect.signature(score_corpus).parameters if name not in _OWN]
    unknown = [name for name in options if name not in known]
    if unknown:
        raise ArgumentError(f"{function('vad_corpus')} does not take {', '.join(arg(n) for n in unknown)}; it passes "
                            f"these options on to {function('score_corpus')}: {', '.join(arg(n) for n in known)}.")
    labels = vad_labels(label_type, custom_labels, check_dimensions(dimensions))
    score_corpus(inputs, pole_classes(labels), output_dir, **options)
    return vad_columns(read_corpus(output_dir), labels)
