"""MSAL applications and the interactive sign-ins (auth code + PKCE, device code) that mint a refresh token."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from checks.knowledge.aadsts import aadsts_code, explain, server_words
from checks.model import Finding, Status
from checks.oauth.claims import decode_claims, user_of
from checks.oauth.endpoints import endpoints_for
from checks.oauth.http import TimedHttp, http_for_config, network_problem
from checks.settings.config import RelayConfig
from checks.settings.secret import Secret

if TYPE_CHECKING:
    import msal
    import requests

FLOW_LIFETIME_SECONDS = 600.0
DEVICE_FLOW_MAX_WAIT_SECONDS = 300.0


class SignInError(Exception):
    """A sign-in that did not produce a refresh token; `finding` says why (no secret in it)."""

    def __init__(self, finding: Finding) -> None:
        self.finding = finding
        super().__init__(finding.summary)


def build_app(config: RelayConfig, http: TimedHttp, *, public: bool = False) -> msal.ClientApplication:
    """A fresh MSAL app for one run (MSAL caches failing requests per app); token cache in memory only."""
    import msal  # ~0.2 s with its dependencies: loaded by the first OAuth2 check, not by every run

    ends = endpoints_for(config)
    common: dict[str, Any] = {
        "authority": ends.authority(config.tenant_id or "organizations"),
        "http_client": http,
        "instance_discovery": None if ends.instance_discovery else False,
        "token_cache": msal.TokenCache(),
    }
    if public:
        return msal.PublicClientApplication(config.client_id, **common)
    secret = config.client_secret.reveal() if config.client_secret else None
    return msal.ConfidentialClientApplication(config.client_id, client_credential=secret, **common)


def app_or_finding(config: RelayConfig, http: TimedHttp, *, public: bool = False
                   ) -> tuple[msal.ClientApplication | None, Finding | None]:
    """build_app, with tenant-discovery and network failures turned into a Finding."""
    ends = endpoints_for(config)
    try:
        return build_app(config, http, public=public), None
    except OSError as exc:
        summary, fix = network_problem(exc, ends.login_base)
        return None, Finding(Status.FAIL, summary, remediation=fix)
    except ValueError as exc:
        words = str(exc)
        code = aadsts_code(words)
        if code is not None:
            return None, explain(words[words.find("AADSTS"):], doing="discovering the tenant")
        return None, Finding(Status.FAIL, "Tenant discovery failed: check Tenant ID and cloud.",
                             details=words[:300])


@dataclass(frozen=True)
class SignInResult:
    """What a sign-in produced: the refresh token to put into the config for the run, and who signed in."""

    refresh_token: Secret
    access_token: Secret
    user: str
    tenant_id: str
    scopes: tuple[str, ...]


def result_from_tokens(response: Mapping[str, Any], *, doing: str) -> SignInResult:
    """SignInResult from an MSAL response, or SignInError with the decoded AADSTS error."""
    if "error" in response:
        raise SignInError(explain(response, doing=doing))
    if not response.get("refresh_token"):
        raise SignInError(Finding(Status.FAIL, "Microsoft returned no refresh token (offline_access missing).",
                                  remediation="Sign in again and accept offline access (Maintain access to data "
                                              "you have given it access to)."))
    claims = decode_claims(str(response.get("access_token", "")))
    id_claims = response.get("id_token_claims") or {}
    return SignInResult(
        refresh_token=Secret(str(response["refresh_token"])), access_token=Secret(str(response["access_token"])),
        user=user_of(claims) or user_of(id_claims), tenant_id=str(claims.get("tid") or id_claims.get("tid") or ""),
        scopes=tuple(str(response.get("scope", "")).split()))


@dataclass(frozen=True)
class PendingSignIn:
    """An auth-code sign-in waiting for the browser to come back; keep it server-side under `state`."""

    state: str
    auth_uri: str
    redirect_uri: str
    expires_at: float
    flow: Mapping[str, Any] = field(repr=False)  # MSAL's flow (PKCE verifier, nonce): never show it

    @property
    def expired(self) -> bool:
        return time.time() > self.expires_at


def start_auth_code_flow(config: RelayConfig, *, redirect_uri: str, login_hint: str | None = None,
                         scopes: list[str] | None = None, http_session: requests.Session | None = None
                         ) -> PendingSignIn:
    """Begin the browser sign-in (PKCE); send the user to `auth_uri`, then call finish_auth_code_flow."""
    http = http_for_config(config, session=http_session)
    try:
        app, problem = app_or_finding(config, http)
        if problem is not None:
            raise SignInError(problem)
        with warnings.catch_warnings():  # Streamlit reads only the query string: response_mode stays "query"
            warnings.filterwarnings("ignore", message="response_mode='form_post'", category=UserWarning)
            flow = app.initiate_auth_code_flow(scopes or [endpoints_for(config).smtp_scope],
                                               redirect_uri=redirect_uri, login_hint=login_hint)
    finally:
        http.close()
    return PendingSignIn(state=flow["state"], auth_uri=flow["auth_uri"], redirect_uri=redirect_uri,
                         expires_at=time.time() + FLOW_LIFETIME_SECONDS, flow=dict(flow))


def preflight_auth_code_flow(config: RelayConfig, pending: PendingSignIn, *,
                             http_session: requests.Session | None = None) -> Finding | None:
    """Load the sign-in page once: an AADSTS error page (50011 redirect URI, 700016, 90094) is decoded here."""
    http = http_for_config(config, session=http_session)
    try:
        response = http.get(pending.auth_uri)
    except OSError as exc:
        summary, fix = network_problem(exc, pending.auth_uri)
        return Finding(Status.FAIL, summary, remediation=fix)
    finally:
        http.close()
    location = response.headers.get("Location", "")
    if response.is_redirect and "error=" in location:

        params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        return explain(params, doing="opening the Microsoft sign-in")
    code = aadsts_code(response.text) if response.status_code >= 400 or "AADSTS" in response.text else None
    if code is not None:
        text = response.text
        return explain(server_words(text[text.find("AADSTS"):text.find("AADSTS") + 600]),
                       doing="opening the Microsoft sign-in")
    return None


def finish_auth_code_flow(config: RelayConfig, pending: PendingSignIn, auth_response: Mapping[str, str], *,
                          http_session: requests.Session | None = None) -> SignInResult:
    """Redeem the code the browser brought back (query parameters of the redirect) for tokens."""
    if pending.expired:
        raise SignInError(Finding(Status.FAIL, "The sign-in took too long and expired.",
                                  remediation="Start the sign-in again."))
    if auth_response.get("state") != pending.state:
        raise SignInError(Finding(Status.FAIL, "The sign-in answer does not belong to this sign-in (state differs).",
                                  remediation="Start the sign-in again from this console."))
    http = http_for_config(config, session=http_session)
    try:
        app, problem = app_or_finding(config, http)
        if problem is not None:
            raise SignInError(problem)
        try:
            response = app.acquire_token_by_auth_code_flow(dict(pending.flow), dict(auth_response))
        except (ValueError, RuntimeError):
            raise SignInError(Finding(Status.FAIL, "The sign-in answer did not match this sign-in (state or nonce).",
                                      remediation="Start the sign-in again.")) from None
        except OSError as exc:
            summary, fix = network_problem(exc, endpoints_for(config).login_base)
            raise SignInError(Finding(Status.FAIL, summary, remediation=fix)) from None
    finally:
        http.close()
    return result_from_tokens(response, doing="redeeming the sign-in code")


@dataclass(frozen=True)
class PendingDeviceSignIn:
    """A device-code sign-in: show `message` (URL + code) to the user, then call finish_device_flow."""

    user_code: str
    verification_uri: str
    message: str
    expires_at: float
    flow: Mapping[str, Any] = field(repr=False)


def start_device_flow(config: RelayConfig, *, scopes: list[str] | None = None,
                      http_session: requests.Session | None = None) -> PendingDeviceSignIn:
    """Begin a device-code sign-in (needs Authentication > Allow public client flows = Yes)."""
    http = http_for_config(config, session=http_session)
    try:
        app, problem = app_or_finding(config, http, public=True)
        if problem is not None:
            raise SignInError(problem)
        flow = app.initiate_device_flow(scopes=scopes or [endpoints_for(config).smtp_scope])
    except OSError as exc:
        summary, fix = network_problem(exc, endpoints_for(config).login_base)
        raise SignInError(Finding(Status.FAIL, summary, remediation=fix)) from None
    finally:
        http.close()
    if "user_code" not in flow:
        raise SignInError(explain(flow, doing="starting the device sign-in"))
    return PendingDeviceSignIn(user_code=flow["user_code"], verification_uri=flow.get("verification_uri", ""),
                               message=flow.get("message", ""), expires_at=float(flow["expires_at"]),
                               flow=dict(flow))


def finish_device_flow(config: RelayConfig, pending: PendingDeviceSignIn, *,
                       wait_seconds: float = DEVICE_FLOW_MAX_WAIT_SECONDS,
                       should_stop: Callable[[], bool] | None = None,
                       http_session: requests.Session | None = None) -> SignInResult:
    """Poll until the user finished the device sign-in, for at most `wait_seconds` (or until should_stop())."""
    give_up_at = min(time.time() + wait_seconds, pending.expires_at)
    http = http_for_config(config, session=http_session)
    try:
        app, problem = app_or_finding(config, http, public=True)
        if problem is not None:
            raise SignInError(problem)
        flow = dict(pending.flow)
        response = app.acquire_token_by_device_flow(
            flow, exit_condition=lambda _f: time.time() >= give_up_at or bool(should_stop and should_stop()))
    except OSError as exc:
        summary, fix = network_problem(exc, endpoints_for(config).login_base)
        raise SignInError(Finding(Status.FAIL, summary, remediation=fix)) from None
    finally:
        http.close()
    if response.get("error") in ("authorization_pending", "slow_down"):
        raise SignInError(Finding(Status.FAIL, "Nobody completed the device sign-in in time.",
                                  remediation=f"Open {pending.verification_uri}, enter the code and sign in, "
                                              "then try again."))
    return result_from_tokens(response, doing="finishing the device sign-in")
