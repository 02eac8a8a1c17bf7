"""`python -m checks`: run the relay checklist from a shell or a script, or explain a server reply.

Exit status: 0 no fail or error; 1 at least one fail or error (for `explain`: nothing known found);
2 bad invocation or invalid settings. Only the standard library is imported at start-up; the engine,
pandas and the knowledge catalog are imported when a command needs them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from typing import IO, Any

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2

PROFILES = "gmail|workspace|m365-basic|m365-oauth2|custom"
# CLI option dest -> settings key (all are the same name; kept explicit so a rename cannot slip through).
SETTING_OPTIONS = (
    "profile", "host", "port", "security", "auth", "username", "sender", "password_env", "ca_file", "nameserver",
    "connect_to", "timeout", "deadline", "tenant_id", "client_id", "client_secret_env", "secret_expires",
    "refresh_token_env", "cloud", "login_url", "graph_url", "send_test_to",
)


class UsageError(Exception):
    """A bad invocation: printed as one `error: ...` line and exit status 2."""


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


def add_settings_arguments(parser: Any) -> None:
    """The relay settings flags (shared by `run` and `audit`); secrets only by environment or stdin."""
    setup = parser.add_argument_group("settings")
    setup.add_argument("--config", metavar="FILE.toml", help="settings file (keys as the long options, '-' as '_')")
    setup.add_argument("--profile", metavar=f"{{{PROFILES.replace('|', ',')}}}", help="preset from the setup guide")
    setup.add_argument("--host", metavar="H", help="relay host name")
    setup.add_argument("--port", metavar="N", help="relay port (587 STARTTLS, 465 implicit TLS)")
    setup.add_argument("--security", metavar="{starttls,tls,none}")
    setup.add_argument("--auth", metavar="{password,oauth2,oauth2-app,none}", help="how to sign in")
    setup.add_argument("--username", metavar="U", help="sign-in address")
    setup.add_argument("--sender", metavar="ADDR", help="From address the relay will use")
    secret = setup.add_mutually_exclusive_group()
    secret.add_argument("--password-env", metavar="VAR", help="read the password from environment variable VAR")
    secret.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    setup.add_argument("--ca-file", metavar="PEM", help="extra CA to trust for every TLS connection of the run")
    setup.add_argument("--nameserver", metavar="IP[:PORT]", help="DNS server to ask instead of the system's")
    setup.add_argument("--connect-to", metavar="HOST[:PORT]",
                       help="connect there instead of the resolved address (the host name is still used for TLS)")
    setup.add_argument("--timeout", metavar="SECONDS", help="per network step")
    setup.add_argument("--deadline", metavar="SECONDS", help="for the whole run")
    setup.add_argument("--tenant-id", metavar="T")
    setup.add_argument("--client-id", metavar="C")
    setup.add_argument("--client-secret-env", metavar="VAR", help="read the client secret from environment VAR")
    setup.add_argument("--secret-expires", metavar="YYYY-MM-DD", help="client secret expiry date")
    setup.add_argument("--refresh-token-env", metavar="VAR", help="read the refresh token from environment VAR")
    setup.add_argument("--cloud", metavar="{global,usgov,china}")
    setup.add_argument("--login-url", metavar="URL", help="Entra ID login endpoint (https)")
    setup.add_argument("--graph-url", metavar="URL", help="Microsoft Graph endpoint (https)")
    setup.add_argument("--send-test-to", metavar="ADDR", help="send a test message to this address")


def build_parser(out: IO[str] | None = None, err: IO[str] | None = None, *,
                 command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser (output to the given streams; errors raise instead of exiting the process).

    `command` limits the options added to that subcommand's ('' none, None all); the help texts stay the same.
    """
    parser_class = _parser_class(out or sys.stdout, err or sys.stderr)
    parser = parser_class(
        prog="python -m checks",
        description="SMTP relay troubleshooting console: check a relay setup step by step, or explain a reply.",
        epilog="Exit status: 0 no fail or error; 1 at least one fail or error; 2 bad invocation or invalid settings.",
    )
    commands = parser.add_subparsers(dest="command", metavar="{run,batch,explain,history,audit,watch}", parser_class=parser_class)

    run = commands.add_parser(
        "run", help="run the checklist against a relay setup",
        description="Run the checklist. Flags override the --config file. Secrets are read from the environment "
                    "(--password-env, --client-secret-env, --refresh-token-env) or standard input, never from "
                    "the command line.",
        epilog="Exit status: 0 no fail or error; 1 at least one fail or error; 2 bad invocation or invalid settings.")
    if command not in (None, "run"):
        run = _Inert()
    add_settings_arguments(run)
    output = run.add_argument_group("output")
    output.add_argument("--only", metavar="ID[,ID...]", help="run only these checks (and what they need)")
    output.add_argument("--format", choices=("table", "json", "csv", "markdown"), default="table")
    output.add_argument("--output", metavar="FILE", help="write the report to FILE instead of standard output")
    output.add_argument("--verbose", action="store_true", help="show SMTP transcripts in table output")
    add_save_options(run)

    from checks.cli.batch import add_batch_parser

    add_batch_parser(commands, wanted=command in (None, "batch"))

    from checks.cli.history import add_history_parser

    add_history_parser(commands, wanted=command in (None, "history"))

    from checks.cli.audit import add_audit_parser

    add_audit_parser(commands, wanted=command in (None, "audit"))

    from checks.cli.watch import add_watch_parser

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


