"""Live progress on a terminal: one line per finished check of a run, or one redrawn bar for a batch."""

from __future__ import annotations

import time
from typing import IO, Any

from checks.model import CheckId, CheckResult, Status, Verdict
from checks.report.table import (
    ASCII_ICONS,
    CHECK_ID_WIDTH,
    COLOURS,
    RUNNING,
    UNICODE_ICONS,
    duration_text,
    paint,
    safe_text,
    supports_unicode,
)
from checks.terminal import is_terminal


class _StreamProgress:
    """Writes progress to a stream; a closed pipe or stream never stops the run."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            pass


def progress_line(result: CheckResult, *, unicode: bool = True, colour: bool = False) -> str:
    """'  ✓ dns.host  Relay host name resolves  (12 ms)'."""
    icon = paint((UNICODE_ICONS if unicode else ASCII_ICONS)[result.status], COLOURS[result.status], colour)
    timing = f"  ({duration_text(result.duration_ms)})" if result.status is not Status.SKIP else ""
    line = f"  {icon} {result.check_id.value:<{CHECK_ID_WIDTH}}  {safe_text(result.title)}{timing}"
    if result.status != Status.PASS:
        line += f"\n      {safe_text(result.summary).splitlines()[0] if result.summary else ''}".rstrip()
    return line


class ProgressPrinter(_StreamProgress):
    """A runner observer that writes progress to a stream; on a terminal the 'running' line is redrawn in place."""

    def __init__(self, stream: IO[str], *, live: bool | None = None, colour: bool = False,
                 unicode: bool | None = None) -> None:
        super().__init__(stream)
        self.live = is_terminal(stream) if live is None else live
        self.colour = colour
        self.unicode = supports_unicode(stream) if unicode is None else unicode
        self.running: dict[CheckId, str] = {}
        self._status_shown = False

    def _clear_status(self) -> None:
        if self._status_shown:
            self._write("\r\x1b[K")
            self._status_shown = False

    def _draw_status(self) -> None:
        if self.live and self.running:
            names = ", ".join(c.value for c in self.running)
            mark = RUNNING if self.unicode else "..."
            self._write(f"  {mark} running: {names}")
            self._status_shown = True

    def on_plan(self, checks: list[tuple[CheckId, str]]) -> None:
        count = len(checks)
        self._write(f"Running {count} check{'s' if count != 1 else ''}...\n")

    def on_start(self, check_id: CheckId, title: str) -> None:
        self.running[check_id] = title
        if self.live:
            self._clear_status()
            self._draw_status()
        else:
            mark = RUNNING if self.unicode else "..."
            self._write(f"  {mark} {check_id.value:<{CHECK_ID_WIDTH}}  {safe_text(title)}\n")

    def on_finish(self, result: CheckResult) -> None:
        self.running.pop(result.check_id, None)
        self._clear_status()
        self._write(progress_line(result, unicode=self.unicode, colour=self.colour) + "\n")
        self._draw_status()

    def close(self) -> None:
        """Remove the transient 'running' line (call when the run is over, also after an error)."""
        self.running.clear()
        self._clear_status()


class BatchProgress(_StreamProgress):
    """Batch observer drawing a one-line progress bar on a terminal stream (redrawn in place)."""

    WIDTH = 30

    def __init__(self, stream: IO[str], *, unicode: bool = True, clock: Any = None) -> None:
        super().__init__(stream)
        self.unicode = unicode
        self.clock = clock or time.monotonic
        self.started = self.clock()
        self.total = self.done = self.problems = self.running = 0
        self._last_draw = 0.0

    def line(self) -> str:
        filled = int(self.WIDTH * self.done / self.total) if self.total else 0
        full, empty = ("█", "░") if self.unicode else ("#", ".")
        bar = full * filled + empty * (self.WIDTH - filled)
        return (f"[{bar}] {self.done}/{self.total} setups, {self.problems} with problems, {self.running} running, "
                f"{self.clock() - self.started:.0f} s")

    def _draw(self, force: bool = False) -> None:
        now = self.clock()
        if force or now - self._last_draw >= 0.1:
            self._last_draw = now
            self._write("\r\x1b[K" + self.line())

    def on_batch_plan(self, names: list[str]) -> None:
        self.total = len(names)
        self._draw(force=True)

    def on_setup_start(self, name: str) -> None:
        self.running += 1
        self._draw()

    def on_setup_finish(self, outcome: Any) -> None:
        self.running = max(0, self.running - 1)
        self.done += 1
        self.problems += outcome.verdict is Verdict.PROBLEMS
        self._draw(force=self.done == self.total)

    def close(self) -> None:
        self._write("\r\x1b[K")
