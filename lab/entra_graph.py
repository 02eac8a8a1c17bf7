"""The emulator's Microsoft Graph: users, mailboxSettings, the proxyAddresses filter, app registrations, service
principals, delegated permission grants, Security Defaults and Conditional Access policies."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import unquote

from lab.entra_data import EXCHANGE_APP_ID, EXCHANGE_PERMISSIONS, EntraApp, EntraTenant, EntraUser
from lab.entra_oauth import GRAPH_APP_ID, EntraState, Reply

GRAPH_AUDIENCES = frozenset({"https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000"})
_USER = re.compile(r"^/v1\.0/users/([^/?]+)(/mailboxSettings)?$")
_APP = re.compile(r"^/v1\.0/applications\(appId='([^']+)'\)$")
_SERVICE_PRINCIPAL = re.compile(r"^/v1\.0/servicePrincipals\(appId='([^']+)'\)$")
_APP_ID_FILTER = re.compile(r"^appId eq '([^']+)'$")
_CLIENT_FILTER = re.compile(r"^clientId eq '([^']+)'$")
APP_READ = frozenset({"Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All"})
GRANT_READ = frozenset({"DelegatedPermissionGrant.Read.All", "Directory.Read.All"})
POLICY_READ = frozenset({"Policy.Read.All"})
RESOURCE_NAMES = {GRAPH_APP_ID: "Microsoft Graph", EXCHANGE_APP_ID: "Office 365 Exchange Online"}
GRAPH_SCOPES = ("Mail.Send", "Mail.ReadWrite", "User.Read.All", "User.Read", "SMTP.Send", "MailboxSettings.Read",
                "offline_access", "openid", "profile", "email")
_PROXY_FILTER = re.compile(r"proxyAddresses/any\(\w+:\w+ eq '([^']+)'\)", re.I)


def _error(status: int, code: str, message: str) -> Reply:
    return status, {}, {"error": {"code": code, "message": message}}


def _denied() -> Reply:
    return _error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")


def _user_body(user: EntraUser, select: str) -> dict[str, Any]:
    plans = [{"assignedDateTime": "2025-01-01T00:00:00Z", "capabilityStatus": "Enabled", "service": "exchange",
              "servicePlanId": "efb87545-963c-4e0d-99df-69c6916d9eb0"}] if user.licensed else []
    full = {"id": user.object_id, "userPrincipalName": user.upn, "mail": user.primary, "displayName": user.upn,
            "proxyAddresses": user.proxy_addresses, "accountEnabled": user.account_enabled, "assignedPlans": plans,
            "userType": "Member"}
    fields = [f for f in select.split(",") if f] or list(full)
    return {k: full[k] for k in ["id", *fields] if k in full}


def _scope_id(resource_app_id: str, name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{resource_app_id}/{name}"))


def _select(body: dict[str, Any], select: str) -> dict[str, Any]:
    fields = [f for f in select.split(",") if f]
    return {k: v for k, v in body.items() if not fields or k in fields or k == "id"}


def _secrets(app: EntraApp) -> list[dict[str, Any]]:
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    current = {"keyId": app.secret_id, "displayName": "relay portal", "hint": app.secret_value[:3],
               "startDateTime": "2025-01-01T00:00:00Z", "endDateTime": app.secret_end.strftime(stamp),
               "customKeyIdentifier": None, "secretText": None}
    others = [{"keyId": o.key_id, "displayName": o.display_name, "hint": o.hint, "startDateTime": "2024-01-01T00:00:00Z",
               "endDateTime": o.end.strftime(stamp), "customKeyIdentifier": None, "secretText": None}
              for o in app.other_secrets]
    return others + [current]


def _application_body(app: EntraApp) -> dict[str, Any]:
    """An application object as GET /applications returns it (the guide's permissions all under Microsoft Graph)."""
    access = [{"id": _scope_id(GRAPH_APP_ID, name), "type": "Scope"} for name in sorted(app.required)]
    return {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, app.client_id)), "appId": app.client_id,
            "displayName": app.display_name, "signInAudience": app.sign_in_audience,
            "web": {"redirectUris": list(app.redirect_uris), "implicitGrantSettings": {
                "enableAccessTokenIssuance": False, "enableIdTokenIssuance": False}},
            "publicClient": {"redirectUris": list(app.public_client_redirect_uris)}, "spa": {"redirectUris": []},
            "isFallbackPublicClient": app.allow_public_client,
            "requiredResourceAccess": [{"resourceAppId": GRAPH_APP_ID, "resourceAccess": access}] if access else [],
            "passwordCredentials": _secrets(app)}


def _service_principal(tenant: EntraTenant, app_id: str) -> dict[str, Any] | None:
    if app_id in tenant.apps:
        app = tenant.apps[app_id]
        return {"id": app.service_principal_id, "appId": app_id, "displayName": app.display_name,
                "accountEnabled": True, "servicePrincipalType": "Application"}
    names = {GRAPH_APP_ID: GRAPH_SCOPES, EXCHANGE_APP_ID: tuple(sorted(EXCHANGE_PERMISSIONS))}.get(app_id)
    if names is None:
        return None
    scopes = [{"id": _scope_id(app_id, n), "value": n, "type": "Admin" if n.endswith(".All") else "User",
               "isEnabled": True, "adminConsentDisplayName": n} for n in names]
    return {"id": tenant.graph_sp_id if app_id == GRAPH_APP_ID else tenant.exchange_sp_id, "appId": app_id,
            "displayName": RESOURCE_NAMES[app_id], "accountEnabled": True, "servicePrincipalType": "Application",
            "oauth2PermissionScopes": scopes, "appRoles": []}