def add_save_options(parser: Any, *, named: bool = True) -> None:
    """--save (and --name), --db: keep the run in the history (`python -m checks history`)."""
    from checks.cli.history import DB_HELP

    group = parser.add_argument_group("history")
    group.add_argument("--save", action="store_true", help="save the run in the history")
    if named:
        group.add_argument("--name", metavar="LABEL", help="setup name or customer / ticket label to save it under")
    group.add_argument("--db", metavar="URL", help=DB_HELP)


def settings_values(args: argparse.Namespace, *, stdin: IO[str]) -> dict[str, Any]:
    """The --config file's keys overridden by the flags given, plus a password read from stdin if asked."""
    from checks.settings.loading import load_toml

    values: dict[str, Any] = dict(load_toml(args.config)) if args.config else {}
    for key in SETTING_OPTIONS:
        value = getattr(args, key, None)
        if value is not None:
            values[key] = value
    if args.password_stdin:
        if _is_terminal(stdin):
            import getpass

            password = getpass.getpass("Password: ")
        else:
            password = stdin.read()
        password = password[:-1] if password.endswith("\n") else password
        password = password[:-1] if password.endswith("\r") else password
        if not password:
            raise UsageError("--password-stdin: nothing was read from standard input")
        values.pop("password_env", None)
        values["password"] = password
    return values


def _is_terminal(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (ValueError, OSError):
        return False


def parse_only(text: str) -> tuple[Any, ...]:
    """'dns.host, port' -> (CheckId.DNS_HOST, CheckId.PORT); UsageError naming the valid ids."""
    from checks.model import CheckId

    names = [part.strip() for part in text.split(",") if part.strip()]
    valid = ", ".join(c.value for c in CheckId)
    if not names:
        raise UsageError(f"--only: give one or more check ids (valid: {valid})")
    unknown = [n for n in names if n not in {c.value for c in CheckId}]
    if unknown:
        raise UsageError(f"--only: unknown check id{'s' if len(unknown) > 1 else ''} "
                         f"{', '.join(repr(u[:40]) for u in unknown)} (valid: {valid})")
    return tuple(dict.fromkeys(CheckId(n) for n in names))


def check_output_path(path: str) -> None:
    from pathlib import Path

    target = Path(path)
    if target.is_dir():
        raise UsageError(f"--output: {path} is a directory")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"--output: the folder {parent} does not exist")


