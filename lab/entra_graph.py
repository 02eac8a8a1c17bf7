"""The emulator's Microsoft Graph: users, mailboxSettings, the proxyAddresses filter, an app's secrets."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from lab.entra_data import EntraUser
from lab.entra_oauth import EntraState, Reply

GRAPH_AUDIENCES = frozenset({"https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000"})
_USER = re.compile(r"^/v1\.0/users/([^/?]+)(/mailboxSettings)?$")
_APP = re.compile(r"^/v1\.0/applications\(appId='([^']+)'\)$")
_PROXY_FILTER = re.compile(r"proxyAddresses/any\(\w+:\w+ eq '([^']+)'\)", re.I)


def _error(status: int, code: str, message: str) -> Reply:
    return status, {}, {"error": {"code": code, "message": message}}


def _denied() -> Reply:
    return _error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")


def _user_body(user: EntraUser, select: str) -> dict[str, Any]:
    full = {"id": user.object_id, "userPrincipalName": user.upn, "mail": user.primary,
            "proxyAddresses": user.proxy_addresses, "accountEnabled": user.account_enabled}
    fields = [f for f in select.split(",") if f] or list(full)
    return {k: full[k] for k in ["id", *fields] if k in full}


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
    match = _APP.match(path)
    if match:
        if not granted & {"Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All"}:
            return _denied()
        app = tenant.apps.get(match.group(1))
        if app is None:
            return _error(404, "Request_ResourceNotFound", f"Resource '{match.group(1)}' does not exist.")
        credential = {"keyId": app.secret_id, "displayName": "relay portal", "hint": app.secret_value[:3],
                      "startDateTime": "2025-01-01T00:00:00Z",
                      "endDateTime": app.secret_end.strftime("%Y-%m-%dT%H:%M:%SZ")}
        return 200, {}, {"passwordCredentials": [credential]}
    return _error(404, "UnknownError", "Not found in this emulator.")
