"""A batch whose finished setups are saved as they finish (by a writer thread, in chunks of one transaction
each): an interrupt or a later failure never loses a finished run, and the batch never waits for the database."""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from checks.batch.file import BatchSetup
from checks.batch.run import BatchReport, SetupOutcome, run_batch
from checks.history.records import Source, StoredRun
from checks.history.store import RunStore
from checks.model import RunReport

SAVE_EVERY = 50  # setups per transaction while a batch runs
SAVE_SECONDS = 1.0  # ... or sooner, when this long has passed since the last save


class _Saver:
    """Batch observer: hands each finished setup to a writer thread (so the batch never waits for the database)
    that saves them in chunks; then tells `inner` on the caller's thread."""

    def __init__(self, store: RunStore, previous: Mapping[str, StoredRun], *, options: Mapping[str, Any],
                 inner: Any, clock: Callable[[], float]) -> None:
        self.store, self.previous, self.options, self.inner, self.clock = store, previous, options, inner, clock
        self.finished: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.saved: list[StoredRun] = []
        self.error: Exception | None = None
        self.writer = threading.Thread(target=self._write, name="history-writer", daemon=True)
        self.writer.start()

    def on_batch_plan(self, names: list[str]) -> None:
        _tell(self.inner, "on_batch_plan", names)

    def on_setup_start(self, name: str) -> None:
        _tell(self.inner, "on_setup_start", name)

    def on_setup_finish(self, outcome: SetupOutcome) -> None:
        self.finished.put((outcome.report, {**self.options, "setup": outcome.name,
                                            "previous": self.previous.get(outcome.name)}))
        _tell(self.inner, "on_setup_finish", outcome)

    def _chunk(self) -> tuple[list[tuple[RunReport, dict[str, Any]]], bool]:
        """The next runs to save (waiting up to SAVE_SECONDS for SAVE_EVERY of them), and whether that was all."""
        item = self.finished.get()
        chunk, until = [], self.clock() + SAVE_SECONDS
        while item is not _END:
            chunk.append(item)
            if len(chunk) >= SAVE_EVERY:
                return chunk, False
            try:
                item = self.finished.get(timeout=max(0.0, until - self.clock()))
            except queue.Empty:
                return chunk, False
        return chunk, True

    def _write(self) -> None:
        last = False
        while not last:
            chunk, last = self._chunk()
            try:
                if chunk:
                    self.saved.extend(self.store.save_many(chunk))
            except Exception as exc:  # noqa: BLE001 - kept and raised on the caller's thread by close()
                self.error = exc

    def close(self) -> None:
        """Save what is still waiting; raise the first error the writer met."""
        self.finished.put(_END)
        self.writer.join()
        if self.error is not None:
            raise self.error


_END = object()  # put after the last finished setup


def _tell(observer: Any, event: str, *args: Any) -> None:
    method = getattr(observer, event, None) if observer is not None else None
    if method is not None:
        method(*args)


def save_batch(store: RunStore, setups: Sequence[BatchSetup], *, source: str = Source.BATCH, label: str = "",
               user: str = "", hide: Sequence[str] = (), observer: Any = None,
               clock: Callable[[], float] = time.monotonic,
               **batch_options: Any) -> tuple[BatchReport, list[StoredRun], Mapping[str, StoredRun]]:
    """run_batch, saving each finished setup; returns the batch, the saved runs and each setup's previous run.

    `hide`: secret values masked once more in what is saved (see records.row_of).
    """
    previous = store.latest_of(s.name for s in setups)
    options = {"batch_id": uuid.uuid4().hex[:12], "user": user, "source": source, "label": label,
               "hide": tuple(hide)}
    saver = _Saver(store, previous, options=options, inner=observer, clock=clock)
    try:
        batch = run_batch(setups, observer=saver, **batch_options)
    finally:
        saver.close()
    return batch, saver.saved, previous
