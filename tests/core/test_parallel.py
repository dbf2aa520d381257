"""The one ordered parallel map: input order, bounded look-ahead, the caller's context, errors and shutdown."""

import contextvars
import itertools
import random
import signal
import threading
import time

import pytest

from transforemotion.core.errors import ArgumentError
from transforemotion.core.messages import arg, caller
from transforemotion.core.parallel import ordered_map

MODES = [pytest.param(False, id="pulled-here"), pytest.param(True, id="read-ahead")]

_VAR: contextvars.ContextVar = contextvars.ContextVar("test_parallel_var", default="unset")


class Counted:
    """An input that counts the items pulled from it; endless unless ``count`` is given."""

    def __init__(self, count=None):
        self.pulled = 0
        self._source = itertools.count() if count is None else iter(range(count))
        self.threads = set()

    def __iter__(self):
        return self

    def __next__(self):
        item = next(self._source)
        self.pulled += 1
        self.threads.add(threading.current_thread().name)
        return item


def threads_after(before):
    """The threads alive now that were not alive before."""
    return [t for t in threading.enumerate() if t not in before]


def slow_square(x):
    time.sleep(random.random() * 0.01)
    return x * x


@pytest.mark.parametrize("read_ahead", MODES)
@pytest.mark.parametrize("workers", [0, 1, 4])
def test_results_come_in_input_order_whatever_the_delays(read_ahead, workers):
    before = threading.enumerate()
    with ordered_map(slow_square, range(60), workers, 5, read_ahead=read_ahead) as results:
        assert list(results) == [x * x for x in range(60)]
    assert not threads_after(before)


@pytest.mark.parametrize("read_ahead", MODES)
def test_the_input_is_pulled_at_most_lookahead_items_ahead(read_ahead):
    source = Counted(40)
    seen_ahead = []
    with ordered_map(slow_square, source, 3, 4, read_ahead=read_ahead) as results:
        for taken, _ in enumerate(results, 1):
            time.sleep(0.01)  # time for the threads to run as far ahead as they may
            seen_ahead.append(source.pulled - taken)
            assert source.pulled <= taken + 4
    assert source.pulled == 40
    assert max(seen_ahead) >= 3  # it does work ahead
    if read_ahead:
        assert source.threads == {"transforemotion-read"}
    else:
        assert source.threads == {threading.current_thread().name}


class Exploded(ArgumentError):
    pass


@pytest.mark.parametrize("read_ahead", MODES)
@pytest.mark.parametrize("error", [Exploded("item 5 exploded"), KeyboardInterrupt("in a worker")])
def test_an_error_in_a_worker_is_raised_in_the_caller_in_its_place(read_ahead, error):
    def fn(x):
        if x == 5:
            raise error
        return x

    before = threading.enumerate()
    got = []
    with pytest.raises(type(error)) as info:
        with ordered_map(fn, Counted(), 3, 4, read_ahead=read_ahead) as results:
            for x in results:
                got.append(x)
    assert info.value is error and str(info.value) == str(error)
    assert got == [0, 1, 2, 3, 4]
    assert not threads_after(before)


def test_an_error_in_the_reading_thread_is_raised_in_the_caller_after_the_items_before_it():
    def source():
        yield from range(3)
        raise OSError("disk gone")

    got = []
    with pytest.raises(OSError, match="disk gone"):
        with ordered_map(lambda x: x, source(), 2, 8, read_ahead=True) as results:
            got.extend(results)
    assert got == [0, 1, 2]


@pytest.mark.parametrize("read_ahead", MODES)
@pytest.mark.parametrize("workers", [0, 3])
def test_every_task_sees_the_callers_context(read_ahead, workers):
    token = _VAR.set("the caller's")
    try:
        with ordered_map(lambda _: _VAR.get(), range(12), workers, 4, read_ahead=read_ahead) as results:
            assert list(results) == ["the caller's"] * 12
    finally:
        _VAR.reset(token)


