"""`python -m checks audit`: an admin signs in with a device code; the tenant's configuration is read and judged."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import IO, Any

from checks.audit.graph_reads import audit_scopes
from checks.audit.powershell import script_for
from checks.audit.run import audit_refusal, run_audit
from checks.cli.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    UsageError,
    check_output_path,
    invalid_settings,
    settings_values,
)
from checks.cli.history import history_for, save_run
from checks.oauth.endpoints import endpoints_for
from checks.oauth.flows import SignInError, finish_device_flow, start_device_flow
from checks.redact import secret_values
from checks.report.export import render, verdict_line, write_report
from checks.report.table import render_table, safe_text
from checks.settings.config import InvalidSettings
from checks.settings.loading import config_from_values

MAX_PASTE = 200_000


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

        stdout.write(script_for(sender) + "\n")
        return EXIT_OK
    refusal = audit_refusal(environ)
    if refusal is not None:
        stderr.write(f"error: {refusal}\n")
        return EXIT_USAGE
    pasted = _powershell_output(args.powershell_output, stdin)

    store = history_for(args, environ)
    return _sign_in_and_audit(config, args, pasted, store=store, stdout=stdout, stderr=stderr, environ=environ)


def _sign_in_and_audit(config: Any, args: argparse.Namespace, pasted: str, *, store: Any, stdout: IO[str],
                       stderr: IO[str], environ: Mapping[str, str]) -> int:
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
        status = save_run(store, report, name=args.name, stderr=stderr, status=status,
                          hide=secret_values(config, (signed_in.access_token.reveal(),)))
    return status
