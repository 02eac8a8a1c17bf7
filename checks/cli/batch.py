"""`python -m checks batch`: many setups from a CSV/TOML file, a progress bar, one combined report."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from checks.batch.file import BatchFileError, load_batch, load_secrets, secrets_environ
from checks.batch.processes import MAX_PROCESSES, auto_processes, usable_cpus
from checks.batch.report import batch_to_csv, batch_to_json, batch_verdict_line, summary_rows
from checks.batch.run import DEFAULT_JOBS, MAX_JOBS, run_batch
from checks.cli.common import (
    UsageError,
    check_output_path,
    exit_status,
    parse_only,
)
from checks.cli.history import open_history
from checks.cli.progress import BatchProgress
from checks.model import Status
from checks.redact import guard
from checks.report import table as terminal
from checks.report.table import safe_text, status_mark, supports_unicode
from checks.settings.fields import ENV_REFERENCES
from checks.terminal import is_terminal, wants_colour

EXIT_INTERRUPTED = 130


def render_batch_table(batch: Any, *, unicode: bool = True, colour: bool = False) -> str:
    """One line per setup: verdict, setup name, host:port, counts by status and the checks with problems."""
    summaries = summary_rows(batch)
    width = max([5] + [len(safe_text(r["setup"])) for r in summaries])
    width = min(width, 40)
    lines = [f"Batch {batch.batch_id}: {len(summaries)} setups checked, {batch.jobs} at a time", "",
             f"  {'VERDICT':<7}  {'SETUP':<{width}}  {'HOST:PORT':<32}  PASS WARN FAIL SKIP ERR  PROBLEMS"]
    for row in summaries:
        status = Status.PASS if row["verdict"] == "ready" else Status.FAIL
        mark = status_mark(status, unicode=unicode, colour=colour).replace("pass ", "ready").replace("fail ", "fix  ")
        target = safe_text(f"{row['host']}:{row['port']}")[:32]
        name = safe_text(row["setup"])
        name = name if len(name) <= width else name[: width - 1] + "…"
        lines.append(f"  {mark}  {name:<{width}}  {target:<32}  {row['pass']:>4} {row['warn']:>4} {row['fail']:>4} "
                     f"{row['skip']:>4} {row['error']:>3}  {safe_text(row['problems'])}".rstrip())
    if batch.not_run:
        lines += ["", f"Did not finish: {safe_text(', '.join(batch.not_run[:20]))}"
                      + (f" and {len(batch.not_run) - 20} more" if len(batch.not_run) > 20 else "")]
    lines += ["", batch_verdict_line(batch)]
    return "\n".join(lines) + "\n"


def _run_or_save(inputs: BatchInputs, store: Any, **options: Any) -> Any:
    """run_batch, or (with --save) the same batch with each finished setup saved in the history."""
    if store is None:
        return run_batch(inputs.setups, jobs=inputs.jobs, processes=inputs.processes, environ=inputs.lookup,
                         **options)
    # lazy: the history store (SQLAlchemy) loads only when runs are saved or read
    from checks.history.records import Source, current_user
    from checks.history.saving import save_batch

    try:
        batch, _, _ = save_batch(store, inputs.setups, source=Source.BATCH, user=current_user(),
                                 hide=inputs.hidden, jobs=inputs.jobs, processes=inputs.processes,
                                 environ=inputs.lookup, **options)
    finally:
        store.close()
    return batch


def _main_process() -> bool:
    """True when this is `python -m checks` itself (not a test or a notebook calling main())."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return getattr(spec, "name", "") == "checks.__main__"


@dataclass(frozen=True)
class BatchInputs:
    """A batch command's checked inputs: the setups, where secrets are looked up, the values to mask."""

    setups: list[Any]
    lookup: Mapping[str, str]
    hidden: list[str]
    jobs: int
    processes: int = 1


def batch_inputs(args: argparse.Namespace, environ: Mapping[str, str]) -> BatchInputs:
    """Read the batch file and --secrets, check --jobs and --processes; UsageError (exit 2) naming what is wrong."""
    jobs = DEFAULT_JOBS if args.jobs is None else args.jobs
    if not 1 <= jobs <= MAX_JOBS:
        raise UsageError(f"--jobs: give a number from 1 to {MAX_JOBS}")
    if args.processes is not None and not 1 <= args.processes <= MAX_PROCESSES:
        raise UsageError(f"--processes: give a number from 1 to {MAX_PROCESSES}")
    try:
        setups = load_batch(args.file)
        secrets = load_secrets(args.secrets) if args.secrets else {}
    except BatchFileError as exc:
        raise UsageError(str(exc)) from None
    lookup = secrets_environ(secrets, environ)
    hidden = tuple(v for v in secrets.values() if v) + tuple(
        lookup[str(s.values[ref]).strip()] for s in setups for ref in ENV_REFERENCES
        if isinstance(s.values.get(ref), str) and str(s.values[ref]).strip() in lookup)
    processes = auto_processes(len(setups), jobs, usable_cpus()) if args.processes is None else args.processes
    return BatchInputs(setups, lookup, sorted(set(hidden)), jobs, processes)


def batch_progress(args: argparse.Namespace, stderr: IO[str]) -> BatchProgress | None:
    """The progress bar, when standard error is a terminal and --no-progress was not given."""
    if args.no_progress or not is_terminal(stderr):
        return None
    return BatchProgress(stderr, unicode=supports_unicode(stderr))


def run_batch_command(args: argparse.Namespace, *, stdout: IO[str], stderr: IO[str], environ: Mapping[str, str],
           deps: Any) -> int:
    only = parse_only(args.only) if args.only is not None else None
    if args.output:
        check_output_path(args.output)
    inputs = batch_inputs(args, environ)
    store = open_history(args, environ, saving=True) if args.save else None

    progress = batch_progress(args, stderr)
    try:
        report = _run_or_save(inputs, store, observer=progress, deps=deps, only=only)
    finally:
        if progress is not None:
            progress.close()

    if args.format == "json":
        text = batch_to_json(report)
    elif args.format == "csv":
        text = batch_to_csv(report)
    else:
        text = render_batch_table(report, unicode=terminal.supports_unicode(stdout),
                                  colour=wants_colour(stdout, environ) and not args.output)
    text = guard(text, inputs.hidden)  # the engine masked already; this is the last guard
    if args.output:

        try:
            Path(args.output).write_text(text, encoding="utf-8", newline="")
        except OSError as exc:
            raise UsageError(f"--output: cannot write {args.output}: {exc.strerror or exc}") from None
        stderr.write(f"{args.format} report written to {args.output}: {batch_verdict_line(report)}\n")
    else:
        stdout.write(text)
    stdout.flush()
    if report.interrupted:
        stderr.write(f"interrupted: {len(report.outcomes)} setup{'s' if len(report.outcomes) != 1 else ''} finished "
                     f"and reported, {len(report.not_run)} did not finish\n")
        stderr.flush()
        if _main_process():  # checks still talking to servers would delay the exit by up to one step timeout
            os._exit(EXIT_INTERRUPTED)
        return EXIT_INTERRUPTED
    return exit_status(report.verdict, allow_incomplete=args.allow_incomplete)
