"""Run the admin audit: refuse on a hosted console unless enabled, read Graph once, judge each part, report."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Mapping

from checks import __version__
from checks.audit import app_checks, sender_checks, smtp_auth_checks, tenant_checks
from checks.audit.graph_reads import TenantSnapshot, read_tenant
from checks.audit.powershell import PastedSettings, parse_output
from checks.audit.request import AuditInput, audit_input
from checks.model import CheckId, Finding, RunReport, Status
from checks.oauth.endpoints import endpoints_for
from checks.oauth.http import TimedHttp, build_session, network_problem
from checks.redact import secret_values
from checks.run_state import Deadline, Dependencies
from checks.runner import stamp
from checks.settings.config import RelayConfig
from checks.settings.secret import Secret
from checks.target_policy import TargetPolicy

ENV_ALLOW_AUDIT = "RELAY_CONSOLE_ALLOW_AUDIT"
Judge = Callable[[TenantSnapshot, PastedSettings | None, AuditInput, Dependencies], Finding]


class AuditRefused(Exception):
    """The audit may not run here (a hosted console that did not enable it)."""


def audit_refusal(environ: Mapping[str, str] | None = None) -> str | None:
    """Why the audit may not run in this process, or None: hosted consoles must enable it explicitly."""
    env = os.environ if environ is None else environ
    if not TargetPolicy.from_environment(env).restricted:
        return None
    if env.get(ENV_ALLOW_AUDIT, "").strip().lower() in ("1", "true", "yes", "on"):
        return None
    return (f"The tenant audit is turned off on this hosted console (an administrator's sign-in would pass through "
            f"the server). Run it locally, or set {ENV_ALLOW_AUDIT}=1 where the console is hosted.")


def _graph(judge: Callable[[TenantSnapshot, AuditInput], Finding]) -> Judge:
    return lambda snapshot, pasted, request, deps: judge(snapshot, request)


def _pasted(judge: Callable[[PastedSettings | None, AuditInput], Finding]) -> Judge:
    return lambda snapshot, pasted, request, deps: judge(pasted, request)


AUDIT_CHECKS: tuple[tuple[CheckId, str, Judge, bool], ...] = (  # id, title, judge, needs Graph
    (CheckId.AUDIT_APP_AUDIENCE, "App registration: single tenant", _graph(app_checks.check_audience), True),
    (CheckId.AUDIT_APP_REDIRECT, "App registration: Web redirect URI", _graph(app_checks.check_redirect), True),
    (CheckId.AUDIT_APP_PERMISSIONS, "App registration: API permissions", _graph(app_checks.check_permissions), True),
    (CheckId.AUDIT_CONSENT, "Admin consent for each permission", _graph(app_checks.check_consent), True),
    (CheckId.AUDIT_SECRET, "Client secret in use and its expiry",
     lambda snapshot, pasted, request, deps: app_checks.check_secret(snapshot, request, today=deps.now().date()), True),
    (CheckId.AUDIT_SECURITY_DEFAULTS, "Security Defaults", _graph(tenant_checks.check_security_defaults), True),
    (CheckId.AUDIT_CONDITIONAL_ACCESS, "Conditional Access policies", _graph(tenant_checks.check_conditional_access),
     True),
    (CheckId.AUDIT_SENDER_ACCOUNT, "Sender: an enabled user, not a shared mailbox",
     _graph(sender_checks.check_account), True),
    (CheckId.AUDIT_SENDER_LICENSE, "Sender: Exchange Online licence", _graph(sender_checks.check_license), True),
    (CheckId.AUDIT_SENDER_ADDRESS, "Sender: the primary SMTP address", _graph(sender_checks.check_address), True),
    (CheckId.AUDIT_SMTP_AUTH, "SMTP AUTH for the tenant and the mailbox", _pasted(smtp_auth_checks.check_smtp_auth),
     False),
    (CheckId.AUDIT_AUTH_POLICY, "Authentication policies", _pasted(smtp_auth_checks.check_auth_policy), False),
)
TITLES = {check_id: title for check_id, title, _, _ in AUDIT_CHECKS}


def run_audit(config: RelayConfig, token: Secret, *, app_callback: str = "", powershell_output: str = "",
              deps: Dependencies | None = None, environ: Mapping[str, str] | None = None) -> RunReport:
    """Judge the tenant against the guide with the admin's read-only Graph `token`; one result per audit.* check.

    Raises AuditRefused on a hosted console that did not enable the audit, TargetRefused for settings it forbids.
    """
    refusal = audit_refusal(environ)
    if refusal is not None:
        raise AuditRefused(refusal)
    TargetPolicy.from_environment(environ).enforce(config)  # hosted: no login_url / graph_url / ca_file overrides
    deps = deps or Dependencies()
    request = audit_input(config, app_callback)
    deadline = Deadline.after(config.deadline, deps.clock)
    session = deps.http_session or build_session(config.ca_file)
    http = TimedHttp(session, lambda: max(0.001, min(config.timeout, deadline.remaining())),
                     owns_session=deps.http_session is None)
    started_at = deps.now()
    ends = endpoints_for(config)
    snapshot: TenantSnapshot | None = None
    network: Finding | None = None
    try:
        snapshot = read_tenant(http, ends, token, client_id=request.client_id, sender=request.sender)
    except OSError as exc:
        summary, fix = network_problem(exc, ends.graph_base)
        network = Finding(Status.FAIL, summary, remediation=fix)
    finally:
        http.close()
    pasted = parse_output(powershell_output) if powershell_output.strip() else None
    secrets = secret_values(config, (token.reveal(),))
    results = []
    for check_id, title, judge, needs_graph in AUDIT_CHECKS:
        clock = deps.clock()
        finding = network if needs_graph and network is not None else judge(snapshot, pasted, request, deps)
        results.append(stamp(check_id, title, finding, int((deps.clock() - clock) * 1000), secrets))
    return RunReport(run_id=uuid.uuid4().hex[:12], started_at=started_at, finished_at=deps.now(),
                     tool_version=__version__, profile=config.profile.value, host=config.host, port=config.port,
                     security=config.security.value, sender=request.sender, results=tuple(results))
