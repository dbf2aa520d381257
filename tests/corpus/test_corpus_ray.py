"""score_corpus with engine="ray": the same rows as the local engine, failures handled alike."""

import csv
import os
import warnings

import numpy as np
import pytest

import transforemotion as te
from test_corpus import CLASSES, SAMPLING

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")

# Starting a Ray cluster takes most of the 15 s these tests take on 2 cores.
pytestmark = pytest.mark.slow


def ours(caught):
    """Our warnings among those recorded (Ray Data also warns about its own deprecated settings)."""
    return [str(w.message) for w in caught if issubclass(w.category, te.TransforemotionWarning)]


@pytest.fixture(scope="module")
def local_ray():
    # Two CPUs as on the CI machines; workers reserve half a CPU each so Ray keeps room for its own tasks.
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_engine_gives_the_local_engines_rows_and_failures(local_ray, tiny_model, corpus, tmp_path):
    broken = tmp_path / "broken.avi"
    broken.write_bytes(os.urandom(3000))
    inputs = [str(corpus / name) for name in ("a_moving.avi", "b_two.avi", "c_group.png", "d_face.jpg",
                                              "e_blank.png")] + [str(broken)]
    args = dict(face_selection="all", unit_size=4, local_model_path=tiny_model, progress=False, **SAMPLING)
    results = {}
    for engine in ("local", "ray"):
        out = str(tmp_path / engine)
        extra = dict(workers=2, cpus_per_worker=0.5) if engine == "ray" else {}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            summary = te.score_corpus(inputs, CLASSES, out, engine=engine, **args, **extra)
        assert len(ours(caught)) == 1 and "1 of 8 units could not be scored" in ours(caught)[0]
        assert summary["status"].count("scored") == 7
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", te.TransforemotionWarning)
            results[engine] = te.read_corpus(out)
        with open(os.path.join(out, "failures.csv"), newline="") as fh:
            assert [row["source"] for row in csv.DictReader(fh)] == [str(broken)]
    local, remote = results["local"], results["ray"]
    assert list(remote) == list(local)
    assert remote["source"] == local["source"] and len(local["source"]) > 20
    for column in ("frame", "time", "face", "x", "y", "width", "height"):
        np.testing.assert_array_equal(remote[column], local[column], err_msg=column)
    for column in ["confidence"] + CLASSES:
        np.testing.assert_allclose(remote[column], local[column], rtol=0, atol=1e-6, err_msg=column)

    # Resuming works the same on Ray: everything finished is skipped.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = te.score_corpus(inputs, CLASSES, str(tmp_path / "ray"), engine="ray", workers=2,
                                cpus_per_worker=0.5, **args)
    assert "1 of 8" in ours(caught)[0]
    assert again["status"].count("skipped") == 7 and again["status"].count("failed") == 1


def test_ray_refuses_more_gpus_than_the_cluster_has(local_ray, tiny_model, corpus, tmp_path):
    with pytest.raises(ValueError, match="more GPUs than the Ray cluster has"):
        te.score_corpus([str(corpus / "d_face.jpg")], CLASSES, str(tmp_path / "out"), engine="ray",
                        gpus_per_worker=1, local_model_path=tiny_model, progress=False)
