"""Daemon worker threads with a concurrent.futures interface: a stuck network wait never holds the process."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

IDLE_SECONDS = 2.0  # how long a finished worker thread waits for the next call before it ends


class _Threads:
    """Daemon threads that wait IDLE_SECONDS for their next call before they end: a busy run or batch does not
    start a thread (~0.15 ms of CPU) for every check, and an idle process keeps none."""

    def __init__(self) -> None:
        self._calls: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)  # one token per thread waiting for a call

    def run(self, call: Callable[[], None], name: str) -> None:
        if self._idle.acquire(blocking=False):
            self._calls.put(call)
        else:
            threading.Thread(target=self._work, args=(call,), name=name, daemon=True).start()

    def _work(self, call: Callable[[], None]) -> None:
        while True:
            call()
            self._idle.release()
            try:
                call = self._calls.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                if self._idle.acquire(blocking=False):
                    return
                call = self._calls.get()  # a caller took this thread's token: its call is on the way


_THREADS = _Threads()


class DaemonExecutor:
    """Like ThreadPoolExecutor (submit/shutdown), but on daemon threads, so interpreter exit never joins them.

    At most `workers` submitted calls run at once; shutdown(cancel_futures=True) cancels those not started.
    """

    def __init__(self, workers: int, *, name: str = "worker") -> None:
        self._slots = threading.BoundedSemaphore(workers)
        self._name = name
        self._futures: list[Future] = []
        self._lock = threading.Lock()

    def submit(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()

        def run() -> None:
            with self._slots:
                if not future.set_running_or_notify_cancel():
                    return
                try:
                    result = function(*args, **kwargs)
                except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on the future
                    future.set_exception(exc)
                else:
                    future.set_result(result)

        with self._lock:
            self._futures = [f for f in self._futures if not f.done()] + [future]
        _THREADS.run(run, f"{self._name}-{len(self._futures)}")
        return future

    def shutdown(self, wait: bool = False, *, cancel_futures: bool = False) -> None:
        """Cancel what has not started (with cancel_futures); running calls finish on their own (never joined)."""
        with self._lock:
            futures = list(self._futures)
        if cancel_futures:
            for future in futures:
                future.cancel()
        if wait:
            for future in futures:
                if not future.cancelled():
                    future.exception()


def call_with_deadline(function: Callable[[], Any], seconds: float, *, name: str = "deadline") -> Any:
    """function() on a daemon thread: its result or its exception, or TimeoutError once `seconds` have passed
    (the thread is never joined; a peer that drips its answer cannot hold the caller or the process)."""
    future = DaemonExecutor(1, name=name).submit(function)
    try:
        return future.result(timeout=seconds)
    except FutureTimeout:
        raise TimeoutError(f"no complete answer within {seconds:g} s") from None
