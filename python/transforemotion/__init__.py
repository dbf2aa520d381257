"""transforemotion: zero-shot emotion scores for faces in images and video.

The Python backend of the R package transforEmotion, with the same function
names, arguments and defaults. Every public function returns a dict of
columns (name -> list), which ``pandas.DataFrame`` or R's ``as.data.frame``
turns into a table.

>>> import transforemotion as te
>>> te.list_vision_models()["name"]
['oai-base', 'oai-large', 'eva-8B', 'jina-v2']
"""

from .api import image_scores, image_scores_dir, video_scores
from .core.errors import ArgumentError, InputError, TransforemotionError
from .core.messages import TransforemotionWarning
from .corpus import read_corpus, rescore_corpus, score_corpus
from .embeddings_api import Embeddings, embed_dir, embed_images, embed_video, load_embeddings, rescore, save_embeddings
from .evaluation import evaluate_dir, evaluate_scores
from .models import TEMPLATE_SETS, list_vision_models, register_vision_model
from .plotting import plot_confusion, plot_scores
from .vad import map_discrete_to_vad, vad_corpus, vad_scores

__version__ = "0.1.0"

__all__ = [
    "image_scores",
    "image_scores_dir",
    "video_scores",
    "vad_scores",
    "vad_corpus",
    "map_discrete_to_vad",
    "score_corpus",
    "read_corpus",
    "rescore_corpus",
    "embed_images",
    "embed_dir",
    "embed_video",
    "rescore",
    "save_embeddings",
    "load_embeddings",
    "Embeddings",
    "evaluate_scores",
    "evaluate_dir",
    "plot_scores",
    "plot_confusion",
    "list_vision_models",
    "register_vision_model",
    "TransforemotionWarning",
    "TransforemotionError",
    "InputError",
    "ArgumentError",
    "TEMPLATE_SETS",
    "__version__",
]
