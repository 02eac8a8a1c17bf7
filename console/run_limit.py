"""Per-session run limit for a console hosted for a team (RELAY_CONSOLE_MAX_RUNS_PER_HOUR)."""

from __future__ import annotations

import time
from collections.abc import Callable, MutableMapping
from typing import Any

RUNS_KEY = "hosting.run_times"
WINDOW_SECONDS = 3600.0


def refuse_run(state: MutableMapping[str, Any], max_per_hour: int | None, *,
               clock: Callable[[], float] = time.monotonic) -> str | None:
    """Record a run and return None, or say why it is refused (over the hourly limit of this session)."""
    if max_per_hour is None:
        return None
    now = clock()
    recent = [t for t in state.get(RUNS_KEY, []) if now - t < WINDOW_SECONDS]
    if len(recent) >= max_per_hour:
        wait_minutes = int((WINDOW_SECONDS - (now - recent[0])) // 60) + 1
        state[RUNS_KEY] = recent
        return (f"This console allows {max_per_hour} runs per hour and session; try again in about "
                f"{wait_minutes} min, or run the CLI on your own machine.")
    state[RUNS_KEY] = [*recent, now]
    return None
