"""Models named by hub id: the local cache first, a quick and clear failure without a network (issue #11).

The slow failure came from transformers' retries against an unreachable hub
(half a minute and more before the error). These tests point HF_ENDPOINT at a
closed port on 127.0.0.1, a real address that refuses every connection, in a
fresh Python process (the hub's address and cache folder are read at import),
with an empty or a prepared Hugging Face cache in a temporary folder.
"""

import json
import os
import shutil
import socket
import subprocess
import sys

import numpy as np
import pytest

import transforemotion
from transforemotion import models
from transforemotion.core.messages import caller
from .remote_code.build import put_in_hub_cache

# Each test starts Python again or waits for a hub that does not answer: about 25 s on 2 cores in all.
pytestmark = pytest.mark.slow

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(transforemotion.__file__)))
TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # for models.remote_code
LABELS = ["joy", "anger", "surprise"]

# Well beyond an import of torch and transformers on a slow machine, well
# below the 25 to 40 s that the retries took.
QUICK_SECONDS = 10

LOAD = """
import json, sys, time
from transforemotion import models
start = time.perf_counter()
try:
    models.load_model(sys.argv[1], device="cpu")
    outcome = "loaded"
except OSError as exc:
    outcome = str(exc)
print(json.dumps({"seconds": time.perf_counter() - start, "outcome": outcome}))
"""

SCORE = """
import json, sys, time
import transforemotion as te
picture, local, repos = sys.argv[1], sys.argv[2], sys.argv[3:]
options = dict(face_selection="none", device="cpu")
out = {"local": te.image_scores(picture, %r, local_model_path=local, **options)}
for repo in repos:
    start = time.perf_counter()
    out[repo] = te.image_scores(picture, %r, model=repo, **options)
    out[repo + " seconds"] = time.perf_counter() - start
print(json.dumps(out))
""" % (LABELS, LABELS)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: connections are refused


def run_python(args, hf_home, **env):
    environment = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
                                                                   "HF_HUB_CACHE", "HF_ENDPOINT")}
    environment.update(HF_HOME=str(hf_home), PYTHONPATH=os.pathsep.join(
        [PACKAGE_ROOT, TESTS] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    environment.update(env)
    done = subprocess.run([sys.executable] + args, capture_output=True, text=True, timeout=300, env=environment)
    return done


def last_json(done):
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_an_unreachable_hub_fails_in_seconds_and_names_local_model_path(tmp_path):
    port = closed_port()
    done = run_python(["-c", LOAD, "someorg/not-downloaded"], tmp_path / "hf", HF_ENDPOINT=f"http://127.0.0.1:{port}")
    result = last_json(done)
    assert result["outcome"] != "loaded"
    assert f"127.0.0.1:{port}" in result["outcome"] and "local_model_path" in result["outcome"]
    assert result["seconds"] < QUICK_SECONDS, result
    assert "Retrying" not in done.stderr


@pytest.fixture
def empty_hub():
    """A real HTTP server on 127.0.0.1 that answers 404 to everything: a hub without the model asked for."""
    import http.server
    import threading

    class NotFound(http.server.BaseHTTPRequestHandler):
        def _not_found(self):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_HEAD = _not_found

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_hub_without_the_model_fails_in_seconds_and_says_so(tmp_path, empty_hub):
    done = run_python(["-c", LOAD, "someorg/not-on-this-hub"], tmp_path / "hf", HF_ENDPOINT=empty_hub)
    result = last_json(done)
    assert result["outcome"].startswith("Could not download or load 'someorg/not-on-this-hub'")
    assert "local_model_path" in result["outcome"]
    assert result["seconds"] < QUICK_SECONDS, result
    assert "Retrying" not in done.stderr


def test_offline_mode_fails_at_once_without_trying_the_network(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(OSError, match="HF_HUB_OFFLINE.*local_model_path"):
        models.load_model("someorg/never-downloaded-anywhere", device="cpu")
    with caller("cli"), pytest.raises(OSError, match="HF_HUB_OFFLINE.*--local-model-path"):
        models.load_model("someorg/never-downloaded-anywhere", device="cpu")


@pytest.fixture
def hub_cache(tmp_path, tiny_model):
    """A Hugging Face cache holding the tiny CLIP twice: with its preprocessor_config.json, and without it
    (as after a download by AutoModel and AutoTokenizer alone, which never ask for that file)."""
    hf_home = tmp_path / "hf"
    put_in_hub_cache(hf_home / "hub", "someorg/tiny-clip", tiny_model)
    snapshot = put_in_hub_cache(hf_home / "hub", "someorg/tiny-clip-bare", tiny_model)
    os.remove(os.path.join(snapshot, "preprocessor_config.json"))
    return hf_home


@pytest.mark.parametrize("network", ["unreachable", "HF_HUB_OFFLINE"])
def test_a_cached_model_loads_by_its_id_without_the_network(hub_cache, tiny_model, pictures, network):
    env = {"HF_ENDPOINT": f"http://127.0.0.1:{closed_port()}"} if network == "unreachable" else {
        "HF_HUB_OFFLINE": "1"}
    repos = ["someorg/tiny-clip", "someorg/tiny-clip-bare"]
    done = run_python(["-c", SCORE, pictures[512], tiny_model] + repos, hub_cache, **env)
    out = last_json(done)
    for repo in repos:
        assert list(out[repo]) == LABELS
        for label in LABELS:
            assert out[repo][label] == pytest.approx(out["local"][label], abs=1e-6)
        assert out[repo + " seconds"] < QUICK_SECONDS
    assert "Retrying" not in done.stderr


EVA_TOKENIZER_IN_CACHE = """
import json, sys
from transforemotion import models
from models.remote_code.build import EVA_TOKENIZER_REPO, put_in_hub_cache
folder, tokenizer_folder, hub_cache = sys.argv[1:4]
labels = ["joy", "радость", "喜悦"]
try:
    models.load_model(local_model_path=folder, device="cpu")
    before = "loaded"
except ValueError as exc:
    before = str(exc)
put_in_hub_cache(hub_cache, EVA_TOKENIZER_REPO, tokenizer_folder)
vlm = models.load_model(local_model_path=folder, device="cpu")
print(json.dumps({"before": before, "texts": vlm.embed_texts(labels).tolist()}))
"""


def test_eva_without_a_tokenizer_reads_clip_large_s_from_the_cache(eva_folder, eva_folder_with_tokenizer, tmp_path):
    """EVA-CLIP-8B-448 ships no tokenizer: CLIP ViT-L/14's is used, from the cache, never downloaded for a folder."""
    tokenizer_only = tmp_path / "clip-large-tokenizer"
    tokenizer_only.mkdir()
    for name in os.listdir(eva_folder_with_tokenizer):
        if "token" in name or name in ("vocab.json", "merges.txt"):
            shutil.copy(os.path.join(eva_folder_with_tokenizer, name), tokenizer_only / name)
    hf_home = tmp_path / "hf"
    done = run_python(["-c", EVA_TOKENIZER_IN_CACHE, eva_folder, str(tokenizer_only), str(hf_home / "hub")],
                      hf_home, HF_ENDPOINT=f"http://127.0.0.1:{closed_port()}")
    out = last_json(done)
    assert "openai/clip-vit-large-patch14" in out["before"] and "tokenizer" in out["before"]
    # Same weights (same seed), same tokenizer: the same text embeddings as the folder that ships it.
    with_own = models.load_model(local_model_path=eva_folder_with_tokenizer, device="cpu")
    expected = with_own.embed_texts(["joy", "радость", "喜悦"]).tolist()
    np.testing.assert_allclose(out["texts"], expected, atol=1e-6)
