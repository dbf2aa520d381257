"""Corpora: scoring many videos and images resumably, locally or on Ray, and reading the results back.

- :mod:`.inputs`: the sources (folders, lists, manifests) and their cutting into units.
- :mod:`.units`: scoring units through the engine's stream, one result table per unit.
- :mod:`.store`: the output folder: record, Parquet parts, failures, lock.
- :mod:`.ray_engine`: the same units on a Ray Data actor pool.
- :mod:`.runner`: :func:`score_corpus`; :mod:`.reading`: :func:`read_corpus`.
- :mod:`.tracked_parts`: the tracker's columns in a video unit's part, and the person ids read back from them.
- :mod:`.rescoring`: :func:`rescore_corpus`, new labels from the embeddings kept in the parts.
"""

from .reading import read_corpus
from .rescoring import rescore_corpus
from .runner import DEFAULT_UNIT_SIZE, ENGINES, score_corpus
from .store import CorpusFolder

__all__ = ["read_corpus", "rescore_corpus", "score_corpus", "DEFAULT_UNIT_SIZE", "ENGINES", "CorpusFolder"]