def _grants(tenant: EntraTenant, client_sp_id: str) -> list[dict[str, Any]]:
    """Admin consent (AllPrincipals) of the app's consented delegated permissions, all on Microsoft Graph."""
    app = next((a for a in tenant.apps.values() if a.service_principal_id == client_sp_id), None)
    if app is None or not app.delegated:
        return []
    return [{"id": str(uuid.uuid5(uuid.NAMESPACE_URL, client_sp_id + "/grant")), "clientId": client_sp_id,
             "consentType": "AllPrincipals", "principalId": None, "resourceId": tenant.graph_sp_id,
             "scope": " ".join(sorted(app.delegated))}]


def _directory_reads(tenant: EntraTenant, path: str, query: dict[str, str], granted: set[str]) -> Reply | None:
    """The audit's reads: applications, service principals, grants and the two policy endpoints."""
    select = query.get("$select", "")
    if path == "/v1.0/applications":
        if not granted & APP_READ:
            return _denied()
        found = _APP_ID_FILTER.match(query.get("$filter", "").strip())
        apps = [tenant.apps[found.group(1)]] if found and found.group(1) in tenant.apps else [] if found \
            else list(tenant.apps.values())
        return 200, {}, {"value": [_select(_application_body(a), select) for a in apps]}
    match = _SERVICE_PRINCIPAL.match(path)
    if match:
        if not granted & APP_READ:
            return _denied()
        body = _service_principal(tenant, match.group(1))
        if body is None:
            return _error(404, "Request_ResourceNotFound", f"Resource '{match.group(1)}' does not exist or one of "
                          "its queried reference-property objects are not present.")
        return 200, {}, _select(body, select)
    if path == "/v1.0/oauth2PermissionGrants":
        if not granted & GRANT_READ:
            return _denied()
        found = _CLIENT_FILTER.match(query.get("$filter", "").strip())
        return 200, {}, {"value": _grants(tenant, found.group(1)) if found else []}
    if path == "/v1.0/policies/identitySecurityDefaultsEnforcementPolicy":
        if not granted & POLICY_READ:
            return _denied()
        return 200, {}, {"id": "00000000-0000-0000-0000-000000000005", "displayName": "Security Defaults",
                         "description": "Security defaults is a set of basic identity security mechanisms.",
                         "isEnabled": tenant.security_defaults}
    if path == "/v1.0/identity/conditionalAccess/policies":
        if not granted & POLICY_READ:
            return _denied()
        return 200, {}, {"value": list(tenant.ca_policies)}
    return None


def graph_get(state: EntraState, path: str, query: dict[str, str], authorization: str) -> Reply:
    """GET /v1.0/... with a bearer token this emulator issued for Graph."""
    token = authorization[7:] if authorization.startswith("Bearer ") else ""
    claims = state.signer.verify(token, GRAPH_AUDIENCES)
    if claims is None:
        return _error(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
    tenant = state.directory.tenant(str(claims.get("tid", "")))
    if tenant is None:
        return _error(401, "InvalidAuthenticationToken", "Access token validation failure.")
    scopes = set(str(claims.get("scp", "")).split())
    granted = scopes | set(claims.get("roles") or [])
    me = tenant.user(str(claims.get("upn", ""))) if scopes else None
    select = query.get("$select", "")
    path = unquote(path)
    if path == "/v1.0/me":
        return (200, {}, _user_body(me, select)) if me else _error(400, "BadRequest", "/me needs a user token.")
    if path == "/v1.0/users":
        if not granted & {"User.Read.All", "Directory.Read.All"}:
            return _denied()
        found = _PROXY_FILTER.search(query.get("$filter", ""))
        users = tenant.users_with_address(found.group(1).partition(":")[2]) if found else list(tenant.users.values())
        return 200, {}, {"value": [_user_body(u, select) for u in users]}
    match = _USER.match(path)
    if match:
        target = tenant.user(match.group(1))
        if match.group(2):
            if not granted & {"MailboxSettings.Read", "MailboxSettings.ReadWrite"}:
                return _error(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
            if target is None:
                return _error(404, "ErrorInvalidUser", f"The requested user '{match.group(1)}' is invalid.")
            return 200, {}, {"userPurpose": target.user_purpose, "timeZone": "UTC"}
        own = me is not None and target is me and "User.Read" in scopes
        if not (own or granted & {"User.Read.All", "Directory.Read.All"}):
            return _denied()
        if target is None:
            return _error(404, "Request_ResourceNotFound", f"Resource '{match.group(1)}' does not exist or one of "
                          "its queried reference-property objects are not present.")
        return 200, {}, _user_body(target, select)
    directory = _directory_reads(tenant, path, query, granted)
    if directory is not None:
        return directory
    match = _APP.match(path)
    if match:
        if not granted & APP_READ:
            return _denied()
        app = tenant.apps.get(match.group(1))
        if app is None:
            return _error(404, "Request_ResourceNotFound", f"Resource '{match.group(1)}' does not exist.")
        return 200, {}, {"passwordCredentials": _secrets(app)}
    return _error(404, "UnknownError", "Not found in this emulator.")