@pytest.mark.parametrize("read_ahead", MODES)
def test_a_task_that_sets_a_variable_changes_neither_the_caller_nor_another_task(read_ahead):
    def fn(x):
        before = _VAR.get()
        _VAR.set(f"task {x}")
        return before

    with ordered_map(fn, range(12), 2, 4, read_ahead=read_ahead) as results:
        assert list(results) == ["unset"] * 12
    assert _VAR.get() == "unset"


@pytest.mark.parametrize("read_ahead", MODES)
def test_an_error_raised_in_a_worker_is_spelled_for_an_r_caller(read_ahead):
    def fn(x):
        if x == 2:
            raise ArgumentError(f"use {arg('uniform', True)}")
        return x

    with caller("r"), pytest.raises(ArgumentError) as info:
        with ordered_map(fn, range(6), 2, 3, read_ahead=read_ahead) as results:
            list(results)
    assert str(info.value) == "use uniform = TRUE"


@pytest.mark.parametrize("read_ahead", MODES)
@pytest.mark.parametrize("closed_by", ["with", "close", "dropped"])
def test_closing_early_stops_pulling_and_leaves_no_thread(read_ahead, closed_by):
    before = threading.enumerate()
    source = Counted()  # endless
    results = ordered_map(slow_square, source, 3, 4, read_ahead=read_ahead)
    if closed_by == "with":
        with results:
            for _ in results:
                break
    else:
        for _ in results:
            break
        if closed_by == "close":
            results.close()
        else:
            del results  # a for loop left early, the map never closed by hand
    assert not threads_after(before)
    pulled = source.pulled
    assert pulled <= 1 + 4
    time.sleep(0.1)
    assert source.pulled == pulled


@pytest.mark.parametrize("read_ahead", MODES)
def test_ctrl_c_in_the_callers_loop_stops_everything_promptly(read_ahead):
    before = threading.enumerate()
    source = Counted()
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        with ordered_map(lambda x: time.sleep(0.05) or x, source, 3, 8, read_ahead=read_ahead) as results:
            for x in results:
                if x == 2:
                    raise KeyboardInterrupt
    assert time.monotonic() - start < 2
    assert not threads_after(before)
    pulled = source.pulled
    time.sleep(0.1)
    assert source.pulled == pulled <= 3 + 8


@pytest.mark.parametrize("read_ahead", MODES)
def test_closing_cancels_the_tasks_not_started(read_ahead):
    started = []

    def slow(x):
        started.append(x)
        time.sleep(0.3)
        return x

    with ordered_map(slow, Counted(), 3, 8, read_ahead=read_ahead) as results:
        next(results)  # the first three run together; the rest wait for a worker
    # Three tasks ran first, and at most one more per worker before the close: never the eight waiting.
    assert len(started) <= 6


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs signal.pthread_kill (POSIX)")
@pytest.mark.parametrize("read_ahead", MODES)
def test_ctrl_c_while_waiting_for_a_result_stops_everything_promptly(read_ahead):
    assert threading.current_thread() is threading.main_thread()
    before = threading.enumerate()
    source = Counted()
    main = threading.main_thread().ident
    timer = threading.Timer(0.3, signal.pthread_kill, (main, signal.SIGINT))
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        timer.start()
        with ordered_map(lambda x: time.sleep(0.2) or x, source, 2, 4, read_ahead=read_ahead) as results:
            for _ in results:
                pass  # waits ~0.1 s for each result, so the signal comes while it waits
    elapsed = time.monotonic() - start
    timer.join()
    assert elapsed < 2
    assert not threads_after(before)
    assert source.pulled < 20


def test_the_counts_are_checked():
    for workers, lookahead in [(-1, 2), (1.5, 2), (True, 2), (2, 0)]:
        with pytest.raises(ArgumentError):
            ordered_map(abs, [], workers, lookahead)
