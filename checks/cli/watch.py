"""`python -m checks watch`: check a batch file's setups now and then, save every run, alert on changes."""

from __future__ import annotations

import argparse
import datetime as dt
import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from checks.batch.report import batch_verdict_line
from checks.cli.batch import batch_inputs, batch_progress
from checks.cli.common import (
    EXIT_USAGE,
    UsageError,
    exit_status,
)
from checks.cli.history import open_history
from checks.cli.parser import DEFAULT_EVERY
from checks.history.location import StoreLocationError, keep_days
from checks.history.records import current_user
from checks.history.watch import run_cycle
from checks.history.webhook import WebhookError, check_url, where
from checks.report.table import safe_text

EXIT_INTERRUPTED = 130
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_every(text: str) -> float:
    """'15m' -> 900.0 seconds; UsageError when it is not a duration of at least one second."""
    match = _DURATION.match(text or "")
    if not match:
        raise UsageError(f"--every: {str(text)[:20]!r} is not a duration (e.g. 90s, 15m, 1h, 1d)")
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
    if seconds < 1:
        raise UsageError("--every: give at least one second")
    return seconds


def webhook_url(args: argparse.Namespace, environ: Mapping[str, str]) -> str | None:
    url = args.webhook
    if args.webhook_env:
        url = environ.get(args.webhook_env.strip())
        if not url:
            raise UsageError(f"--webhook-env: environment variable {args.webhook_env[:60]} is not set")
    try:
        return check_url(url) if url else None
    except WebhookError as exc:
        raise UsageError(str(exc)) from None


def _report_cycle(result: Any, url: str | None, *, stdout: IO[str], stderr: IO[str]) -> None:
    moment = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    count = len(result.alerts)
    pruned = f"; {result.pruned} runs older than the retention deleted" if result.pruned else ""
    stdout.write(f"{moment} watch: {batch_verdict_line(result.batch)}; {count} alert{'s' if count != 1 else ''}"
                 f"{pruned}\n")
    for alert in result.alerts:
        stdout.write(f"  {safe_text(alert.text)}\n")
    stdout.flush()
    if result.delivery is not None and not result.delivery.delivered:
        stderr.write(f"warning: webhook {where(url or '')}: {result.delivery.problem} after "
                     f"{result.delivery.attempts} attempts; {result.pending} alert(s) kept for the next cycle "
                     "(the runs are saved)\n")
        stderr.flush()


def run_watch_command(args: argparse.Namespace, *, stdout: IO[str], stderr: IO[str], environ: Mapping[str, str],
                      deps: Any, sleep: Callable[[float], None] = time.sleep,
                      clock: Callable[[], float] = time.monotonic) -> int:
    every = None if args.once else parse_every(args.every or DEFAULT_EVERY)
    url = webhook_url(args, environ)
    try:
        keep = keep_days(args.keep_days, environ=environ)
    except StoreLocationError as exc:
        raise UsageError(f"--keep-days: {exc}") from None
    if args.metrics_file and not Path(args.metrics_file).expanduser().parent.is_dir():
        raise UsageError(f"--metrics-file: the folder {Path(args.metrics_file).parent} does not exist")
    inputs = batch_inputs(args, environ)
    store = open_history(args, environ)
    user = current_user()
    try:
        while True:
            started = clock()
            progress = batch_progress(args, stderr)
            try:
                result = run_cycle(store, inputs.setups, environ=inputs.lookup, jobs=inputs.jobs,
                                   processes=inputs.processes, webhook_url=url,
                                   hide=inputs.hidden,
                                   metrics_file=args.metrics_file, keep_days=keep, user=user, observer=progress,
                                   deps=deps)
            finally:
                if progress is not None:
                    progress.close()
            _report_cycle(result, url, stdout=stdout, stderr=stderr)
            if result.batch.interrupted:
                return EXIT_INTERRUPTED
            if every is None:
                return exit_status(result.batch.verdict, allow_incomplete=args.allow_incomplete)
            sleep(max(0.0, every - (clock() - started)))
    except KeyboardInterrupt:
        stderr.write("interrupted: the runs that finished are saved\n")
        return EXIT_INTERRUPTED
    except OSError as exc:  # the metrics file's folder is missing or not writable
        stderr.write(f"error: --metrics-file: cannot write {args.metrics_file}: {exc.strerror or exc}\n")
        return EXIT_USAGE
    finally:
        store.close()
