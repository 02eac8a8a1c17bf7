"""`python -m checks`: run the relay checklist from a shell or a script, or explain a server reply.

Exit status: 0 no fail or error; 1 at least one fail or error (for `explain`: nothing known found);
2 bad invocation or invalid settings; 3 incomplete (nothing failed, some checks could not run). Only the standard library is imported at start-up; the engine,
pandas and the knowledge catalog are imported when a command needs them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from typing import IO, Any

from checks.cli.audit import add_audit_parser, run_audit_command
from checks.cli.batch import add_batch_parser, run_batch_command
from checks.cli.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    SETTING_OPTIONS,
    UsageError,
    add_allow_incomplete,
    add_save_options,
    add_settings_arguments,
    check_output_path,
    exit_status,
    invalid_settings,
    parse_only,
    settings_values,
)
from checks.cli.history import add_history_parser, history_for, run_history_command, save_run
from checks.cli.watch import add_watch_parser, run_watch_command
from checks.terminal import is_terminal, wants_colour

__all__ = ["EXIT_OK", "EXIT_PROBLEMS", "EXIT_USAGE", "SETTING_OPTIONS", "UsageError", "build_parser", "main",
           "parse_only", "settings_values"]


class _ParserExit(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def _parser_class(out: IO[str], err: IO[str]) -> type[argparse.ArgumentParser]:
    class Parser(argparse.ArgumentParser):
        def _print_message(self, message: str, file: Any = None) -> None:
            if message:
                (out if file is None or file is sys.stdout else err).write(message)

        def exit(self, status: int = 0, message: str | None = None) -> None:  # type: ignore[override]
            if message:
                err.write(message)
            raise _ParserExit(status)

    return Parser


class _Inert:
    """Stands in for a subcommand parser whose options this invocation does not need (saves start-up time)."""

    def __getattr__(self, name: str) -> Any:
        return self._ignore

    def _ignore(self, *args: Any, **kwargs: Any) -> _Inert:
        return self


COMMANDS = ("run", "batch", "explain", "history", "audit", "watch")


def _wanted_command(argv: Sequence[str]) -> str:
    """The subcommand whose options must be known to parse `argv` ('' when none is named: top-level help)."""
    return argv[0] if argv and argv[0] in COMMANDS else ""


def build_parser(out: IO[str] | None = None, err: IO[str] | None = None, *,
                 command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser (output to the given streams; errors raise instead of exiting the process).

    `command` limits the options added to that subcommand's ('' none, None all); the help texts stay the same.
    """
    parser_class = _parser_class(out or sys.stdout, err or sys.stderr)
    parser = parser_class(
        prog="python -m checks",
        description="SMTP relay troubleshooting console: check a relay setup step by step, or explain a reply.",
        epilog="Exit status: 0 no fail or error; 1 at least one fail or error; 2 bad invocation or invalid settings; "
               "3 nothing failed but some checks could not run (incomplete; 0 with --allow-incomplete).",
    )
    commands = parser.add_subparsers(dest="command", metavar="{run,batch,explain,history,audit,watch}", parser_class=parser_class)

    run = commands.add_parser(
        "run", help="run the checklist against a relay setup",
        description="Run the checklist. Flags override the --config file. Secrets are read from the environment "
                    "(--password-env, --client-secret-env, --refresh-token-env) or standard input, never from "
                    "the command line.",
        epilog="Exit status: 0 no fail or error; 1 at least one fail or error; 2 bad invocation or invalid settings; "
               "3 nothing failed but some checks could not run (incomplete; 0 with --allow-incomplete).")
    if command not in (None, "run"):
        run = _Inert()
    add_settings_arguments(run)
    output = run.add_argument_group("output")
    output.add_argument("--only", metavar="ID[,ID...]", help="run only these checks (and what they need)")
    output.add_argument("--format", choices=("table", "json", "csv", "markdown"), default="table")
    output.add_argument("--output", metavar="FILE", help="write the report to FILE instead of standard output")
    output.add_argument("--verbose", action="store_true", help="show SMTP transcripts in table output")
    add_allow_incomplete(output)
    add_save_options(run)

    add_batch_parser(commands, wanted=command in (None, "batch"))

    add_history_parser(commands, wanted=command in (None, "history"))

    add_audit_parser(commands, wanted=command in (None, "audit"))

    add_watch_parser(commands, wanted=command in (None, "watch"))

    explain = commands.add_parser(
        "explain", help="explain a server reply or an AADSTS error",
        description="Decode an SMTP reply or an Entra ID (AADSTS) error: cause, fix and setup guide section.",
        epilog="Exit status: 0 something known was found; 1 nothing known; 2 bad invocation.")
    if command not in (None, "explain"):
        explain = _Inert()
    explain.add_argument("text", metavar="TEXT", help="the reply or error text; '-' reads standard input")
    explain.add_argument("--format", choices=("text", "json"), default="text")
    return parser


def _run(args: argparse.Namespace, *, stdin: IO[str], stdout: IO[str], stderr: IO[str],
         environ: Mapping[str, str], deps: Any) -> int:
    from checks.settings.config import InvalidSettings
    from checks.settings.loading import config_from_values

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

    from checks.redact import redact, secret_values

    secrets = secret_values(config)
    try:
        return _run_config(config, args, only=only, stdout=stdout, stderr=stderr, environ=environ, deps=deps,
                           store=store)
    except UsageError:
        raise
    except InvalidSettings as exc:  # a hosted console's target policy refused the settings
        return invalid_settings(exc, stderr)
    except Exception as exc:  # noqa: BLE001 - the boundary: one line, secrets masked, no traceback
        message = redact(str(exc).splitlines()[0] if str(exc) else "unexpected", secrets)  # outside text
        stderr.write(f"error: the run stopped unexpectedly: {type(exc).__name__}: {message}\n")
        return EXIT_PROBLEMS


