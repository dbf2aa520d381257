"""The parallel pipeline: several threads find faces while one decodes and the model embeds.

Whatever the number of face-finding threads, the rows are the same, in the same order; the process-wide
thread counts of OpenCV and torch are as they were afterwards; a failure in a face thread reaches the caller.
"""

import threading

import cv2
import numpy as np
import pytest
import torch

import transforemotion as te
from transforemotion import models
from transforemotion.core.checks import resolve_face_workers, usable_cores
from transforemotion.engine import Picture, ScoringPlan, score_all
from transforemotion.engine import stream

CLASSES = ["joy", "anger", "surprise"]


def same_result(a, b):
    assert list(a) == list(b)
    for column in a:
        np.testing.assert_allclose(np.asarray(a[column], dtype=float), np.asarray(b[column], dtype=float),
                                   rtol=0, atol=1e-6, equal_nan=True, err_msg=column)


@pytest.mark.parametrize("selection", ["all", "largest"])
def test_more_face_threads_give_the_same_rows_in_the_same_order(tiny_model, face_video, monkeypatch, selection):
    monkeypatch.setenv("TRANSFOREMOTION_FACE_WORKERS", "1")
    one = te.video_scores(face_video, CLASSES, nframes=12, ffreq=2, face_selection=selection, timestamps=True,
                          local_model_path=tiny_model, batch_size=4)
    monkeypatch.setenv("TRANSFOREMOTION_FACE_WORKERS", "3")
    three = te.video_scores(face_video, CLASSES, nframes=12, ffreq=2, face_selection=selection, timestamps=True,
                            local_model_path=tiny_model, batch_size=4)
    same_result(one, three)
    assert len(one["frame"]) >= 12


def test_a_folder_with_a_bad_file_keeps_its_order_with_face_threads(tiny_model, image_dir, tmp_path, monkeypatch):
    folder = tmp_path / "mixed"
    folder.mkdir()
    for path in sorted(image_dir.iterdir()):
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "broken.jpg").write_bytes(b"not an image")
    monkeypatch.setenv("TRANSFOREMOTION_FACE_WORKERS", "1")
    with pytest.warns(te.TransforemotionWarning):
        one = te.image_scores_dir(str(folder), CLASSES, face_selection="all", local_model_path=tiny_model)
    monkeypatch.setenv("TRANSFOREMOTION_FACE_WORKERS", "4")
    with pytest.warns(te.TransforemotionWarning):
        four = te.image_scores_dir(str(folder), CLASSES, face_selection="all", local_model_path=tiny_model)
    assert one["image_id"] == four["image_id"] and "broken.jpg" in one["image_id"]
    same_result({k: v for k, v in one.items() if k != "image_id"}, {k: v for k, v in four.items() if k != "image_id"})


class ThreadWatch:
    """Records torch's thread count at each forward pass and OpenCV's at each picture read; the pictures after
    the first are held back until the first batch is embedded, so it is embedded while faces are still found."""

    def __init__(self, monkeypatch, astronaut):
        self.astronaut, self.read, self.embedded = astronaut, [], []
        self.first_embedded = threading.Event()
        original = models.VisionLanguageModel.embed_pixels

        def counting(model, pixel_values):
            self.embedded.append(torch.get_num_threads())
            self.first_embedded.set()
            return original(model, pixel_values)

        monkeypatch.setattr(models.VisionLanguageModel, "embed_pixels", counting)

    def pictures(self, count):
        self.embedded.clear()
        self.first_embedded.clear()
        for i in range(count):
            if i == 1:
                assert self.first_embedded.wait(30)
            self.read.append(cv2.getNumThreads())
            yield Picture(i, self.astronaut)


