"""The emulator's OAuth endpoints: authorize (auth code + PKCE), token (4 grants), device code."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode

from lab.entra_data import (
    AUDIT_PERMISSIONS,
    EXCHANGE_APP_ID,
    EXCHANGE_PERMISSIONS,
    EXCHANGE_RESOURCES,
    GRAPH_PERMISSIONS,
    GRAPH_RESOURCE,
    Directory,
    EntraApp,
    EntraTenant,
    EntraUser,
)
from lab.entra_tokens import TokenSigner, client_info

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
RESERVED = frozenset({"openid", "profile", "offline_access", "email"})
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
Reply = tuple[int, dict[str, str], Any]  # status, headers, JSON body (dict) or HTML text (str)


def aad_error(error: str, code: int, text: str, status: int = 400) -> Reply:
    """An Entra ID error body, shaped like the real one (codes, trace and correlation ids)."""
    trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    return status, {}, {
        "error": error, "error_codes": [code], "timestamp": stamp, "trace_id": trace, "correlation_id": corr,
        "error_description": f"AADSTS{code}: {text} Trace ID: {trace} Correlation ID: {corr} Timestamp: {stamp}",
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }


def error_page(code: int, text: str, status: int = 400) -> Reply:
    return status, {"Content-Type": "text/html; charset=utf-8"}, (
        f"<html><body><h1>Sign in</h1><p>Sorry, but we're having trouble signing you in.</p>"
        f"<p>AADSTS{code}: {text}</p></body></html>")


def tenant_not_found(name: str) -> Reply:
    return aad_error("invalid_tenant", 90002, f"Tenant '{name}' not found. Check to make sure you have the correct "
                     "tenant ID and are signing into the correct cloud. Check with your subscription administrator, "
                     "this may happen if there are no active subscriptions for the tenant.")


def app_not_found(client_id: str, tenant: EntraTenant) -> Reply:
    return aad_error("unauthorized_client", 700016, f"Application with identifier '{client_id}' was not found in "
                     f"the directory '{tenant.display_name}'. This can happen if the application has not been "
                     "installed by the administrator of the tenant or consented to by any user in the tenant. You "
                     "may have sent your authentication request to the wrong tenant.")


@dataclass(frozen=True)
class ScopeRequest:
    resource: str
    permissions: frozenset[str]


def parse_scopes(scope: str) -> ScopeRequest | Reply:
    """The one resource and its permissions asked for, or 70011 / 700022 as Entra ID answers."""
    resources, perms = set(), set()
    for item in scope.split():
        if item in RESERVED:
            continue
        resource, _, perm = item.rpartition("/") if item.startswith("https://") else (GRAPH_RESOURCE, "", item)
        known = EXCHANGE_PERMISSIONS if resource in EXCHANGE_RESOURCES else (
            GRAPH_PERMISSIONS if resource == GRAPH_RESOURCE else None)
        if known is None or (perm != ".default" and perm not in known):
            return aad_error("invalid_scope", 70011, "The provided request must include a 'scope' input parameter. "
                             f"The provided value for the input parameter 'scope' is not valid. The scope {scope} "
                             "is not valid.")
        resources.add(resource)
        perms.add(perm)
    if len(resources) > 1:
        return aad_error("invalid_scope", 700022, "The provided value for the input parameter scope is not valid "
                         f"because it contains more than one resource. Scope {scope} is not valid.")
    return ScopeRequest(resources.pop() if resources else GRAPH_RESOURCE, frozenset(perms or {"User.Read"}))


@dataclass
class EntraState:
    """The emulator's live state: directory, signer, pending codes and device sign-ins."""

    directory: Directory
    signer: TokenSigner
    base_url: str
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def issue_refresh_token(self, tenant: EntraTenant, client_id: str, user: EntraUser) -> str:
        value = "0.A" + secrets.token_urlsafe(48)
        with self.lock:
            tenant.refresh_tokens[value] = {"client_id": client_id, "user": user.upn, "issued": time.time()}
        return value


