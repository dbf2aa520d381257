"""Fixtures for the model-loading tests: stand-in remote-code models on disk, pictures of the right sizes.

This folder is also what CI runs a second time under transformers 4.57 (see
README, "Tests"): jina-clip's code works only there, so its stand-in is loaded
there, while under 5.x the same tests check that it is refused.
"""

import numpy as np
import pytest
from PIL import Image

from .remote_code.build import EVA_IMAGE_SIZE, TRANSFORMERS_5, build_eva_like, build_jina_like


@pytest.fixture(scope="session")
def jina_folder(tmp_path_factory):
    """A jina-clip-v2 stand-in with its code in the folder (weights only where its code can run: 4.x)."""
    return build_jina_like(tmp_path_factory.mktemp("jina-like"), weights=not TRANSFORMERS_5)


@pytest.fixture(scope="session")
def eva_folder(tmp_path_factory):
    """An EVA-CLIP-8B-448 stand-in that, like the real one, ships no tokenizer."""
    return build_eva_like(tmp_path_factory.mktemp("eva-like"))


@pytest.fixture(scope="session")
def eva_folder_with_tokenizer(tmp_path_factory):
    """The same weights as ``eva_folder`` (same seed), with CLIP's byte-level tokenizer in the folder."""
    return build_eva_like(tmp_path_factory.mktemp("eva-like-tok"), tokenizer=True)


@pytest.fixture(scope="session")
def pictures(tmp_path_factory):
    """The astronaut (512 x 512, public domain) as PNG at 512 and cropped to 448, and a 300 x 420 portrait crop."""
    from skimage import data

    astronaut = data.astronaut()
    folder = tmp_path_factory.mktemp("pictures")
    paths = {
        512: folder / "astronaut-512.png",
        EVA_IMAGE_SIZE: folder / "astronaut-448.png",
        "portrait": folder / "portrait.png",
    }
    Image.fromarray(astronaut).save(paths[512])
    Image.fromarray(np.ascontiguousarray(astronaut[20:468, 40:488])).save(paths[EVA_IMAGE_SIZE])
    Image.fromarray(np.ascontiguousarray(astronaut[0:420, 100:400])).save(paths["portrait"])
    return {k: str(v) for k, v in paths.items()}