def _invalid(exc: Any, stderr: IO[str]) -> int:
    for error in exc.errors:
        stderr.write(f"error: {error.field}: {error.message}\n")
    return EXIT_USAGE


def _run(args: argparse.Namespace, *, stdin: IO[str], stdout: IO[str], stderr: IO[str],
         environ: Mapping[str, str], deps: Any) -> int:
    from checks.settings.config import InvalidSettings
    from checks.settings.loading import config_from_values

    only = parse_only(args.only) if args.only is not None else None
    if args.output:
        check_output_path(args.output)
    from checks.cli.history import history_for

    store = history_for(args, environ)
    try:
        values = settings_values(args, stdin=stdin)
        if deps is not None:
            deps.policy.screen(values)
        config = config_from_values(values, environ=environ)
    except InvalidSettings as exc:
        return _invalid(exc, stderr)

    from checks.redact import redact, secret_values

    secrets = secret_values(config)
    try:
        return _run_config(config, args, only=only, stdout=stdout, stderr=stderr, environ=environ, deps=deps,
                           store=store)
    except UsageError:
        raise
    except InvalidSettings as exc:  # a hosted console's target policy refused the settings
        return _invalid(exc, stderr)
    except Exception as exc:  # noqa: BLE001 - the boundary: one line, secrets masked, no traceback
        message = redact(str(exc).splitlines()[0] if str(exc) else "unexpected", secrets)
        stderr.write(f"error: the run stopped unexpectedly: {type(exc).__name__}: {message}\n")
        return EXIT_PROBLEMS


def _run_config(config: Any, args: argparse.Namespace, *, only: tuple[Any, ...] | None, stdout: IO[str],
                stderr: IO[str], environ: Mapping[str, str], deps: Any, store: Any = None) -> int:
    from checks.redact import redact, secret_values
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

    from checks.report import table as terminal
    from checks.report.export import verdict_line, write_report
    from checks.runner import run_checklist

    observer = None
    if terminal.is_terminal(stdout):
        observer = terminal.ProgressPrinter(stderr, colour=terminal.wants_colour(stderr, environ))
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
    elif args.format == "table" and terminal.is_terminal(stdout):
        width = _terminal_width()
        text = terminal.render_table(report, verbose=args.verbose, colour=terminal.wants_colour(stdout, environ),
                                     unicode=terminal.supports_unicode(stdout), width=width)
        stdout.write(redact(text, secrets))
    elif args.format == "table":
        text = terminal.render_table(report, verbose=args.verbose, unicode=terminal.supports_unicode(stdout))
        stdout.write(redact(text, secrets))
    else:
        from checks.report.export import render

        stdout.write(redact(render(report, args.format), secrets))
    stdout.flush()
    status = EXIT_PROBLEMS if report.problems else EXIT_OK
    if store is not None:
        from checks.cli.history import save_run

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
    explanations = tuple(knowledge.explain_all(text))
    known = any(getattr(e, "known", True) for e in explanations)
    if args.format == "json":
        import json

        document = {"known": known, "explanations": [knowledge.to_dict(e) for e in explanations]}
        stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    else:
        from checks.report.table import safe_text

        rendered = knowledge.render_text(explanations) if explanations else "Nothing known in this text."
        stdout.write(safe_text(rendered).rstrip("\n") + "\n")
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
            from checks.cli.batch import run_batch_command

            return run_batch_command(args, stdout=stdout, stderr=stderr, environ=environ, deps=deps)
        if args.command == "history":
            from checks.cli.history import run_history_command

            return run_history_command(args, stdout=stdout, stderr=stderr, environ=environ)
        if args.command == "watch":
            from checks.cli.watch import run_watch_command

            return run_watch_command(args, stdout=stdout, stderr=stderr, environ=environ,
                                     deps=deps or _default_deps(environ))
        if args.command == "audit":
            from checks.cli.audit import run_audit_command

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
