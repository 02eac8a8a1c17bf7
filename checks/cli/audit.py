"""`python -m checks audit`: an admin signs in with a device code; the tenant's configuration is read and judged."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import IO, Any

from checks.cli.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    UsageError,
    add_save_options,
    add_settings_arguments,
    check_output_path,
    invalid_settings,
    settings_values,
)

AUDIT_FORMATS = ("table", "json", "csv", "markdown")
MAX_PASTE = 200_000


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


def _powershell_output(path: str | None, stdin: IO[str]) -> str:
    if not path:
        return ""
    if path == "-":
        return stdin.read(MAX_PASTE)
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as handle:
            return handle.read(MAX_PASTE)
    except OSError as exc:
        raise UsageError(f"--powershell-output: cannot read {path}: {exc.strerror or exc}") from None


def run_audit_command(args: argparse.Namespace, *, stdin: IO[str], stdout: IO[str], stderr: IO[str],
                      environ: Mapping[str, str]) -> int:
    """Validate the settings, print the script or sign the admin in, run the audit, write the report."""
    from checks.audit.run import audit_refusal
    from checks.settings.config import InvalidSettings
    from checks.settings.loading import config_from_values

    if args.output:
        check_output_path(args.output)
    values = settings_values(args, stdin=stdin)
    values.setdefault("profile", "m365-oauth2")
    try:
        config = config_from_values(values, environ=environ)
    except InvalidSettings as exc:
        return invalid_settings(exc, stderr)
    sender = config.sender or config.username
    if not sender:
        raise UsageError("--sender: the audit needs the sender address the relay uses")
    if args.print_script:
        from checks.audit.powershell import script_for

        stdout.write(script_for(sender) + "\n")
        return EXIT_OK
    refusal = audit_refusal(environ)
    if refusal is not None:
        stderr.write(f"error: {refusal}\n")
        return EXIT_USAGE
    pasted = _powershell_output(args.powershell_output, stdin)
    from checks.cli.history import history_for

    store = history_for(args, environ)
    return _sign_in_and_audit(config, args, pasted, store=store, stdout=stdout, stderr=stderr, environ=environ)


def _sign_in_and_audit(config: Any, args: argparse.Namespace, pasted: str, *, store: Any, stdout: IO[str],
                       stderr: IO[str], environ: Mapping[str, str]) -> int:
    from checks.audit.graph_reads import audit_scopes
    from checks.audit.run import run_audit
    from checks.oauth.endpoints import endpoints_for
    from checks.oauth.flows import SignInError, finish_device_flow, start_device_flow
    from checks.report.export import render, verdict_line, write_report
    from checks.report.table import render_table, safe_text
    from checks.settings.config import InvalidSettings

    try:
        pending = start_device_flow(config, scopes=audit_scopes(endpoints_for(config)))
        stderr.write(safe_text(pending.message) + "\n(sign in as an administrator; the audit only reads)\n")
        stderr.flush()
        signed_in = finish_device_flow(config, pending, wait_seconds=max(1.0, args.wait))
    except SignInError as exc:
        stderr.write(f"error: sign-in failed: {safe_text(exc.finding.summary)}\n")
        if exc.finding.remediation:
            stderr.write(f"fix: {safe_text(exc.finding.remediation)}\n")
        return EXIT_PROBLEMS
    try:
        report = run_audit(config, signed_in.access_token, app_callback=args.app_callback or "",
                           powershell_output=pasted, environ=environ)
    except InvalidSettings as exc:  # a hosted console's policy refused an override
        return invalid_settings(exc, stderr)
    if args.output:
        try:
            write_report(report, args.format, args.output, verbose=args.verbose)
        except OSError as exc:
            raise UsageError(f"--output: cannot write {args.output}: {exc.strerror or exc}") from None
        stderr.write(f"{args.format} audit report written to {args.output}: {verdict_line(report)}\n")
    elif args.format == "table":
        stdout.write(render_table(report, verbose=args.verbose))
    else:
        stdout.write(render(report, args.format))
    stdout.flush()
    status = EXIT_PROBLEMS if report.problems else EXIT_OK
    if store is not None:
        from checks.cli.history import save_run
        from checks.redact import secret_values

        status = save_run(store, report, name=args.name, stderr=stderr, status=status,
                          hide=secret_values(config, (signed_in.access_token.reveal(),)))
    return status
