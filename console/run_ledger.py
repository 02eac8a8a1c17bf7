"""Runs started in the last hour per browser session and client address, for the hosted console's run limit."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 3600.0


class RunLedger:
    """Start times of runs in the last hour per key ('session:…', 'client:…'); shared by every session."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._runs: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        runs = self._runs.setdefault(key, deque())
        while runs and now - runs[0] >= WINDOW_SECONDS:
            runs.popleft()
        return runs

    def take(self, keys: tuple[str, ...], count: int, limit: int) -> float | None:
        """Record `count` runs for every key, or (recording nothing) the seconds until enough are free."""
        with self._lock:
            now = self._clock()
            queues = [self._recent(k, now) for k in keys]
            for runs in queues:
                if len(runs) + count > limit:
                    if count > limit or not runs:
                        return WINDOW_SECONDS
                    oldest_needed = runs[len(runs) + count - limit - 1]
                    return WINDOW_SECONDS - (now - oldest_needed)
            for runs in queues:
                runs.extend([now] * count)
            for key in [k for k, v in self._runs.items() if not v]:
                del self._runs[key]
            return None

    def clear(self) -> None:
        """Forget every count (a restart does the same)."""
        with self._lock:
            self._runs.clear()


LEDGER = RunLedger()