def test_thread_counts_are_restored_and_torch_yields_cores_to_the_face_threads(tiny_model, astronaut, monkeypatch,
                                                                               set_torch_threads):
    vlm = models.load_model(local_model_path=tiny_model)
    set_torch_threads(2)
    torch_before, cv_before = torch.get_num_threads(), cv2.getNumThreads()
    watch = ThreadWatch(monkeypatch, astronaut)
    monkeypatch.setattr(stream, "usable_cores", lambda: 4)
    rows = score_all(vlm, watch.pictures(4), ScoringPlan(tuple(CLASSES), "largest", 2, face_workers=3))
    assert len(rows) == 4 and not np.isnan(rows.scores).any()
    assert (torch.get_num_threads(), cv2.getNumThreads()) == (torch_before, cv_before)
    assert watch.read == [1, 1, 1, 1]
    # While faces are being found, torch runs on the cores the three face threads leave it (4 - 3); the
    # last batch comes after every face was found, and gets the caller's count back.
    embedded = watch.embedded
    assert embedded[0] == 1 and embedded[-1] == torch_before and len(embedded) == 3


def test_the_reader_alone_also_leaves_a_core_to_face_finding(tiny_model, astronaut, monkeypatch, set_torch_threads):
    vlm = models.load_model(local_model_path=tiny_model)
    set_torch_threads(2)
    watch = ThreadWatch(monkeypatch, astronaut)
    monkeypatch.setattr(stream, "usable_cores", lambda: 2)
    score_all(vlm, watch.pictures(3), ScoringPlan(tuple(CLASSES), "largest", 2, face_workers=1))
    assert watch.embedded[0] == 1 and watch.embedded[-1] == 2
    # Without a face search the reader only decodes: torch keeps every core throughout.
    score_all(vlm, watch.pictures(3), ScoringPlan(tuple(CLASSES), "none", 2, face_workers=1))
    assert set(watch.embedded) == {2} and torch.get_num_threads() == 2


def test_a_failure_in_a_face_thread_reaches_the_caller(tiny_model, astronaut, monkeypatch):
    vlm = models.load_model(local_model_path=tiny_model)

    def broken(picture, selection, *options):
        if picture.key == 2:
            raise RuntimeError("detector exploded")
        return original(picture, selection, *options)

    original = stream._targets
    monkeypatch.setattr(stream, "_targets", broken)
    with pytest.raises(RuntimeError, match="detector exploded"):
        score_all(vlm, (Picture(i, astronaut) for i in range(5)), ScoringPlan(tuple(CLASSES), "largest", 2,
                                                                               face_workers=3))


def test_face_workers_default_and_checks(monkeypatch):
    monkeypatch.delenv("TRANSFOREMOTION_FACE_WORKERS", raising=False)
    assert resolve_face_workers(None, "cpu", "none") == 1
    assert resolve_face_workers(None, "cpu", "largest") == max(1, usable_cores() // 4)
    assert resolve_face_workers(None, "cuda", "all") == max(1, usable_cores() - 1)
    assert resolve_face_workers(3.0, "cpu", "largest") == 3
    for bad in (0, 2.5, True, 10_000):
        with pytest.raises(ValueError, match="face_workers"):
            resolve_face_workers(bad)
    monkeypatch.setenv("TRANSFOREMOTION_FACE_WORKERS", "lots")
    with pytest.raises(ValueError, match="TRANSFOREMOTION_FACE_WORKERS is 'lots'"):
        resolve_face_workers(None)


def test_face_workers_is_a_per_call_option_in_python_and_the_shell(tiny_model, face_video, image_dir, tmp_path,
                                                                    capsys):
    from transforemotion import cli

    kwargs = dict(nframes=6, ffreq=3, face_selection="all", local_model_path=tiny_model)
    same_result(te.video_scores(face_video, CLASSES, face_workers=1, **kwargs),
                te.video_scores(face_video, CLASSES, face_workers=3, **kwargs))
    with pytest.raises(ValueError, match="face_workers"):
        te.image_scores_dir(str(image_dir), CLASSES, face_workers=0, local_model_path=tiny_model)
    out = tmp_path / "scores.csv"
    args = ["image", str(image_dir / "astronaut.jpg"), "--classes", *CLASSES, "--local-model-path", tiny_model,
            "-o", str(out)]
    assert cli.main(args + ["--face-workers", "2"]) == 0 and out.read_text().startswith("image,joy,anger,surprise")
    assert cli.main(args + ["--face-workers", "0"]) == 2
    assert "--face-workers" in capsys.readouterr().err
