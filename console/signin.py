"""Sign in with Microsoft from the console: start/finish the auth-code flow across sessions, or a device code."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from checks.knowledge.catalog import explain_aadsts
from checks.model import Finding, ReadsFinding, Status
from checks.oauth import flows as oauth_flows
from checks.settings.config import ProfileId, RelayConfig
from checks.settings.secret import Secret
from console.app_secrets import secrets_section
from console.forms import build_config, errors_by_field, settings_values
from console.hosting import admit
from console.oauth_store import PENDING_FLOWS, FlowStore, SignedIn
from console.relay_form import submitted_secrets
from console.state import ERRORS_KEY, SIGNED_IN_KEY, form_values, load_form

DEFAULT_REDIRECT = "http://localhost:8501/sign_in"
DEVICE_KEY = "oauth.device_flow"


@dataclass(frozen=True)
class Outcome(ReadsFinding):
    """What a sign-in step ended with, for the page to show: a Finding, plus the link to open next."""

    finding: Finding
    auth_uri: str = ""

    @classmethod
    def done(cls, summary: str, *, auth_uri: str = "") -> Outcome:
        return cls(Finding(Status.PASS, summary), auth_uri)

    @classmethod
    def refused(cls, summary: str, remediation: str = "", details: str = "", guide_section: str = "") -> Outcome:
        return cls(Finding(Status.FAIL, summary, details=details, remediation=remediation,
                           guide_section=guide_section))


def redirect_uri(page_url: str | None) -> str:
    """The redirect URI to register (Authentication > Web): secrets' [oauth] redirect_uri, else this page's URL."""
    configured = str(secrets_section("oauth").get("redirect_uri") or "").strip()
    return configured or (page_url or DEFAULT_REDIRECT).split("?", 1)[0].split("#", 1)[0]


def oauth_config(state: Mapping[str, Any]) -> tuple[RelayConfig | None, dict[str, list[str]]]:
    """The form's Microsoft 365 OAuth2 settings as a config, or the errors by field."""
    values = settings_values({**form_values(state), "profile": ProfileId.M365_OAUTH2.value},
                             extra_secrets=submitted_secrets(state))
    config, errors = build_config(values)
    return config, errors_by_field(errors)


@dataclass(frozen=True)
class SignInRequest:
    """What one kind of browser sign-in asks Microsoft for, and what it carries across the redirect."""

    redirect_uri: str
    login_hint: str | None = None
    scopes: list[str] | None = None  # None: the relay's SMTP.Send
    carried: Mapping[str, str] = field(default_factory=dict)  # non-secret page inputs to restore afterwards


def begin_sign_in(state: MutableMapping[str, Any], request: SignInRequest, *, store: FlowStore,
                  http_session: Any = None) -> Outcome:
    """Begin a browser sign-in with the form's app registration; the pending flow waits server-side under its
    `state` for the redirect back."""
    config, errors = oauth_config(state)
    state[ERRORS_KEY] = errors
    if config is None:
        return Outcome.refused("Fill in the fields marked in red first.")
    try:
        pending = oauth_flows.start_auth_code_flow(config, redirect_uri=request.redirect_uri,
                                                   login_hint=request.login_hint, scopes=request.scopes,
                                                   http_session=http_session)
        problem = oauth_flows.preflight_auth_code_flow(config, pending, http_session=http_session)
    except oauth_flows.SignInError as exc:
        return Outcome(exc.finding)
    if problem is not None:
        return Outcome(problem)
    settings = {k: v for k, v in config.public_settings().items() if k != "ehlo_name"}
    store.put(pending.state, pending, settings={**settings, **request.carried}, client_secret=config.client_secret)
    return Outcome.done("Open the Microsoft sign-in.", auth_uri=pending.auth_uri)


def start_sign_in(state: MutableMapping[str, Any], page_url: str | None, *, store: FlowStore = PENDING_FLOWS,
                  http_session: Any = None) -> Outcome:
    """Begin the sender's browser sign-in (the portal's pop-up) for a refresh token."""
    config, _ = oauth_config(state)
    request = SignInRequest(redirect_uri(page_url), login_hint=config.sender if config else None)
    outcome = begin_sign_in(state, request, store=store, http_session=http_session)
    if not outcome.ok:
        return outcome
    return Outcome.done("Open the Microsoft sign-in and sign in as the sender's account.", auth_uri=outcome.auth_uri)


def microsoft_refusal(query: Mapping[str, str]) -> Outcome | None:
    """The decoded AADSTS error when Microsoft sent the browser back with `error=`, else None."""
    if not query.get("error"):
        return None

    explanation = explain_aadsts({"error": query.get("error", ""), "error_description": query.get("error_description", "")})
    return Outcome.refused(f"Microsoft refused the sign-in: {explanation.title}", explanation.fix, explanation.cause,
                           explanation.guide_section)


