"""Worker processes for a batch, each running many setups at once on threads: one process's threads share one
CPU core (the GIL), and a batch of hundreds of setups needs more CPU than one core gives (DNS parsing, TLS).

A worker is `python -m checks.batch.processes` with the pool at the other end of its standard input and output:
length-prefixed pickles in both directions, first the work to do, then (task id, item) and back (task id, result).
Workers are started like any command, never by re-running the caller's main module (a Streamlit page, a script
without a main guard), and a worker that dies fails only the tasks it held.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pickle
import signal
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import IO, Any

from checks.workers import DaemonExecutor

MAX_PROCESSES = 8
_LENGTH = struct.Struct("!I")
_PROJECT = str(Path(__file__).resolve().parents[2])  # where the `checks` package is, for the worker's imports


class WorkerProcessError(RuntimeError):
    """A task could not finish in a worker process (it raised, or the process ended); one line, no secret."""


def usable_cpus() -> int:
    """The CPU cores this process may run on (its affinity where the system tells it, else all of them)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def auto_processes(setups: int, jobs: int, cpus: int | None) -> int:
    """How many processes a batch is worth: one per core, each with at least 8 setups running at once, and
    one process when everything fits in one round of `jobs` (starting processes would cost more than it saves)."""
    if setups <= jobs:
        return 1
    return max(1, min(cpus or 1, MAX_PROCESSES, jobs // 8))


def _write(stream: IO[bytes], frame: bytes) -> None:
    stream.write(_LENGTH.pack(len(frame)) + frame)
    stream.flush()


def _read(stream: IO[bytes]) -> bytes | None:
    """One frame, or None at the end of the stream."""
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    size = _LENGTH.unpack(head)[0]
    frame = stream.read(size)
    return frame if len(frame) == size else None


class _Worker:
    """One worker process and the futures of the tasks it holds."""

    def __init__(self, work: Callable[[Any], Any], threads: int, number: int) -> None:
        environ = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, (_PROJECT, os.environ.get("PYTHONPATH")))))
        self.name = f"batch worker {number}"
        self.process = subprocess.Popen([sys.executable, "-m", "checks.batch.processes"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=environ)
        self.pending: dict[int, Future] = {}
        self._lock = threading.Lock()
        self._ended = ""
        self._send(pickle.dumps((work, threads)))
        threading.Thread(target=self._collect, name=f"{self.name} results", daemon=True).start()

    @property
    def working(self) -> bool:
        with self._lock:
            return not self._ended

    def load(self) -> int:
        with self._lock:
            return len(self.pending) if not self._ended else sys.maxsize

    def submit(self, task_id: int, payload: bytes, future: Future) -> None:
        with self._lock:
            if self._ended:
                future.set_exception(WorkerProcessError(self._ended))
                return
            self.pending[task_id] = future
        self._send(pickle.dumps((task_id, payload)))

    def _send(self, frame: bytes) -> None:
        with contextlib.suppress(OSError, ValueError):  # the process is gone: _collect fails what it held
            _write(self.process.stdin, frame)

    def _collect(self) -> None:
        while (frame := _read(self.process.stdout)) is not None:
            task_id, ok, payload = pickle.loads(frame)  # our own worker process wrote it
            with self._lock:
                future = self.pending.pop(task_id, None)
            if future is None:
                continue
            try:
                if not ok:
                    raise WorkerProcessError(f"the task raised {payload} in its worker process")
                future.set_result(pickle.loads(payload))
            except Exception as exc:  # noqa: BLE001 - a result that cannot be read back fails its task only
                future.set_exception(exc if isinstance(exc, WorkerProcessError) else WorkerProcessError(
                    f"its result could not be read back ({type(exc).__name__})"))
        self.end(f"{self.name} ended (exit status {self.process.wait()})")

    def end(self, why: str) -> None:
        with self._lock:
            self._ended = self._ended or why
            held, self.pending = list(self.pending.values()), {}
        for future in held:
            if not future.done():
                future.set_exception(WorkerProcessError(why))

    def stop(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.process.stdin.close()  # a worker with nothing left to do exits at the end of its input
        try:
            self.process.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            self.process.kill()  # interrupted: what it still runs is abandoned
            self.process.wait()
        self.end("the batch stopped")


class ProcessPool:
    """submit(item) -> a Future of work(item), run in one of `processes` worker processes, up to `threads` at once
    in each. `work` and the items must pickle (a Secret does not: name secrets with *_env settings)."""

    def __init__(self, processes: int, work: Callable[[Any], Any], *, threads: int) -> None:
        self._workers = [_Worker(work, threads, n) for n in range(processes)]
        self._ids = itertools.count()

    @property
    def working(self) -> bool:
        """Whether a worker process is still there to take tasks."""
        return any(worker.working for worker in self._workers)

    def submit(self, item: Any) -> Future:
        future: Future = Future()
        try:
            payload = pickle.dumps(item)
        except Exception as exc:  # noqa: BLE001 - it never leaves this process
            future.set_exception(WorkerProcessError(f"it cannot be sent to a worker process ({type(exc).__name__})"))
            return future
        min(self._workers, key=_Worker.load).submit(next(self._ids), payload, future)
        return future

    def shutdown(self) -> None:
        for worker in self._workers:
            worker.stop()


def main() -> None:
    """The worker: run each task on a thread of its own and send back its pickled result, or the error's name."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it stops the workers
    inbox, outbox = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing printed by accident may corrupt the frames
    start = _read(inbox)
    if start is None:
        return
    work, threads = pickle.loads(start)
    executor = DaemonExecutor(threads, name="task")
    sending = threading.Lock()

    def run(task_id: int, payload: bytes) -> None:
        try:
            frame = pickle.dumps((task_id, True, pickle.dumps(work(pickle.loads(payload)))))
        except BaseException as exc:  # noqa: BLE001 - a task that cannot finish is reported, never lost
            frame = pickle.dumps((task_id, False, type(exc).__name__))
        with sending:
            _write(outbox, frame)

    while (frame := _read(inbox)) is not None:
        executor.submit(run, *pickle.loads(frame))
    executor.shutdown(wait=True)


if __name__ == "__main__":
    main()
