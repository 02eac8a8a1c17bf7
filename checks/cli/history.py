"""`python -m checks history`: list stored runs, print one in any report format, compare two."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Mapping
from typing import IO, Any

from checks.cli.common import EXIT_OK, EXIT_PROBLEMS, UsageError
from checks.model import Verdict
from checks.report.export import render


def open_history(args: argparse.Namespace, environ: Mapping[str, str], *, saving: bool = False) -> Any:
    """The store named by --db / $RELAY_CONSOLE_DB; UsageError (exit 2) when it cannot be opened.

    `saving`: runs will be added, so runs older than the retention ($RELAY_CONSOLE_KEEP_DAYS) go first.
    """
    # lazy: the history store (SQLAlchemy) loads only when runs are saved or read
    from checks.history.location import StoreLocationError, keep_days
    from checks.history.store import StoreError, open_store

    try:
        store = open_store(getattr(args, "db", None), environ=environ)
        if saving:
            store.prune(keep_days(environ=environ))
        return store
    except (StoreError, StoreLocationError) as exc:
        raise UsageError(f"--db: {exc}") from None


def history_for(args: argparse.Namespace, environ: Mapping[str, str]) -> Any:
    """The store to save a run in when --save was given, else None (opened before the run: a bad --db is exit 2)."""
    if getattr(args, "name", None) and not args.save:
        raise UsageError("--name: add --save to keep the run in the history under that name")
    return open_history(args, environ, saving=True) if args.save else None


def save_run(store: Any, report: Any, *, name: str | None, hide: Any, stderr: IO[str], status: int) -> int:
    """Save a finished run; a failure is reported and makes the exit status at least 1 (the report was printed)."""
    # lazy: the history store (SQLAlchemy) loads only when runs are saved or read
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
    # lazy: the history store (SQLAlchemy) loads only when runs are saved or read
    from checks.history.export import history_csv, history_json, history_table
    from checks.history.store import RunFilter
    if args.limit < 0:
        raise UsageError("--limit: give 0 (all) or a positive number")
    query = RunFilter(name=args.name or "", host=args.host or "", verdict=Verdict(args.verdict) if args.verdict
                      else None, since=_since(args.since), limit=args.limit, latest=args.latest)
    runs = store.runs(query)
    render = {"json": history_json, "csv": history_csv}.get(args.format, history_table)
    stdout.write(render(runs))
    return EXIT_OK


def _show(store: Any, args: argparse.Namespace, stdout: IO[str]) -> int:
    report = store.get(args.run_id).report()
    stdout.write(render(report, args.show_format))
    return EXIT_OK


def _compare(store: Any, args: argparse.Namespace, stdout: IO[str]) -> int:
    # lazy: the history store (SQLAlchemy) loads only when runs are saved or read
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
    # lazy: the history store (SQLAlchemy) loads only when runs are saved or read
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