@dataclass(frozen=True)
class Redeemed:
    """A finished browser sign-in: its tokens, the form values to restore and the inputs carried across."""

    result: Any  # checks.oauth.flows.SignInResult
    values: Mapping[str, Any]
    carried: Mapping[str, str]


def redeem(query: Mapping[str, str], *, store: FlowStore, carried: tuple[str, ...] = (), http_session: Any = None
           ) -> Redeemed | Outcome:
    """The browser came back (a new session): redeem the code with the pending flow kept under `state`."""
    refused = microsoft_refusal(query)
    if refused is not None:
        return refused
    pending = store.take(str(query.get("state", "")))
    if pending is None:
        return Outcome.refused("This sign-in is unknown or expired (they last 10 minutes, and each works once).",
                               "Start the sign-in again from this page.")
    values = {k: v for k, v in pending.settings.items() if k not in carried}
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
    return Redeemed(result, values, {k: str(pending.settings.get(k, "")) for k in carried})


def finish_sign_in(state: MutableMapping[str, Any], query: Mapping[str, str], *, store: FlowStore = PENDING_FLOWS,
                   http_session: Any = None) -> Outcome:
    """The sender's sign-in came back: keep its refresh token in this session for the checks."""
    redeemed = redeem(query, store=store, http_session=http_session)
    if isinstance(redeemed, Outcome):
        return redeemed
    _remember(state, redeemed.result, redeemed.values)
    return Outcome.done(f"Signed in as {redeemed.result.user or 'your account'}: the refresh token is ready for the "
                        "checks.")


def _remember(state: MutableMapping[str, Any], result: Any, values: Mapping[str, Any]) -> None:
    state[SIGNED_IN_KEY] = SignedIn(account=result.user, refresh_token=result.refresh_token, scopes=result.scopes)
    restored = {k: (v.reveal() if isinstance(v, Secret) else v) for k, v in values.items() if k != "refresh_token"}
    load_form(state, restored)


def start_device(state: MutableMapping[str, Any], *, http_session: Any = None) -> Outcome:
    """Begin a device-code sign-in; its code and link are shown, the flow waits in this session."""
    config, errors = oauth_config(state)
    state[ERRORS_KEY] = errors
    if config is None:
        return Outcome.refused("Fill in the fields marked in red first.")
    try:
        pending = oauth_flows.start_device_flow(config, http_session=http_session)
    except oauth_flows.SignInError as exc:
        return Outcome(exc.finding)
    state[DEVICE_KEY] = pending
    return Outcome.done(pending.message or f"Open {pending.verification_uri} and enter {pending.user_code}.",
                        auth_uri=pending.verification_uri)


def finish_device(state: MutableMapping[str, Any], *, wait_seconds: float = 60.0, http_session: Any = None
                  ) -> Outcome:
    """Wait (bounded) for the device sign-in to complete; keeps the refresh token server-side in this session."""
    pending = state.get(DEVICE_KEY)
    if pending is None:
        return Outcome.refused("No device sign-in is waiting.", "Start one first.")
    config, errors = oauth_config(state)
    if config is None:
        return Outcome.refused("Fill in the fields marked in red first.")
    try:
        result = oauth_flows.finish_device_flow(config, pending, wait_seconds=wait_seconds,
                                                http_session=http_session)
    except oauth_flows.SignInError as exc:
        return Outcome(exc.finding)
    state.pop(DEVICE_KEY, None)
    values = {k: v for k, v in config.public_settings().items() if k != "ehlo_name"}
    values["client_secret"] = config.client_secret
    _remember(state, result, values)
    return Outcome.done(f"Signed in as {result.user or 'your account'}: the refresh token is ready for the checks.")


def sign_out(state: MutableMapping[str, Any]) -> None:
    state.pop(SIGNED_IN_KEY, None)
    state.pop(DEVICE_KEY, None)


OUTCOME_KEY = "oauth.outcome"


def on_start_sign_in(state: MutableMapping[str, Any], page_url: str | None) -> None:
    """Button callback (runs before the inputs are drawn, so typed secrets can move server-side); a sign-in
    contacts Microsoft with the typed secret, so it counts as a run for the hosting guard."""
    refusal = admit(1, state=state)
    state[OUTCOME_KEY] = Outcome(False, refusal) if refusal else start_sign_in(state, page_url)


def on_start_device(state: MutableMapping[str, Any]) -> None:
    refusal = admit(1, state=state)
    state[OUTCOME_KEY] = Outcome(False, refusal) if refusal else start_device(state)


def on_finish_device(state: MutableMapping[str, Any]) -> None:
    state[OUTCOME_KEY] = finish_device(state)
