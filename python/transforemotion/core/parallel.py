"""One ordered parallel map, used by every prefetcher: the scoring stream, the corpus reader, the embeddings reader.

``ordered_map(fn, items, workers, lookahead)`` gives ``fn(item)`` for each
item, in input order, while threads work ahead on the next ones:

- the input is pulled lazily, never more than ``lookahead`` items ahead of
  the results the caller has taken, so a long (or endless) input costs no
  more memory than ``lookahead`` items;
- each task runs in a copy of the caller's context (``contextvars``), taken
  in the caller's thread: a message raised in a worker is spelled for the
  caller (R, the shell; see :mod:`.messages`), not for Python;
- an exception raised by ``fn`` (or by the input) is raised in the caller,
  the same object, at the place of its item in the order;
- closing it (the end of a ``with`` block, an early ``break`` out of that
  block, an exception in the caller, Ctrl-C while it waits) stops pulling
  input, cancels the tasks not started and joins every thread before it
  returns; a running task is finished, not killed. Its threads are daemon
  threads, so a second Ctrl-C during that join still ends the process.

With ``read_ahead=True`` a thread of its own pulls the input (for an input
whose ``next()`` is itself work to overlap, such as decoding a video); its
context is the caller's, copied in the caller's thread, and each task runs in
a copy of that. ``workers=0`` runs ``fn`` where the input is pulled, with no
worker threads: in the reading thread with ``read_ahead``, else in the
caller's thread (a plain lazy map).
"""

from __future__ import annotations

import contextvars
import functools
import queue
import threading
from collections import deque
from concurrent import futures
from typing import Callable, Deque, Iterable, Iterator, List, Optional, TypeVar

from .errors import ArgumentError

__all__ = ["OrderedMap", "ordered_map"]

T = TypeVar("T")
R = TypeVar("R")

# How long the caller's thread waits at a time: between waits Python runs its signal handlers, so Ctrl-C is
# felt within this time on every platform (POSIX interrupts a wait anyway; Windows does not).
_WAIT_S = 0.2


def ordered_map(fn: Callable[[T], R], items: Iterable[T], workers: int, lookahead: int, *, read_ahead: bool = False,
                name: str = "transforemotion") -> "OrderedMap":
    """``fn(item)`` for each of ``items``, in order, computed by ``workers`` threads at most ``lookahead`` items ahead.

    Use it in a ``with`` block (or call :meth:`OrderedMap.close`) when the
    results may not all be taken; reading it to the end, or an exception
    out of it, closes it too.

    >>> with ordered_map(lambda x: x * x, range(5), workers=2, lookahead=3) as squares:
    ...     list(squares)
    [0, 1, 4, 9, 16]
    """
    return OrderedMap(fn, items, workers, lookahead, read_ahead=read_ahead, name=name)


class OrderedMap(Iterator[R]):
    """The iterator :func:`ordered_map` returns; ``ahead`` and ``read_all`` tell how far the input is read.

    Its threads hold only the shared state, never this object: one dropped
    without being closed (a ``for`` loop left early) is closed as soon as
    Python frees it.
    """

    def __init__(self, fn: Callable[[T], R], items: Iterable[T], workers: int, lookahead: int, *,
                 read_ahead: bool = False, name: str = "transforemotion"):
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
            raise ArgumentError(f"workers must be a whole number of threads, 0 or more; got {workers!r}")
        if isinstance(lookahead, bool) or not isinstance(lookahead, int) or lookahead < 1:
            raise ArgumentError(f"lookahead must be a whole number of items, 1 or more; got {lookahead!r}")
        self._shared = _Shared(fn, workers, lookahead, name)
        self._results = (_read_in_thread if read_ahead else _read_here)(self._shared, items)

    @property
    def ahead(self) -> int:
        """Items pulled from the input (and handed to the workers) whose results the caller has not taken yet."""
        return len(self._shared.pending)

    @property
    def read_all(self) -> bool:
        """Whether the whole input has been pulled."""
        return self._shared.exhausted

    def __next__(self) -> R:
        return next(self._results)

    def close(self) -> None:
        """Stop: pull no more input, cancel what has not started, join every thread (a running task finishes)."""
        self._results.close()

    def __enter__(self) -> "OrderedMap[R]":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _read_here(shared: "_Shared", items: Iterable) -> Iterator:
    """The results, the input pulled in the caller's thread (each task gets a copy of the caller's context)."""
    iterator = iter(items)
    try:
        shared.start_workers()
        while True:
            while not shared.exhausted and len(shared.pending) < shared.lookahead:
                try:
                    item = next(iterator)
                except StopIteration:
                    shared.exhausted = True
                else:
                    shared.pending.append(shared.submit(item))
            if not shared.pending:
                return
            yield _result(shared.pending[0], shared.take)
    finally:
        shared.shut_down()


