"""Audit a tenant from the console: an administrator's read-only sign-in (auth code), then the audit of the setup."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

from checks.audit.graph_reads import audit_scopes
from checks.audit.run import AuditRefused, audit_refusal, run_audit
from checks.model import RunReport
from checks.oauth import flows as oauth_flows
from checks.oauth.endpoints import endpoints_for
from checks.run_state import Dependencies
from checks.settings.config import InvalidSettings
from checks.settings.loading import config_from_values
from checks.settings.secret import Secret
from console.hosting import admit
from console.oauth_store import FlowStore
from console.signin import Outcome, SignInRequest, begin_sign_in, oauth_config, redeem, redirect_uri
from console.state import ERRORS_KEY, load_form
from lab.entra_data import LAB_APP_CALLBACK
from lab.practice import AUDIT_SCENARIOS, LAB_ADMIN, practice_lab

TOKEN_KEY = "audit.admin_token"  # Secret: the administrator's Graph token, in this session only
ADMIN_KEY = "audit.admin"
REPORT_KEY = "audit.report"
CALLBACK_KEY = "audit.app_callback"  # widget: the application's redirect URI
POWERSHELL_KEY = "audit.powershell"  # widget: the pasted PowerShell output
ADMIN_HINT_KEY = "audit.admin_hint"  # widget: the administrator account to pre-fill in the Microsoft sign-in
OUTCOME_KEY = "audit.outcome"
CARRIED = (CALLBACK_KEY, POWERSHELL_KEY)  # typed before the sign-in, restored after Microsoft sends the browser back
AUDIT_FLOWS = FlowStore()  # the audit's pending sign-ins, apart from the relay's


def audit_redirect_uri(page_url: str | None) -> str:
    """This page's redirect URI: the sign-in's (secrets' [oauth] redirect_uri or the page URL), on /audit."""
    uri = redirect_uri(page_url)
    return uri[: -len("/sign_in")] + "/audit" if uri.endswith("/sign_in") else uri


def refusal() -> str | None:
    """Why this console may not run the audit (hosted without RELAY_CONSOLE_ALLOW_AUDIT), or None."""
    return audit_refusal()


def start_audit_sign_in(state: MutableMapping[str, Any], page_url: str | None, *, store: FlowStore = AUDIT_FLOWS,
                        http_session: Any = None) -> Outcome:
    """Begin the administrator's sign-in, asking only for the audit's read permissions."""
    config, _ = oauth_config(state)
    request = SignInRequest(audit_redirect_uri(page_url),
                            login_hint=str(state.get(ADMIN_HINT_KEY) or "").strip() or None,
                            scopes=audit_scopes(endpoints_for(config)) if config else None,
                            carried={key: str(state.get(key) or "") for key in CARRIED})
    outcome = begin_sign_in(state, request, store=store, http_session=http_session)
    if not outcome.ok:
        return outcome
    return Outcome.done("Open the Microsoft sign-in and sign in as an administrator (Global Reader is enough).",
                        auth_uri=outcome.auth_uri)


def finish_audit_sign_in(state: MutableMapping[str, Any], query: Mapping[str, str], *,
                         store: FlowStore = AUDIT_FLOWS, http_session: Any = None) -> Outcome:
    """The browser came back: redeem the code; the administrator's token stays in this session's state only."""
    redeemed = redeem(query, store=store, carried=CARRIED, http_session=http_session)
    if isinstance(redeemed, Outcome):
        return redeemed
    state[TOKEN_KEY] = redeemed.result.access_token
    state[ADMIN_KEY] = redeemed.result.user
    load_form(state, {k: (v.reveal() if isinstance(v, Secret) else v) for k, v in redeemed.values.items()})
    state.update(redeemed.carried)
    return Outcome.done(f"Signed in as {redeemed.result.user or 'an administrator'}: the audit reads the tenant now.")


def audit_now(state: MutableMapping[str, Any], *, http_session: Any = None) -> RunReport | Outcome:
    """Run the audit with the session's administrator token and the form's settings."""
    token = state.get(TOKEN_KEY)
    if not isinstance(token, Secret):
        return Outcome.refused("Sign in as an administrator first.")
    config, errors = oauth_config(state)
    state[ERRORS_KEY] = errors
    if config is None:
        return Outcome.refused("Fill in the fields marked in red first.")
    try:
        report = run_audit(config, token, app_callback=str(state.get(CALLBACK_KEY) or ""),
                           powershell_output=str(state.get(POWERSHELL_KEY) or ""),
                           deps=Dependencies(http_session=http_session))
    except (AuditRefused, InvalidSettings) as exc:
        return Outcome.refused(str(exc))
    state[REPORT_KEY] = report
    return report


def practice_scenarios() -> tuple[Any, ...]:
    return AUDIT_SCENARIOS


def practice_report(practice_id: str, *, lab: Any = None) -> RunReport:
    """Audit a lab tenant: the lab's administrator signs in with a device code (approved by the lab), through MSAL
    over HTTPS like a real sign-in, and the lab's PowerShell output is pasted."""
    lab = lab or practice_lab()
    tenant = lab.audit_tenant(practice_id)
    config = config_from_values(lab.audit_values(practice_id), environ={})
    pending = oauth_flows.start_device_flow(config, scopes=audit_scopes(endpoints_for(config)))
    tenant.approve_device_sign_in(pending.user_code, LAB_ADMIN)
    signed_in = oauth_flows.finish_device_flow(config, pending, wait_seconds=15)
    return run_audit(config, signed_in.access_token, app_callback=LAB_APP_CALLBACK,
                     powershell_output=tenant.powershell_output(), environ={})  # a lab tenant: no hosting policy


def forget(state: MutableMapping[str, Any]) -> None:
    """Drop the administrator's token and the audit report from this session."""
    for key in (TOKEN_KEY, ADMIN_KEY, REPORT_KEY):
        state.pop(key, None)


def on_start(state: MutableMapping[str, Any], page_url: str | None) -> None:
    """Button callback: a sign-in contacts Microsoft with the typed secret, so it counts as a run for the guard."""
    blocked = admit(1, state=state)
    state[OUTCOME_KEY] = Outcome.refused(blocked) if blocked else start_audit_sign_in(state, page_url)


def on_audit(state: MutableMapping[str, Any]) -> None:
    outcome = audit_now(state)
    if isinstance(outcome, Outcome):
        state[OUTCOME_KEY] = outcome
