"""What every `python -m checks` subcommand shares: exit codes, the usage error, the settings and history options."""

from __future__ import annotations

import argparse
import os
from typing import IO, TYPE_CHECKING, Any

from checks.terminal import is_terminal

if TYPE_CHECKING:
    from checks.settings.fields import SettingField

# The engine's modules (model, settings table, TOML loading) are imported by the functions that need them: every
# subcommand's parser and `--help` go through this module, and they need none of them (start-up time).

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
EXIT_INCOMPLETE = 3  # nothing failed, but a check could not run: not proven (a go-live gate must not pass it)
DB_HELP = ("history database: sqlite:///PATH or postgresql://USER@HOST/DB (default $RELAY_CONSOLE_DB, else an "
           "SQLite file in your user data folder)")


class UsageError(Exception):
    """A bad invocation: printed as one `error: ...` line and exit status 2."""


def add_settings_arguments(parser: Any) -> None:
    """The relay settings flags (shared by `run` and `audit`); secrets only by environment or stdin."""
    from checks.settings.fields import EXPOSED  # start-up: only the `run` and `audit` parsers need the table

    setup = parser.add_argument_group("settings")
    setup.add_argument("--config", metavar="FILE.toml", help="settings file (keys as the long options, '-' as '_')")
    for spec in EXPOSED:
        if spec.secret and spec.secret.stdin_help:
            either = setup.add_mutually_exclusive_group()
            either.add_argument(spec.flag, metavar=spec.cli_metavar, help=spec.secret.env_help)
            either.add_argument(spec.stdin_flag, action="store_true", help=spec.secret.stdin_help)
        else:
            setup.add_argument(spec.flag, metavar=spec.cli_metavar,
                               help=spec.secret.env_help if spec.secret else spec.cli_help)


def add_allow_incomplete(parser: Any) -> None:
    parser.add_argument("--allow-incomplete", action="store_true",
                        help="exit 0 instead of 3 when nothing failed but some checks could not run (incomplete)")


def exit_status(verdict: Any, *, allow_incomplete: bool = False) -> int:
    """0 ready; 1 problems; 3 incomplete (0 with --allow-incomplete)."""
    from checks.model import Verdict  # start-up: loaded once a run has a verdict

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
    from checks.settings.fields import EXPOSED, SETTING_KEYS  # start-up: see the note at the imports
    from checks.settings.loading import load_toml

    values: dict[str, Any] = dict(load_toml(args.config)) if args.config else {}
    for key in SETTING_KEYS:
        value = getattr(args, key, None)
        if value is not None:
            values[key] = value
    for spec in EXPOSED:
        if spec.secret and spec.secret.stdin_help and getattr(args, spec.stdin_flag[2:].replace("-", "_"), False):
            values.pop(spec.key, None)
            values[spec.name] = _read_secret(spec, stdin)
    return values


def _read_secret(spec: SettingField, stdin: IO[str]) -> str:
    """A secret from standard input (a prompt on a terminal), without its line end."""
    import getpass  # start-up: only a password read from a terminal needs it

    label = spec.form.label if spec.form else spec.name
    secret = getpass.getpass(f"{label}: ") if is_terminal(stdin) else stdin.read()
    secret = secret[:-1] if secret.endswith("\n") else secret
    secret = secret[:-1] if secret.endswith("\r") else secret
    if not secret:
        raise UsageError(f"{spec.stdin_flag}: nothing was read from standard input")
    return secret


def parse_only(text: str) -> tuple[Any, ...]:
    """'dns.host, port' -> (CheckId.DNS_HOST, CheckId.PORT); UsageError naming the valid ids."""
    from checks.model import CheckId  # start-up: see the note at the imports

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
    if os.path.isdir(path):
        raise UsageError(f"--output: {path} is a directory")
    parent = os.path.dirname(path) or "."
    if not os.path.isdir(parent):
        raise UsageError(f"--output: the folder {parent} does not exist")


def invalid_settings(exc: Any, stderr: IO[str]) -> int:
    for error in exc.errors:
        stderr.write(f"error: {error.field}: {error.message}\n")
    return EXIT_USAGE
