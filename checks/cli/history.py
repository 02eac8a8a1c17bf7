"""`python -m checks history`: list stored runs, print one in any report format, compare two."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Mapping
from typing import IO, Any

from checks.cli.common import DB_HELP, EXIT_OK, EXIT_PROBLEMS, UsageError

HISTORY_FORMATS = ("table", "json", "csv")
SHOW_FORMATS = ("table", "json", "csv", "markdown")


def add_db_option(parser: Any, *, nested: bool = False) -> None:
    """--db; `nested` (a sub-subcommand) keeps a --db given before the action from being reset."""
    parser.add_argument("--db", metavar="URL", help=DB_HELP, **({"default": argparse.SUPPRESS} if nested else {}))


def add_history_parser(commands: Any, *, wanted: bool = True) -> None:
    history = commands.add_parser(
        "history", help="list stored runs, show one, compare two",
        description="Runs saved with `run --save`, `batch --save`, `watch` or the console, newest first.",
        epilog="Exit status: 0 listed or shown; 1 a run id not found; 2 bad invocation or database.")
    if not wanted:
        return
    add_db_option(history)
    history.add_argument("--name", metavar="LABEL", help="setup name or customer / ticket label contains LABEL")
    history.add_argument("--host", metavar="H", help="relay host")
    history.add_argument("--verdict", choices=("ready", "incomplete", "problems"))
    history.add_argument("--since", metavar="YYYY-MM-DD", help="runs started on or after this day (UTC)")
    history.add_argument("--limit", metavar="N", type=int, default=50, help="at most N runs (default 50; 0 all)")
    history.add_argument("--latest", action="store_true", help="only the newest run of each setup")
    history.add_argument("--format", choices=HISTORY_FORMATS, default="table")
    actions = history.add_subparsers(dest="history_action", metavar="{show,compare}")
    show = actions.add_parser("show", help="print a stored run as a report",
                              description="Print a stored run in any report format (run id or its first 6+ "
                                          "characters).")
    show.add_argument("run_id", metavar="RUN_ID")
    show.add_argument("--format", choices=SHOW_FORMATS, default="table", dest="show_format")
    add_db_option(show, nested=True)
    comparing = actions.add_parser("compare", help="per-check before/after of two stored runs",
                                   description="Compare two stored runs check by check, older -> newer.")
    comparing.add_argument("old_id", metavar="OLD_ID")
    comparing.add_argument("new_id", metavar="NEW_ID")
    comparing.add_argument("--format", choices=("table", "json"), default="table", dest="compare_format")
    add_db_option(comparing, nested=True)


def open_history(args: argparse.Namespace, environ: Mapping[str, str]) -> Any:
    """The store named by --db / $RELAY_CONSOLE_DB; UsageError (exit 2) when it cannot be opened."""
    from checks.history.location import StoreLocationError
    from checks.history.store import StoreError, open_store

    try:
        return open_store(getattr(args, "db", None), environ=environ)
    except (StoreError, StoreLocationError) as exc:
        raise UsageError(f"--db: {exc}") from None


def history_for(args: argparse.Namespace, environ: Mapping[str, str]) -> Any:
    """The store to save a run in when --save was given, else None (opened before the run: a bad --db is exit 2)."""
    if getattr(args, "name", None) and not args.save:
        raise UsageError("--name: add --save to keep the run in the history under that name")
    return open_history(args, environ) if args.save else None


def save_run(store: Any, report: Any, *, name: str | None, hide: Any, stderr: IO[str], status: int) -> int:
    """Save a finished run; a failure is reported and makes the exit status at least 1 (the report was printed)."""
    from checks.history.records import Source, current_user

    try:
        store.save(report, setup=name, user=current_user(), source=Source.CLI, hide=hide)
    except Exception as exc:  # noqa: BLE001 - the run was reported; say why it is not in the history
        stderr.write(f"error: the run was not saved in the history: {type(exc).__name__}\n")
        return max(status, EXIT_PROBLEMS)
    finally:
        store.close()
    stderr.write(f"saved in the history as run {report.run_id}\n")
    return status


def _since(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"--since: {text[:30]!r} is not a date (YYYY-MM-DD)") from None
    return dt.datetime.combine(day, dt.time(), dt.UTC)


def _list(store: Any, args: argparse.Namespace, stdout: IO[str]) -> int:
    from checks.history.export import history_csv, history_json, history_table
    from checks.history.store import RunFilter
    from checks.model import Verdict

    if args.limit < 0:
        raise UsageError("--limit: give 0 (all) or a positive number")
    query = RunFilter(name=args.name or "", host=args.host or "", verdict=Verdict(args.verdict) if args.verdict
                      else None, since=_since(args.since), limit=args.limit, latest=args.latest)
    runs = store.runs(query)
    render = {"json": history_json, "csv": history_csv}.get(args.format, history_table)
    stdout.write(render(runs))
    return EXIT_OK


def _show(store: Any, args: argparse.Namespace, stdout: IO[str]) -> int:
    from checks.report.export import render

    report = store.get(args.run_id).report()
    stdout.write(render(report, args.show_format))
    return EXIT_OK


def _compare(store: Any, args: argparse.Namespace, stdout: IO[str]) -> int:
    import json

    from checks.history.export import comparison, comparison_table

    first, second = store.get(args.old_id).report(), store.get(args.new_id).report()
    before, after = sorted((first, second), key=lambda r: r.started_at)
    if args.compare_format == "json":
        stdout.write(json.dumps(comparison(before, after), ensure_ascii=False, indent=2) + "\n")
    else:
        stdout.write(comparison_table(before, after))
    return EXIT_OK


def run_history_command(args: argparse.Namespace, *, stdout: IO[str], stderr: IO[str],
                        environ: Mapping[str, str]) -> int:
    from checks.history.store import RunNotFound

    store = open_history(args, environ)
    try:
        action = {"show": _show, "compare": _compare}.get(args.history_action or "", _list)
        result = action(store, args, stdout)
    except RunNotFound as exc:
        stderr.write(f"error: {exc}\n")
        return EXIT_PROBLEMS
    finally:
        store.close()
    stdout.flush()
    return result
