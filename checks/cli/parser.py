"""The `python -m checks` argument parser: every subcommand's options, and nothing that runs them.

Kept apart from the commands so that parsing (and --help) imports only the standard library and the settings table.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import IO, Any

from checks.cli.common import DB_HELP, add_allow_incomplete, add_save_options, add_settings_arguments

COMMANDS = ("run", "batch", "explain", "history", "audit", "watch")
BATCH_FORMATS = ("table", "csv", "json")
HISTORY_FORMATS = ("table", "json", "csv")
SHOW_FORMATS = ("table", "json", "csv", "markdown")
AUDIT_FORMATS = ("table", "json", "csv", "markdown")
DEFAULT_EVERY = "1h"


class ParserExit(Exception):
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
            raise ParserExit(status)

    return Parser


class _Inert:
    """Stands in for a subcommand parser whose options this invocation does not need (saves start-up time)."""

    def __getattr__(self, name: str) -> Any:
        return self._ignore

    def _ignore(self, *args: Any, **kwargs: Any) -> _Inert:
        return self


def wanted_command(argv: Sequence[str]) -> str:
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
    else:
        add_settings_arguments(run)  # the settings table is loaded only for the parser that needs it
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
    known = explain.add_argument_group("known values", "fill the copy-ready commands (otherwise read from the paste, "
                                                       "or shown as <mailbox>, <host>...)")
    known.add_argument("--username", metavar="ADDR", help="the mailbox that signs in (Set-CASMailbox -Identity ...)")
    known.add_argument("--host", metavar="H", help="the relay host")
    known.add_argument("--port", metavar="N", help="the relay port")
    known.add_argument("--tenant-id", metavar="T", help="the Entra tenant")
    known.add_argument("--client-id", metavar="C", help="the app registration's client id")
    return parser


def add_batch_parser(commands: Any, *, wanted: bool = True) -> None:
    batch = commands.add_parser(
        "batch", help="check many setups from a CSV or TOML file",
        description="Check every setup of a batch file: a CSV with a 'name' column plus setting keys as columns, "
                    "or a TOML file with one [[setup]] table per setup. Secrets only by reference: columns "
                    "password_env / client_secret_env / refresh_token_env name an environment variable or an "
                    "entry of the --secrets file; a file holding a secret inline is refused.",
        epilog="Exit status: 0 no fail or error in any setup; 1 at least one fail or error; 2 bad invocation or "
               "unreadable file; 3 nothing failed but a setup is not proven (incomplete; 0 with --allow-incomplete); "
               "130 interrupted (the report holds the setups that finished).")
    if not wanted:
        return
    batch.add_argument("file", metavar="FILE", help="batch file (.csv or .toml)")
    batch.add_argument("--secrets", metavar="FILE",
                       help="secrets mapping read like environment variables: TOML (NAME = \"value\") or .env "
                            "(NAME=value); its entries win over the environment")
    batch.add_argument("--jobs", metavar="N", type=int, default=None,
                       help="setups checked at the same time (default 32, at most 64)")
    add_processes_option(batch)
    batch.add_argument("--only", metavar="ID[,ID...]", help="run only these checks (and what they need)")
    batch.add_argument("--format", choices=BATCH_FORMATS, default="table",
                       help="table: one summary line per setup; csv / json: every check of every setup")
    batch.add_argument("--output", metavar="FILE", help="write the report to FILE instead of standard output")
    batch.add_argument("--no-progress", action="store_true", help="no progress bar on a terminal")
    add_allow_incomplete(batch)

    add_save_options(batch, named=False)


def add_processes_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--processes", metavar="N", type=int, default=None,
                        help="processes sharing the --jobs, this one included (default: one per CPU core, at most 8, "
                             "when there are more setups than --jobs; 1 keeps every setup in this process)")


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


def add_audit_parser(commands: Any, *, wanted: bool = True) -> None:
    audit = commands.add_parser(
        "audit", help="audit the tenant's configuration with an admin sign-in (Microsoft 365 OAuth2)",
        description="Read the app registration, its admin consent, Security Defaults, Conditional Access and the "
                    "sender through Microsoft Graph and hold them against the setup guide. An administrator signs "
                    "in with a device code; the sign-in asks only for read permissions (Application.Read.All, "
                    "DelegatedPermissionGrant.Read.All, Policy.Read.All, User.Read.All) and its token is kept in "
                    "memory only. SMTP AUTH settings come from the read-only PowerShell script (--print-script) "
                    "whose output you pass with --powershell-output.",
        epilog="Exit status: 0 no fail or error; 1 at least one fail or error; 2 bad invocation, invalid settings, "
               "or the audit is turned off on this hosted console.")
    if not wanted:
        return
    add_settings_arguments(audit)
    extra = audit.add_argument_group("audit")
    extra.add_argument("--app-callback", metavar="URL",
                       help="the application's redirect URI (the portal's callback) to find on the Web platform")
    extra.add_argument("--powershell-output", metavar="FILE",
                       help="the pasted output of the PowerShell script ('-' reads standard input)")
    extra.add_argument("--print-script", action="store_true",
                       help="print the read-only Exchange Online PowerShell script for the sender and stop")
    extra.add_argument("--wait", metavar="SECONDS", type=float, default=300.0,
                       help="how long to wait for the device-code sign-in (default 300)")
    output = audit.add_argument_group("output")
    output.add_argument("--format", choices=AUDIT_FORMATS, default="table")
    output.add_argument("--output", metavar="FILE", help="write the report to FILE instead of standard output")
    output.add_argument("--verbose", action="store_true", help="show details in table output")
    add_save_options(audit)


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
    add_processes_option(watch)
    watch.add_argument("--keep-days", metavar="N", help="delete runs older than N days (default "
                                                        "$RELAY_CONSOLE_KEEP_DAYS, else 365; 0 keeps all)")
    add_allow_incomplete(watch)
    watch.add_argument("--no-progress", action="store_true", help="no progress bar on a terminal")
    add_db_option(watch)
