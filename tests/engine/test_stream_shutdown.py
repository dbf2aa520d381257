"""The scoring stream's threads: closed early or interrupted, it stops reading, leaves no thread behind and puts
the thread counts back exactly; its threads speak the caller's language; the thread counts are set only when
they change."""

import signal
import threading
import time

import cv2
import pytest
import torch

from transforemotion import models
from transforemotion.core.errors import ArgumentError
from transforemotion.core.messages import arg, caller
from transforemotion.engine import Picture, ScoringPlan, score_all
from transforemotion.engine import stream

CLASSES = ("joy", "anger", "surprise")
BATCH = 2


@pytest.fixture(scope="module")
def vlm(tiny_model):
    return models.load_model(local_model_path=tiny_model)


class Endless:
    """Pictures without end, counted as they are read; ``delay`` seconds for each after the first."""

    def __init__(self, image, delay=0.0):
        self.image, self.delay, self.read = image, delay, 0

    def __iter__(self):
        while True:
            if self.read and self.delay:
                time.sleep(self.delay)
            self.read += 1
            yield Picture(self.read - 1, self.image)


@pytest.fixture
def counts(monkeypatch):
    """Thread counts the stream changes (torch is lowered: four cores, as it sees them), restored after the test."""
    torch_was, cv_was = torch.get_num_threads(), cv2.getNumThreads()
    torch.set_num_threads(2)
    cv2.setNumThreads(3)
    monkeypatch.setattr(stream, "usable_cores", lambda: 4)
    yield 2, 3
    torch.set_num_threads(torch_was)
    cv2.setNumThreads(cv_was)


def new_threads(before):
    return [t.name for t in threading.enumerate() if t not in before]


def plan(workers):
    return ScoringPlan(CLASSES, "largest", BATCH, face_workers=workers)


@pytest.mark.parametrize("workers", [1, 3])
@pytest.mark.parametrize("closed_by", ["close", "break"])
def test_a_stream_closed_after_its_first_batch_stops_reading_and_restores_the_thread_counts(
        vlm, astronaut, counts, workers, closed_by):
    before = threading.enumerate()
    pictures = Endless(astronaut)
    rows = stream.score_stream(vlm, pictures, plan(workers))
    if closed_by == "close":
        first = next(rows)
        assert cv2.getNumThreads() == 1  # one OpenCV thread per face thread while the stream runs
        rows.close()
    else:
        for first in rows:
            break
        del rows  # a for loop left early: the stream is closed when it is dropped
    assert len(first) == 1
    assert not new_threads(before)
    assert (torch.get_num_threads(), cv2.getNumThreads()) == counts
    read = pictures.read
    assert read <= 1 + 2 * BATCH + 1  # the first batch, the look-ahead, one being read
    time.sleep(0.2)
    assert pictures.read == read


@pytest.mark.parametrize("workers", [1, 3])
def test_ctrl_c_in_the_callers_code_stops_the_stream_promptly(vlm, astronaut, counts, workers):
    before = threading.enumerate()

    def interrupt(rows):
        raise KeyboardInterrupt

    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        score_all(vlm, Endless(astronaut), plan(workers), on_rows=interrupt)
    assert time.monotonic() - start < 10  # the model's first batch included
    assert not new_threads(before)
    assert (torch.get_num_threads(), cv2.getNumThreads()) == counts


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs signal.pthread_kill (POSIX)")
@pytest.mark.parametrize("workers", [1, 3])
def test_ctrl_c_while_the_stream_waits_for_pictures_stops_it_promptly(vlm, astronaut, counts, workers):
    assert threading.current_thread() is threading.main_thread()
    before = threading.enumerate()
    rows = stream.score_stream(vlm, Endless(astronaut, delay=0.4), plan(workers))
    next(rows)
    timer = threading.Timer(0.2, signal.pthread_kill, (threading.main_thread().ident, signal.SIGINT))
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        timer.start()
        for _ in rows:
            pass
    assert time.monotonic() - start < 2
    timer.join()
    assert not new_threads(before)
    assert (torch.get_num_threads(), cv2.getNumThreads()) == counts


@pytest.mark.parametrize("workers", [1, 3])
@pytest.mark.parametrize("where", ["finding faces", "reading"])
def test_an_error_in_the_streams_threads_is_spelled_for_an_r_caller(vlm, astronaut, monkeypatch, workers, where):
    original = stream._targets

    def failing(picture, *options):
        if picture.key == 2:
            raise ArgumentError(f"try {arg('face_selection', 'all')}")
        return original(picture, *options)

    def pictures():
        for i in range(5):
            if i == 2 and where == "reading":
                raise ArgumentError(f"try {arg('face_selection', 'all')}")
            yield Picture(i, astronaut)

    if where == "finding faces":
        monkeypatch.setattr(stream, "_targets", failing)
    with caller("r"), pytest.raises(ArgumentError) as info:
        score_all(vlm, pictures(), plan(workers))
    assert str(info.value) == 'try face_selection = "all"'


def test_the_thread_counts_are_set_only_when_they_change(vlm, astronaut, counts, monkeypatch):
    calls = {"torch": [], "opencv": []}
    for name, setting in (("torch", stream._TORCH_THREADS), ("opencv", stream._OPENCV_THREADS)):
        def recording(value, name=name, get=setting._get, set_=setting._set):
            calls[name].append((get(), value))
            set_(value)

        monkeypatch.setattr(setting, "_set", recording)
    score_all(vlm, (Picture(i, astronaut) for i in range(7)), plan(3))
    assert (torch.get_num_threads(), cv2.getNumThreads()) == counts
    assert calls["opencv"] == [(3, 1), (1, 3)]  # once to one thread, once back
    assert calls["torch"][0] == (2, 1) and calls["torch"][-1][1] == 2
    assert all(was != now for was, now in calls["torch"]), calls["torch"]
