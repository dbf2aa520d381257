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

from .corpus import vad_corpus
from .labels import DEFINITIONAL_LABELS, DIMENSIONS, POLES, SIMPLE_LABELS, vad_labels
from .lexicon import map_discrete_to_vad
from .scores import detect_input_type, vad_scores

__all__ = ["vad_scores", "vad_corpus", "map_discrete_to_vad", "detect_input_type", "vad_labels", "DIMENSIONS", "POLES",
           "DEFINITIONAL_LABELS", "SIMPLE_LABELS"]
