"""load_embeddings while another process keeps replacing the same file with save_embeddings.

save_embeddings writes a new file and renames it over the old one, so a reader
that opens the path once sees one whole file. A reader that opened it again
for each part (schema, vectors, rows) could give one file's rows with the
other's vectors, silently (709 of 3,235 loads did before the fix).
"""

import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import transforemotion as te

pytest.importorskip("pyarrow")
pytestmark = pytest.mark.slow  # starts Python again

ROWS = 3000
SECONDS = 8.0

WRITER = textwrap.dedent("""
    import os, sys
    import transforemotion as te
    first, second, target, ready = sys.argv[1:5]
    both = [te.load_embeddings(first), te.load_embeddings(second)]
    k = 0
    while True:
        te.save_embeddings(both[k % 2], target)
        k += 1
        if k == 2:
            open(ready, "w").close()
""")


def test_rows_and_vectors_always_come_from_the_same_file(tiny_model, image_dir, tmp_path):
    model = te.embed_images(str(image_dir / "astronaut.jpg"), local_model_path=tiny_model).model
    dim = model["dim"]
    files = {}
    for k, name in enumerate("AB"):
        vectors = np.zeros((ROWS, dim), np.float32)
        vectors[:, k] = 1.0
        emb = te.Embeddings({"image": [name] * ROWS, "face": list(range(ROWS))}, vectors, model)
        files[name] = te.save_embeddings(emb, str(tmp_path / f"{name}.parquet"))
    target, ready = tmp_path / "e.parquet", tmp_path / "ready"
    te.save_embeddings(te.load_embeddings(files["A"]), str(target))
    log = tmp_path / "writer.log"
    with open(log, "wb") as err:
        writer = subprocess.Popen([sys.executable, "-c", WRITER, files["A"], files["B"], str(target), str(ready)],
                                  env=dict(os.environ), stderr=err)
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert writer.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the writer did not start"
            time.sleep(0.05)
        loads, mixed, seen = 0, [], set()
        stop = time.monotonic() + SECONDS
        while time.monotonic() < stop:
            emb = te.load_embeddings(str(target))
            loads += 1
            names = set(emb.rows["image"])
            which = {int(i) for i in np.argmax(emb.vectors, axis=1)}
            seen |= names
            if len(names) != 1 or which != {"AB".index(next(iter(names)))} or emb.rows["face"] != list(range(ROWS)):
                mixed.append((sorted(names), sorted(which)))
        assert writer.poll() is None, log.read_text()
    finally:
        writer.kill()
        writer.wait()
    assert loads > 20 and seen == {"A", "B"}, (loads, seen)  # the file really was replaced while being read
    assert not mixed, f"{len(mixed)} of {loads} loads mixed two files, e.g. {mixed[0]}"
