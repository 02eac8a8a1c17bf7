"""A batch whose finished setups are saved as they finish (in chunks, one transaction each): an interrupt or
a later failure never loses a finished run."""

from __future__ import annotations

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
    """Batch observer: saves finished setups in chunks on the caller's thread, then tells `inner`."""

    def __init__(self, store: RunStore, previous: Mapping[str, StoredRun], *, options: Mapping[str, Any],
                 inner: Any, clock: Callable[[], float]) -> None:
        self.store, self.previous, self.options, self.inner, self.clock = store, previous, options, inner, clock
        self.waiting: list[tuple[RunReport, dict[str, Any]]] = []
        self.saved: list[StoredRun] = []
        self.last_save = clock()

    def on_batch_plan(self, names: list[str]) -> None:
        _tell(self.inner, "on_batch_plan", names)

    def on_setup_start(self, name: str) -> None:
        _tell(self.inner, "on_setup_start", name)

    def on_setup_finish(self, outcome: SetupOutcome) -> None:
        self.waiting.append((outcome.report, {**self.options, "setup": outcome.name,
                                              "previous": self.previous.get(outcome.name)}))
        if len(self.waiting) >= SAVE_EVERY or self.clock() - self.last_save >= SAVE_SECONDS:
            self.flush()
        _tell(self.inner, "on_setup_finish", outcome)

    def flush(self) -> None:
        if self.waiting:
            self.saved.extend(self.store.save_many(self.waiting))
            self.waiting = []
        self.last_save = self.clock()


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
        saver.flush()
    return batch, saver.saved, previous