def _client(state: EntraState, tenant: EntraTenant, form: dict[str, str], auth: tuple[str, str] | None
            ) -> tuple[EntraApp | None, str | None, Reply | None]:
    """(app, presented secret, error) for the client named in the request."""
    client_id = auth[0] if auth else form.get("client_id", "")
    secret = auth[1] if auth else form.get("client_secret")
    app = tenant.apps.get(client_id)
    if app is None:
        return None, None, app_not_found(client_id, tenant)
    if secret is not None:
        if secret != app.secret_value:
            return None, None, aad_error("invalid_client", 7000215, "Invalid client secret provided. Ensure the "
                                         "secret being sent in the request is the client secret value, not the "
                                         f"client secret ID, for a secret added to app '{client_id}'.", 401)
        if app.secret_end < dt.datetime.now(dt.UTC):
            return None, None, aad_error("invalid_client", 7000222, f"The provided client secret keys for app "
                                         f"'{client_id}' are expired. Visit the Azure portal to create new keys for "
                                         "your app: https://aka.ms/NewClientSecret.", 401)
    return app, secret, None


def _delegated_tokens(state: EntraState, tenant: EntraTenant, app: EntraApp, user: EntraUser, scope: str,
                      nonce: str | None = None) -> Reply:
    parsed = parse_scopes(scope)
    if not isinstance(parsed, ScopeRequest):
        return parsed
    behaviour = state.directory.behaviour
    if "wrong-scope" in behaviour:
        return aad_error("invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid. "
                         f"The scope {scope} is not valid.")
    if "mixed-resources" in behaviour:
        return aad_error("invalid_scope", 700022, "The provided value for the input parameter scope is not valid "
                         "because it contains more than one resource.")
    exchange = parsed.resource in EXCHANGE_RESOURCES
    family = EXCHANGE_PERMISSIONS if exchange else GRAPH_PERMISSIONS
    consented = app.delegated | (AUDIT_PERMISSIONS if user.is_admin else frozenset())  # an admin consents at sign-in
    granted = sorted(app.delegated & family) if ".default" in parsed.permissions else sorted(parsed.permissions)
    blocking = tenant.blocks(user, EXCHANGE_APP_ID if exchange else GRAPH_APP_ID)
    if blocking is not None:
        return aad_error("invalid_grant", 53003, "Access has been blocked by Conditional Access policies. The access "
                         f"policy does not allow token issuance. (policy: {blocking})")
    if "no-consent" in behaviour or not granted or not set(granted) <= consented:
        return aad_error("invalid_grant", 65001, f"The user or administrator has not consented to use the "
                         f"application with ID '{app.client_id}' named '{app.display_name}'. Send an interactive "
                         "authorization request for this user and resource.")
    access = state.signer.access_token(tenant_id=tenant.tenant_id, audience=parsed.resource,
                                       client_id=app.client_id, scopes=granted, user=user)
    body = {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": access,
            "scope": " ".join(f"{parsed.resource}/{p}" for p in granted),
            "refresh_token": state.issue_refresh_token(tenant, app.client_id, user),
            "client_info": client_info(user, tenant.tenant_id),
            "id_token": state.signer.id_token(tenant_id=tenant.tenant_id, client_id=app.client_id, user=user,
                                              nonce=nonce)}
    return 200, {}, body