def _read_in_thread(shared: "_Shared", items: Iterable) -> Iterator:
    """The results, the input pulled by a reading thread that runs in a copy of the caller's context."""
    try:
        shared.start_workers()
        context = contextvars.copy_context()  # the caller's, copied in the caller's thread
        shared.reader = shared.start(functools.partial(context.run, shared.read, items), "read")
        while True:
            future = shared.next_read()
            if future is None:
                return
            yield _result(future, shared.take)
    finally:
        shared.shut_down()


class _Shared:
    """What the caller's thread, the reading thread and the workers share."""

    def __init__(self, fn: Callable, workers: int, lookahead: int, name: str):
        self.fn, self.workers, self.lookahead, self.name = fn, workers, lookahead, name
        self.lock = threading.Condition()
        self.pending: Deque[futures.Future] = deque()  # submitted, in input order, not yet taken
        self.exhausted = False
        self.closed = False
        self.tasks: "queue.SimpleQueue" = queue.SimpleQueue()
        self.threads: List[threading.Thread] = []
        self.reader: Optional[threading.Thread] = None

    def start(self, target: Callable[[], None], suffix: str) -> threading.Thread:
        thread = threading.Thread(target=target, name=f"{self.name}-{suffix}", daemon=True)
        self.threads.append(thread)
        thread.start()
        return thread

    def start_workers(self) -> None:
        for i in range(self.workers):
            self.start(functools.partial(_work, self.fn, self.tasks), str(i))

    def submit(self, item) -> futures.Future:
        """``item`` handed to a worker (or done here without workers), in a copy of this thread's context."""
        future: futures.Future = futures.Future()
        context = contextvars.copy_context()
        if self.workers:
            self.tasks.put((future, context, item))
        else:
            _run_task(self.fn, future, context, item)
        return future

    def take(self) -> None:
        with self.lock:
            self.pending.popleft()
            self.lock.notify_all()

    def next_read(self) -> Optional[futures.Future]:
        """The next future the reading thread submitted (None at the end), waited for a slice at a time."""
        with self.lock:
            while not self.pending and not self.exhausted:
                self.lock.wait(_WAIT_S)
            return self.pending[0] if self.pending else None

    def read(self, items: Iterable) -> None:
        """The reading thread: pulls the input and submits it, never more than ``lookahead`` items ahead."""
        try:
            iterator = iter(items)
            while True:
                with self.lock:  # room first, then the next item: none is pulled before it may be
                    while len(self.pending) >= self.lookahead and not self.closed:
                        self.lock.wait()
                    if self.closed:
                        return
                try:
                    item = next(iterator)
                except StopIteration:
                    return
                future = self.submit(item)
                with self.lock:
                    self.pending.append(future)
                    self.lock.notify_all()
        except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread, in its place in the order
            failed: futures.Future = futures.Future()
            failed.set_exception(exc)
            with self.lock:
                self.pending.append(failed)
        finally:
            with self.lock:
                self.exhausted = True
                self.lock.notify_all()

    def shut_down(self) -> None:
        with self.lock:
            self.closed = True
            self.lock.notify_all()
        if self.reader is not None:  # first the reading thread: then nothing more is submitted
            self.reader.join()
        with self.lock:
            for future in self.pending:
                future.cancel()
            self.pending.clear()
        for _ in range(self.workers):
            self.tasks.put(None)
        for thread in self.threads:
            thread.join()


def _work(fn: Callable, tasks: "queue.SimpleQueue") -> None:
    while True:
        task = tasks.get()
        if task is None:
            return
        _run_task(fn, *task)


def _run_task(fn: Callable, future: futures.Future, context: contextvars.Context, item) -> None:
    if not future.set_running_or_notify_cancel():
        return
    try:
        result = context.run(fn, item)
    except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread by _result
        future.set_exception(exc)
    else:
        future.set_result(result)


def _result(future: futures.Future, taken: Callable[[], object]):
    """The future's result once it is done, waited for a slice at a time (Ctrl-C is felt between slices); it is
    marked ``taken`` only once done, so that a wait cut short leaves it pending, to be cancelled."""
    while not future.done():
        futures.wait((future,), timeout=_WAIT_S)
    taken()
    return future.result()
