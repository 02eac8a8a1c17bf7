"""`python -m checks watch`: check a batch file's setups now and then, save every run, alert on changes."""

from __future__ import annotations

import argparse
import datetime as dt
import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from checks.cli.batch import batch_inputs, batch_progress
from checks.cli.common import (
    EXIT_USAGE,
    UsageError,
    add_allow_incomplete,
    exit_status,
)
from checks.cli.history import add_db_option, open_history

EXIT_INTERRUPTED = 130
DEFAULT_EVERY = "1h"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def add_watch_parser(commands: Any, *, wanted: bool = True) -> None:
    watch = commands.add_parser(
        "watch", help="check a batch file's setups on a schedule, save each run, alert on changes",
        description="Run every setup of a batch file (as `batch` does), save each run in the history and compare "
                    "it with the setup's previous run. Alerts - a setup broke or recovered, a new problem cause, a "
                    "date that will break the setup (client secret, certificate, Basic auth switch-off, refresh "
                    "token) entering its warning window - go to standard output, a webhook and a metrics file.",
        epilog="Exit status (with --once): 0 every setup ready; 1 a setup with problems; 2 bad invocation, file or "
               "database; 3 no problem but a setup not proven (incomplete; 0 with --allow-incomplete); "
               "130 interrupted.")
    if not wanted:
        return
    watch.add_argument("file", metavar="FILE", help="batch file (.csv or .toml), as for `batch`")
    when = watch.add_mutually_exclusive_group()
    when.add_argument("--once", action="store_true", help="one cycle, then exit (for cron and systemd timers)")
    when.add_argument("--every", metavar="DURATION", help=f"time between cycles: 90s, 15m, 1h, 1d (default "
                                                          f"{DEFAULT_EVERY})")
    hook = watch.add_mutually_exclusive_group()
    hook.add_argument("--webhook", metavar="URL", help="POST alerts as JSON (Teams, Slack, Mattermost incoming "
                                                       "webhook)")
    hook.add_argument("--webhook-env", metavar="VAR", help="read the webhook URL from environment variable VAR "
                                                           "(keeps its token out of the process list)")
    watch.add_argument("--metrics-file", metavar="PATH", help="write Prometheus metrics here (node_exporter "
                                                              "textfile collector: a .prom file)")
    watch.add_argument("--secrets", metavar="FILE", help="secrets mapping, as for `batch`")
    watch.add_argument("--jobs", metavar="N", type=int, default=None, help="setups checked at the same time")
    watch.add_argument("--keep-days", metavar="N", help="delete runs older than N days (default "
                                                        "$RELAY_CONSOLE_KEEP_DAYS, else 365; 0 keeps all)")
    add_allow_incomplete(watch)
    watch.add_argument("--no-progress", action="store_true", help="no progress bar on a terminal")
    add_db_option(watch)


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
    from checks.history.webhook import WebhookError, check_url

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
    from checks.batch.report import batch_verdict_line
    from checks.history.webhook import where
    from checks.report.table import safe_text

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
    from checks.history.location import StoreLocationError, keep_days
    from checks.history.records import current_user
    from checks.history.watch import run_cycle

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
                result = run_cycle(store, inputs.setups, environ=inputs.lookup, jobs=inputs.jobs, webhook_url=url,
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
