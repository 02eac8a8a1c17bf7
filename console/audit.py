"""Audit a tenant from the console: an administrator's read-only sign-in (auth code), then the audit of the setup."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

from checks.audit.graph_reads import audit_scopes
from checks.audit.run import audit_refusal, run_audit
from checks.model import RunReport
from checks.oauth import flows as oauth_flows
from checks.oauth.endpoints import endpoints_for
from checks.run_state import Dependencies
from checks.settings.config import ProfileId
from checks.settings.secret import Secret
from console.forms import build_config
from console.oauth_store import FlowStore
from console.signin import Outcome, microsoft_refusal, oauth_config, redirect_uri
from console.state import ERRORS_KEY, load_form

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
    config, errors = oauth_config(state)
    state[ERRORS_KEY] = errors
    if config is None:
        return Outcome.refused("Fill in the fields marked in red first.")
    try:
        pending = oauth_flows.start_auth_code_flow(config, redirect_uri=audit_redirect_uri(page_url),
                                                   login_hint=str(state.get(ADMIN_HINT_KEY) or "").strip() or None,
                                                   scopes=audit_scopes(endpoints_for(config)),
                                                   http_session=http_session)
        problem = oauth_flows.preflight_auth_code_flow(config, pending, http_session=http_session)
    except oauth_flows.SignInError as exc:
        return Outcome(exc.finding)
    if problem is not None:
        return Outcome(problem)
    settings = {k: v for k, v in config.public_settings().items() if k != "ehlo_name"}
    settings.update({key: str(state.get(key) or "") for key in CARRIED})
    store.put(pending.state, pending, settings=settings, client_secret=config.client_secret)
    return Outcome.done("Open the Microsoft sign-in and sign in as an administrator (Global Reader is enough).",
                        auth_uri=pending.auth_uri)


def finish_audit_sign_in(state: MutableMapping[str, Any], query: Mapping[str, str], *,
                         store: FlowStore = AUDIT_FLOWS, http_session: Any = None) -> Outcome:
    """The browser came back: redeem the code; the administrator's token stays in this session's state only."""
    refused = microsoft_refusal(query)
    if refused is not None:
        return refused
    pending = store.take(str(query.get("state", "")))
    if pending is None:
        return Outcome.refused("This sign-in is unknown or expired (they last 10 minutes, and each works once).",
                               "Start the sign-in again from this page.")
    values = {k: v for k, v in pending.settings.items() if k not in CARRIED}
    values["profile"] = ProfileId.M365_OAUTH2.value
    if pending.client_secret is not None:
        values["client_secret"] = pending.client_secret
    config, _ = build_config(values)
    if config is None:
        return Outcome.refused("The saved sign-in settings are no longer valid.", "Start the sign-in again.")
    try:
        result = oauth_flows.finish_auth_code_flow(config, pending.sign_in, dict(query), http_session=http_session)
    except oauth_flows.SignInError as exc:
        return Outcome(exc.finding)
    state[TOKEN_KEY] = result.access_token
    state[ADMIN_KEY] = result.user
    load_form(state, {k: (v.reveal() if isinstance(v, Secret) else v) for k, v in values.items()})
    for key in CARRIED:
        state[key] = pending.settings.get(key, "")
    return Outcome.done(f"Signed in as {result.user or 'an administrator'}: the audit reads the tenant now.")


def audit_now(state: MutableMapping[str, Any], *, http_session: Any = None) -> RunReport | Outcome:
    """Run the audit with the session's administrator token and the form's settings."""
    token = state.get(TOKEN_KEY)
    if not isinstance(token, Secret):
        return Outcome.refused("Sign in as an administrator first.")
    config, errors = oauth_config(state)
    state[ERRORS_KEY] = errors
    if config is None:
        return Outcome.refused("Fill in the fields marked in red first.")
    report = run_audit(config, token, app_callback=str(state.get(CALLBACK_KEY) or ""),
                       powershell_output=str(state.get(POWERSHELL_KEY) or ""),
                       deps=Dependencies(http_session=http_session))
    state[REPORT_KEY] = report
    return report


def forget(state: MutableMapping[str, Any]) -> None:
    """Drop the administrator's token and the audit report from this session."""
    for key in (TOKEN_KEY, ADMIN_KEY, REPORT_KEY):
        state.pop(key, None)


def on_start(state: MutableMapping[str, Any], page_url: str | None) -> None:
    """Button callback: a sign-in contacts Microsoft with the typed secret, so it counts as a run for the guard."""
    from console.hosting import admit

    blocked = admit(1, state=state)
    state[OUTCOME_KEY] = Outcome.refused(blocked) if blocked else start_audit_sign_in(state, page_url)


def on_audit(state: MutableMapping[str, Any]) -> None:
    outcome = audit_now(state)
    if isinstance(outcome, Outcome):
        state[OUTCOME_KEY] = outcome