def _refresh_grant(state: EntraState, tenant: EntraTenant, app: EntraApp, form: dict[str, str]) -> Reply:
    record = tenant.refresh_tokens.get(form.get("refresh_token", ""))
    if record is None or record["client_id"] != app.client_id:
        return aad_error("invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
    behaviour = state.directory.behaviour
    issued = dt.datetime.fromtimestamp(record["issued"], dt.UTC) - dt.timedelta(days=91)
    if "expired-rt" in behaviour:
        return aad_error("invalid_grant", 700082, f"The refresh token has expired due to inactivity. The token was "
                         f"issued on {issued:%Y-%m-%dT%H:%M:%S}Z and was inactive for 90.00:00:00.")
    if "revoked-rt" in behaviour:
        return aad_error("invalid_grant", 50173, "The provided grant has expired due to it being revoked, a fresh "
                         "auth token is needed. The user might have changed or reset their password.")
    if "mfa" in behaviour:
        return aad_error("interaction_required", 50076, "Due to a configuration change made by your administrator, "
                         "or because you moved to a new location, you must use multi-factor authentication to "
                         "access 'https://outlook.office.com'.")
    if "ca" in behaviour:
        return aad_error("invalid_grant", 53003, "Access has been blocked by Conditional Access policies. The "
                         "access policy does not allow token issuance.")
    return _delegated_tokens(state, tenant, app, tenant.users[record["user"]], form.get("scope", ""))


def _client_credentials(state: EntraState, tenant: EntraTenant, app: EntraApp, form: dict[str, str]) -> Reply:
    scope = form.get("scope", "")
    resource, _, perm = scope.rpartition("/")
    if perm != ".default" or " " in scope:
        return aad_error("invalid_scope", 1002012, f"The provided value for scope {scope} is not valid. Client "
                         "credential flows must have a scope value with /.default suffixed to the resource "
                         "identifier (application ID URI).")
    if resource not in EXCHANGE_RESOURCES and resource != GRAPH_RESOURCE:
        return aad_error("invalid_resource", 500011, f"The resource principal named {resource} was not found in "
                         f"the tenant named {tenant.display_name}.")
    roles = app.exchange_roles if resource in EXCHANGE_RESOURCES else app.graph_roles
    access = state.signer.access_token(tenant_id=tenant.tenant_id, audience=resource, client_id=app.client_id,
                                       roles=sorted(roles))
    return 200, {}, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": access}


def _code_grant(state: EntraState, tenant: EntraTenant, app: EntraApp, form: dict[str, str]) -> Reply:
    with state.lock:
        record = state.codes.get(form.get("code", ""))
        if record is not None and record["used"]:
            return aad_error("invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry "
                             "with a new valid code or use an existing refresh token.")
        if record is not None:
            record["used"] = True
    if record is None or record["client_id"] != app.client_id:
        return aad_error("invalid_grant", 70000, "The provided authorization code or refresh token has expired "
                         "due to inactivity. Send a new interactive authorization request.")
    if form.get("redirect_uri") != record["redirect_uri"]:
        return aad_error("invalid_client", 500112, "The reply address does not match the reply address provided "
                         "when requesting Authorization code.")
    verifier = form.get("code_verifier", "")
    if record["challenge"]:
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        expected = digest if record["method"] == "S256" else verifier
        if expected != record["challenge"]:
            return aad_error("invalid_grant", 501481, "The Code_Verifier does not match the code_challenge "
                             "supplied in the authorization request.")
    return _delegated_tokens(state, tenant, app, tenant.users[record["user"]], record["scope"], record["nonce"])


def _device_grant(state: EntraState, tenant: EntraTenant, app: EntraApp, secret: str | None,
                  form: dict[str, str]) -> Reply:
    if secret is None and not app.allow_public_client:
        return aad_error("invalid_client", 7000218, "The request body must contain the following parameter: "
                         "'client_assertion' or 'client_secret'.", 401)
    record = state.devices.get(form.get("device_code", ""))
    if record is None or record["expires"] < time.time():
        return aad_error("expired_token", 70020, "The provided value for the input parameter 'device_code' is not "
                         "valid. This device code has expired.")
    if record["user"] is None:
        return aad_error("authorization_pending", 70016, "OAuth 2.0 device flow error. Authorization is pending. "
                         "Continue polling.")
    with state.lock:
        state.devices.pop(form["device_code"], None)
    return _delegated_tokens(state, tenant, app, tenant.users[record["user"]], record["scope"])


def token_endpoint(state: EntraState, tenant_name: str, form: dict[str, str], auth: tuple[str, str] | None
                   ) -> Reply:
    """POST /{tenant}/oauth2/v2.0/token."""
    tenant = state.directory.tenant(tenant_name)
    if tenant is None:
        return tenant_not_found(tenant_name)
    app, secret, error = _client(state, tenant, form, auth)
    if error is not None:
        return error
    grant = form.get("grant_type", "")
    if grant == DEVICE_GRANT:
        return _device_grant(state, tenant, app, secret, form)
    if secret is None and not app.allow_public_client:
        return aad_error("invalid_client", 7000218, "The request body must contain the following parameter: "
                         "'client_assertion' or 'client_secret'.", 401)
    handlers = {"refresh_token": _refresh_grant, "client_credentials": _client_credentials,
                "authorization_code": _code_grant}
    if grant not in handlers:
        return aad_error("unsupported_grant_type", 70003, f"The app requested an unsupported grant type '{grant}'.")
    if grant == "client_credentials" and secret is None:
        return aad_error("invalid_client", 7000218, "The request body must contain the following parameter: "
                         "'client_assertion' or 'client_secret'.", 401)
    return handlers[grant](state, tenant, app, form)


def authorize(state: EntraState, tenant_name: str, query: dict[str, str]) -> Reply:
    """GET /{tenant}/oauth2/v2.0/authorize: signs the scenario's user in without a UI and redirects back."""
    tenant = state.directory.tenant(tenant_name)
    if tenant is None:
        return error_page(90002, f"Tenant '{tenant_name}' not found.")
    app = tenant.apps.get(query.get("client_id", ""))
    if app is None:
        return error_page(700016, f"Application with identifier '{query.get('client_id', '')}' was not found in "
                          f"the directory '{tenant.display_name}'.")
    redirect_uri = query.get("redirect_uri", "")
    if redirect_uri not in app.redirect_uris + app.public_client_redirect_uris:
        return error_page(50011, f"The redirect URI '{redirect_uri}' specified in the request does not match the "
                          f"redirect URIs configured for the application '{app.client_id}'. Make sure the redirect "
                          "URI sent in the request matches one added to your application in the Azure portal.")
    if "admin-consent" in state.directory.behaviour:
        return error_page(90094, "The grant requires admin permission.")

    def back(**params: str) -> Reply:
        params = {k: v for k, v in params.items() if v is not None}
        joiner = "&" if "?" in redirect_uri else "?"
        return 302, {"Location": redirect_uri + joiner + urlencode(params)}, ""

    state_param = query.get("state")
    if "ca" in state.directory.behaviour:
        return back(error="access_denied", error_description="AADSTS53003: Access has been blocked by Conditional "
                    "Access policies.", state=state_param)
    parsed = parse_scopes(query.get("scope", ""))
    if not isinstance(parsed, ScopeRequest) and parsed[2].get("error_codes") != [700022]:
        return back(error="invalid_scope", error_description=parsed[2]["error_description"], state=state_param)
    hint = unquote(query.get("login_hint", "") or "")
    user = tenant.user(hint) if hint else None
    user = user or tenant.users[state.directory.user]
    code = "1.A" + secrets.token_urlsafe(40)
    with state.lock:
        state.codes[code] = {"client_id": app.client_id, "user": user.upn, "scope": query.get("scope", ""),
                             "redirect_uri": redirect_uri, "challenge": query.get("code_challenge", ""),
                             "method": query.get("code_challenge_method", "plain"), "nonce": query.get("nonce"),
                             "used": False}
    return back(code=code, state=state_param, client_info=client_info(user, tenant.tenant_id),
                session_state=str(uuid.uuid4()))


def device_code(state: EntraState, tenant_name: str, form: dict[str, str]) -> Reply:
    """POST /{tenant}/oauth2/v2.0/devicecode."""
    tenant = state.directory.tenant(tenant_name)
    if tenant is None:
        return tenant_not_found(tenant_name)
    app = tenant.apps.get(form.get("client_id", ""))
    if app is None:
        return app_not_found(form.get("client_id", ""), tenant)
    user_code = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(9))
    device = secrets.token_urlsafe(40)
    with state.lock:
        state.devices[device] = {"user_code": user_code, "scope": form.get("scope", ""), "user": None,
                                 "tenant": tenant.tenant_id, "expires": time.time() + 900}
    uri = f"{state.base_url}/devicelogin"
    return 200, {}, {"user_code": user_code, "device_code": device, "verification_uri": uri, "expires_in": 900,
                     "interval": 1, "message": f"To sign in, use a web browser to open the page {uri} and enter "
                     f"the code {user_code} to authenticate."}


def device_login(state: EntraState, form: dict[str, str]) -> Reply:
    """POST /devicelogin (the user's browser): approve the device sign-in with `user_code`."""
    code = form.get("user_code", "").strip().upper()
    with state.lock:
        record = next((r for r in state.devices.values() if r["user_code"] == code), None)
        if record is not None:
            tenant = state.directory.tenant(record["tenant"])
            hint = form.get("login_hint", "")
            user = (tenant.user(hint) if tenant and hint else None) or tenant.users[state.directory.user]
            record["user"] = user.upn
    if record is None:
        return error_page(70000, "The code you entered has expired or is not valid.")
    return 200, {"Content-Type": "text/html; charset=utf-8"}, (
        "<html><body><p>You have signed in to the Relay portal application on your device. You may now close "
        "this window.</p></body></html>")
