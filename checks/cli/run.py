"""`python -m checks run`: validate the settings, run the checklist with live progress, print or write the report."""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Mapping
from typing import IO, Any

from checks.cli.common import (
    EXIT_PROBLEMS,
    UsageError,
    check_output_path,
    exit_status,
    invalid_settings,
    parse_only,
    settings_values,
)
from checks.cli.history import history_for, save_run
from checks.cli.progress import ProgressPrinter
from checks.redact import guard, redact, secret_values
from checks.registry import plan
from checks.report import table as terminal
from checks.report.export import render, verdict_line, write_report
from checks.run_state import Dependencies
from checks.runner import run_checklist
from checks.safe_text import visible
from checks.settings.config import InvalidSettings
from checks.settings.loading import config_from_values
from checks.target_policy import TargetPolicy
from checks.terminal import is_terminal, wants_colour


def run_command(args: argparse.Namespace, *, stdin: IO[str], stdout: IO[str], stderr: IO[str],
         environ: Mapping[str, str], deps: Any) -> int:
    only = parse_only(args.only) if args.only is not None else None
    if args.output:
        check_output_path(args.output)
    store = history_for(args, environ)
    try:
        values = settings_values(args, stdin=stdin)
        if deps is not None:
            deps.policy.screen(values)
        config = config_from_values(values, environ=environ)
    except InvalidSettings as exc:
        return invalid_settings(exc, stderr)

    secrets = secret_values(config)
    try:
        return _run_config(config, args, only=only, stdout=stdout, stderr=stderr, environ=environ, deps=deps,
                           store=store)
    except UsageError:
        raise
    except InvalidSettings as exc:  # a hosted console's target policy refused the settings
        return invalid_settings(exc, stderr)
    except Exception as exc:  # noqa: BLE001 - the boundary: one line, secrets masked, no traceback
        message = visible(redact(str(exc).splitlines()[0] if str(exc) else "unexpected", secrets))  # outside text
        stderr.write(f"error: the run stopped unexpectedly: {type(exc).__name__}: {message}\n")
        return EXIT_PROBLEMS


def _run_config(config: Any, args: argparse.Namespace, *, only: tuple[Any, ...] | None, stdout: IO[str],
                stderr: IO[str], environ: Mapping[str, str], deps: Any, store: Any = None) -> int:
    if only is not None:
        planned = {spec.id for spec in plan(config, only)}
        left_out = [c.value for c in only if c not in planned]
        if len(left_out) == len(only):
            raise UsageError(f"--only: {', '.join(left_out)} do{'es' if len(left_out) == 1 else ''} not apply to "
                             f"this setup (profile {config.profile.value}, auth {config.auth.value})")
        if left_out:
            stderr.write(f"note: {', '.join(left_out)} do{'es' if len(left_out) == 1 else ''} not apply to this "
                         "setup and will not run\n")

    observer = None
    if is_terminal(stdout):
        observer = ProgressPrinter(stderr, colour=wants_colour(stderr, environ))
    try:
        report = run_checklist(config, only=only, observer=observer, deps=deps)
    finally:
        if observer is not None:
            observer.close()

    secrets = secret_values(config)
    if args.output:
        try:
            write_report(report, args.format, args.output, verbose=args.verbose)
        except OSError as exc:
            raise UsageError(f"--output: cannot write {args.output}: {exc.strerror or exc}") from None
        stderr.write(f"{args.format} report written to {args.output}: {verdict_line(report)} "
                     f"({len(report.results)} checks, run {report.run_id})\n")
    elif args.format == "table" and is_terminal(stdout):
        width = _terminal_width()
        text = terminal.render_table(report, verbose=args.verbose, colour=wants_colour(stdout, environ),
                                     unicode=terminal.supports_unicode(stdout), width=width)
        stdout.write(guard(text, secrets))
    elif args.format == "table":
        text = terminal.render_table(report, verbose=args.verbose, unicode=terminal.supports_unicode(stdout))
        stdout.write(guard(text, secrets))
    else:
        stdout.write(guard(render(report, args.format), secrets))
    stdout.flush()
    status = exit_status(report.verdict, allow_incomplete=args.allow_incomplete)
    if store is not None:
        status = save_run(store, report, name=args.name, hide=secrets, stderr=stderr, status=status)
    return status


def _terminal_width() -> int:
    return max(60, shutil.get_terminal_size((100, 24)).columns)


def default_deps(environ: Mapping[str, str]) -> Any:
    """The real dependencies, with the hosting policy read from the same environment as the secrets."""
    return Dependencies(policy=TargetPolicy.from_environment(environ))