def _run_config(config: Any, args: argparse.Namespace, *, only: tuple[Any, ...] | None, stdout: IO[str],
                stderr: IO[str], environ: Mapping[str, str], deps: Any, store: Any = None) -> int:
    from checks.redact import guard, secret_values
    from checks.registry import plan

    if only is not None:
        planned = {spec.id for spec in plan(config, only)}
        left_out = [c.value for c in only if c not in planned]
        if len(left_out) == len(only):
            raise UsageError(f"--only: {', '.join(left_out)} do{'es' if len(left_out) == 1 else ''} not apply to "
                             f"this setup (profile {config.profile.value}, auth {config.auth.value})")
        if left_out:
            stderr.write(f"note: {', '.join(left_out)} do{'es' if len(left_out) == 1 else ''} not apply to this "
                         "setup and will not run\n")

    from checks.cli.progress import ProgressPrinter
    from checks.report import table as terminal
    from checks.report.export import verdict_line, write_report
    from checks.runner import run_checklist

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
        from checks.report.export import render

        stdout.write(guard(render(report, args.format), secrets))
    stdout.flush()
    status = exit_status(report.verdict, allow_incomplete=args.allow_incomplete)
    if store is not None:
        status = save_run(store, report, name=args.name, hide=secrets, stderr=stderr, status=status)
    return status


def _terminal_width() -> int:
    import shutil

    return max(60, shutil.get_terminal_size((100, 24)).columns)


def _explain(args: argparse.Namespace, *, stdin: IO[str], stdout: IO[str], stderr: IO[str]) -> int:
    text = stdin.read() if args.text == "-" else args.text
    if not text.strip():
        raise UsageError("explain: give the server reply or error text (or '-' to read it from standard input)")
    try:
        from checks.knowledge import catalog as knowledge
    except ImportError:
        stderr.write("error: explain is not available: the knowledge catalog (checks.knowledge.catalog) is missing\n")
        return EXIT_PROBLEMS
    from checks.knowledge.reader import explain_all, read_paste

    reading = read_paste(text)
    explanations = reading.explanations or tuple(explain_all(text))
    known = any(getattr(e, "known", True) for e in explanations)
    if args.format == "json":
        import json

        document = {"known": known, "read": {"summary": reading.summary(), "total_chars": reading.total_chars,
                                             "read_chars": reading.read_chars, "total_lines": reading.total_lines,
                                             "first_line": reading.first_line, "last_line": reading.last_line,
                                             "client": reading.client},
                    "explanations": [knowledge.to_dict(e) for e in explanations]}
        stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    else:
        from checks.report.table import safe_text

        rendered = knowledge.render_text(explanations) if explanations else "Nothing known in this text."
        stdout.write(safe_text(reading.summary() + "\n\n" + rendered).rstrip("\n") + "\n")
    stdout.flush()
    return EXIT_OK if known else EXIT_PROBLEMS


def _default_deps(environ: Mapping[str, str]) -> Any:
    """The real dependencies, with the hosting policy read from the same environment as the secrets."""
    from checks.run_state import Dependencies
    from checks.target_policy import TargetPolicy

    return Dependencies(policy=TargetPolicy.from_environment(environ))


def main(argv: Sequence[str] | None = None, *, stdin: IO[str] | None = None, stdout: IO[str] | None = None,
         stderr: IO[str] | None = None, environ: Mapping[str, str] | None = None, deps: Any = None) -> int:
    """Run the CLI with `argv` (default sys.argv[1:]); returns the exit status, never raises."""
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    environ = os.environ if environ is None else environ
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(stdout, stderr, command=_wanted_command(arguments))
    try:
        args = parser.parse_args(arguments)
        if args.command is None:
            parser.print_help(stderr)
            return EXIT_USAGE
        if args.command in ("run", "batch") and deps is None:
            deps = _default_deps(environ)
        if args.command == "run":
            return _run(args, stdin=stdin, stdout=stdout, stderr=stderr, environ=environ, deps=deps)
        if args.command == "batch":
            return run_batch_command(args, stdout=stdout, stderr=stderr, environ=environ, deps=deps)
        if args.command == "history":
            return run_history_command(args, stdout=stdout, stderr=stderr, environ=environ)
        if args.command == "watch":
            return run_watch_command(args, stdout=stdout, stderr=stderr, environ=environ,
                                     deps=deps or _default_deps(environ))
        if args.command == "audit":
            return run_audit_command(args, stdin=stdin, stdout=stdout, stderr=stderr, environ=environ)
        return _explain(args, stdin=stdin, stdout=stdout, stderr=stderr)
    except _ParserExit as exc:
        return exc.status
    except UsageError as exc:
        stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        stderr.write("error: interrupted\n")
        return 130
    except BrokenPipeError:
        return EXIT_PROBLEMS
    except Exception as exc:  # noqa: BLE001 - the boundary: one line, never a traceback
        stderr.write(f"error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'unexpected'}\n")
        return EXIT_PROBLEMS
