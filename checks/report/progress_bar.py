"""Live progress for notebooks and scripts: a tqdm.auto bar (a widget in Jupyter, text in a terminal)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tqdm.auto import tqdm

PROBLEM_STATUSES = ("fail", "error")


class NotebookProgress:
    """Observer for run_checklist and run_batch: one bar per run or batch, filling as checks or setups finish.

    Shows only our own words (check ids, counts), never outside text. Extra keyword options go to the bar
    (e.g. ``file=`` or ``leave=False``); ``bar`` makes the bar (default: tqdm.auto).
    """

    def __init__(self, *, bar: Callable[..., Any] = tqdm, **bar_options: Any) -> None:
        self._make_bar = bar
        self._options = bar_options
        self._bar: Any = None
        self._problems = 0

    def _open(self, total: int, unit: str, description: str) -> None:
        self.close()
        self._problems = 0
        self._bar = self._make_bar(total=total, unit=unit, desc=description, **self._options)

    def _advance(self, problem: bool) -> None:
        if self._bar is None:
            return
        self._problems += problem
        self._bar.update(1)
        self._show("")
        if self._bar.n >= self._bar.total:
            self.close()

    def _show(self, current: str) -> None:
        parts = [f"{self._problems} problem{'s' if self._problems != 1 else ''}"] if self._problems else []
        if current:
            parts.append(current)
        self._bar.set_postfix_str(", ".join(parts), refresh=True)

    def close(self) -> None:
        """Finish the bar (done by itself when the last check or setup is in)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    # run_checklist's Observer
    def on_plan(self, checks: list[tuple[Any, str]]) -> None:
        self._open(len(checks), "check", "Relay checks")

    def on_start(self, check_id: Any, title: str) -> None:
        if self._bar is not None:
            self._show(str(check_id))

    def on_finish(self, result: Any) -> None:
        self._advance(str(result.status) in PROBLEM_STATUSES)

    # run_batch's BatchObserver
    def on_batch_plan(self, names: list[str]) -> None:
        self._open(len(names), "setup", "Setups")

    def on_setup_finish(self, outcome: Any) -> None:
        self._advance(str(outcome.verdict) == "problems")
