"""Score once, ask again: the public embedding functions.

``embed_images``, ``embed_dir`` and ``embed_video`` take the scoring
functions' arguments (without labels) and return the rows those would
return, with one image embedding per row instead of label scores
(:class:`~transforemotion.embeddings.Embeddings`). ``rescore`` turns them into
the scoring result for any labels without reading a picture again;
``save_embeddings`` / ``load_embeddings`` keep them in a Parquet file. The
work is done by the engine (the same path as scoring) and
:mod:`transforemotion.embeddings`; this module only checks and hands over.
"""

from __future__ import annotations

from typing import Dict, Optional, Sequence, Union

from .api import VIDEO_ORDER, VideoCall, dir_rows, image_rows, video_rows
from .core.checks import check_flag
from .core.options import takes_options, takes_paths
from .embeddings import Embeddings, embeddings_from_rows, read_embeddings, rescore_embeddings, write_embeddings
from .engine import ScoringOptions, embedding_request
from .media import DEFAULT_IMAGE_PATTERN, FrameSampling, SavedFiles

__all__ = ["Embeddings", "embed_images", "embed_dir", "embed_video", "rescore", "save_embeddings", "load_embeddings"]


def _embeddings(shaped) -> Embeddings:
    rows, request, leading = shaped
    return embeddings_from_rows(rows, request, leading, request.load())


@takes_options("image", skip=("templates",), options=ScoringOptions)
def embed_images(
    image: Union[str, Sequence[str]],
    *,
    options: ScoringOptions,
) -> Embeddings:
    """The image embedding of the face in each image, for :func:`rescore` with any labels later.

    Args:
        image, face_selection, model, local_model_path, face_boxes,
        batch_size, device, progress, face_workers: as in ``image_scores``.

    Returns:
        :class:`Embeddings`: ``rows`` (the columns ``image_scores`` gives
        before the labels: none with one face per image, ``image``, ``face``
        and the box with ``face_selection="all"``), ``vectors`` (float32, one
        unit vector per row, NaN where no face was found) and ``model`` (the
        record of the model that made them).

    Example:
        >>> emb = embed_images(["a.jpg", "b.jpg"])  # doctest: +SKIP
        >>> rescore(emb, ["joy", "anger"]) == image_scores(["a.jpg", "b.jpg"], ["joy", "anger"])  # doctest: +SKIP
    """
    return _embeddings(image_rows(image, embedding_request(options), "embed_images"))


@takes_options("dir face_selection pattern recursive", skip=("templates",), options=ScoringOptions)
def embed_dir(
    dir: str,
    pattern: str = DEFAULT_IMAGE_PATTERN,
    recursive: bool = False,
    *,
    options: ScoringOptions,
) -> Embeddings:
    """Embeddings of every image file in a folder: ``image_scores_dir``'s rows (``image_id``, ...), one vector each.

    Args: as in ``image_scores_dir``, without ``classes`` and ``templates``
    (those are the labels' side: give them to :func:`rescore`).
    """
    check_flag("recursive", recursive)
    return _embeddings(dir_rows(dir, pattern, recursive, embedding_request(options), "embed_dir"))


@takes_options(VIDEO_ORDER.replace("classes ", ""), skip=("templates",), options=ScoringOptions,
               sampling=FrameSampling, saving=SavedFiles)
def embed_video(
    video: str,
    timestamps: bool = False,
    *,
    options: ScoringOptions,
    sampling: FrameSampling,
    saving: SavedFiles,
) -> Embeddings:
    """Embeddings of the face in sampled frames of a video: ``video_scores``' rows, one vector each.

    Args: as in ``video_scores`` (the same frames are sampled), without
    ``classes`` and ``templates``.

    Example:
        >>> emb = embed_video("interview.mp4", ffreq=5, timestamps=True)  # doctest: +SKIP
        >>> rescore(emb, ["joy", "anger"])  # doctest: +SKIP
        {'frame': [0, 5, 10, ...], 'time': [0.0, 0.2, 0.4, ...], 'joy': [...], 'anger': [...]}
    """
    video_call = VideoCall.of(video, sampling, saving, timestamps)
    # With face_selection="all" people are followed through the video, as video_scores does: `person` rides along.
    request = embedding_request(options, video=True)
    return _embeddings(video_rows(video, request, "embed_video", video_call))


@takes_paths
def rescore(
    embeddings: Embeddings,
    classes: Sequence[str],
    templates: Union[None, str, Sequence[str]] = None,
    model: Optional[str] = None,
    local_model_path: Optional[str] = None,
    device: Optional[str] = None,
) -> Dict[str, list]:
    """Scores for new labels from kept embeddings, without reading a picture: the scoring function's result.

    The result equals what ``image_scores``, ``image_scores_dir`` or
    ``video_scores`` return for these labels and the same pictures (to about
    1e-7 with float32 embeddings; float16 files move scores by about 1e-4).
    Only the model's text tower runs. Valence and arousal, definitions, or
    prompt templates are just other labels.

    Args:
        embeddings: from ``embed_images``, ``embed_dir``, ``embed_video`` or ``load_embeddings``.
        classes: at least two labels.
        templates: as in ``image_scores``.
        model, local_model_path: ``None`` (the default): the model that made
            the embeddings, as recorded. A model named here must be that same
            model (a moved folder is fine: its weights are checked); another
            one is refused with an error.
        device: where the text tower runs (default: the first of CUDA, MPS, CPU).

    Returns:
        A dict of columns: the embeddings' row columns, then one per label.

    Raises:
        ValueError: the model named is not the one that made the embeddings,
            or a label has the name of a row column.
    """
    return rescore_embeddings(embeddings, classes, templates, model, local_model_path, device)


@takes_paths
def save_embeddings(embeddings: Embeddings, path: str, precision: str = "float32") -> str:
    """Write embeddings to a Parquet file (atomically: complete or absent); returns ``path``.

    Args:
        embeddings: from the embedding functions or ``load_embeddings``.
        path: the file to write (its folder must exist); an existing file is replaced.
        precision: ``"float32"`` (exact: rescores equal fresh scores) or
            ``"float16"`` (half the size, 1 KB a row for 512 dimensions;
            scores move by about 1e-4).

    The file has the row columns, an ``embedding`` column (fixed-size lists)
    and the model record as schema metadata; ``pandas.read_parquet`` and R's
    ``arrow::read_parquet`` read it too.
    """
    return write_embeddings(embeddings, path, precision)


@takes_paths
def load_embeddings(path: str) -> Embeddings:
    """The embeddings in a file written by :func:`save_embeddings`; a damaged or foreign file is a clear error."""
    return read_embeddings(path)
