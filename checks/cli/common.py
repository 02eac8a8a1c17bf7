"""What every `python -m checks` subcommand shares: exit codes, the usage error, the settings and history options."""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path
from typing import IO, Any

from checks.terminal import is_terminal

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
EXIT_INCOMPLETE = 3  # nothing failed, but a check could not run: not proven (a go-live gate must not pass it)
DB_HELP = ("history database: sqlite:///PATH or postgresql://USER@HOST/DB (default $RELAY_CONSOLE_DB, else an "
           "SQLite file in your user data folder)")


PROFILES = "gmail|workspace|m365-basic|m365-oauth2|custom"
# CLI option dest -> settings key (all are the same name; kept explicit so a rename cannot slip through).
SETTING_OPTIONS = (
    "profile", "host", "port", "security", "auth", "username", "sender", "password_env", "ca_file", "nameserver",
    "connect_to", "timeout", "deadline", "tenant_id", "client_id", "client_secret_env", "secret_expires",
    "refresh_token_env", "cloud", "login_url", "graph_url", "send_test_to",
)


class UsageError(Exception):
    """A bad invocation: printed as one `error: ...` line and exit status 2."""


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


def add_allow_incomplete(parser: Any) -> None:
    parser.add_argument("--allow-incomplete", action="store_true",
                        help="exit 0 instead of 3 when nothing failed but some checks could not run (incomplete)")


def exit_status(verdict: Any, *, allow_incomplete: bool = False) -> int:
    """0 ready; 1 problems; 3 incomplete (0 with --allow-incomplete)."""
    from checks.model import Verdict

    if verdict is Verdict.PROBLEMS:
        return EXIT_PROBLEMS
    if verdict is Verdict.INCOMPLETE and not allow_incomplete:
        return EXIT_INCOMPLETE
    return EXIT_OK


def add_save_options(parser: Any, *, named: bool = True) -> None:
    """--save (and --name), --db: keep the run in the history (`python -m checks history`)."""
    group = parser.add_argument_group("history")
    group.add_argument("--save", action="store_true", help="save the run in the history")
    if named:
        group.add_argument("--name", metavar="LABEL", help="setup name or customer / ticket label to save it under")
    group.add_argument("--db", metavar="URL", help=DB_HELP)


def settings_values(args: argparse.Namespace, *, stdin: IO[str]) -> dict[str, Any]:
    """The --config file's keys overridden by the flags given, plus a password read from stdin if asked."""
    from checks.settings.loading import load_toml  # lazy: settings validation is not needed for --help

    values: dict[str, Any] = dict(load_toml(args.config)) if args.config else {}
    for key in SETTING_OPTIONS:
        value = getattr(args, key, None)
        if value is not None:
            values[key] = value
    if args.password_stdin:
        password = getpass.getpass("Password: ") if is_terminal(stdin) else stdin.read()
        password = password[:-1] if password.endswith("\n") else password
        password = password[:-1] if password.endswith("\r") else password
        if not password:
            raise UsageError("--password-stdin: nothing was read from standard input")
        values.pop("password_env", None)
        values["password"] = password
    return values


def parse_only(text: str) -> tuple[Any, ...]:
    """'dns.host, port' -> (CheckId.DNS_HOST, CheckId.PORT); UsageError naming the valid ids."""
    from checks.model import CheckId  # lazy: the engine's model is not needed for --help or explain

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
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"--output: {path} is a directory")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"--output: the folder {parent} does not exist")


def invalid_settings(exc: Any, stderr: IO[str]) -> int:
    for error in exc.errors:
        stderr.write(f"error: {error.field}: {error.message}\n")
    return EXIT_USAGE
