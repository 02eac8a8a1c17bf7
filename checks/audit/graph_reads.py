"""What the audit reads from Microsoft Graph with the admin's read-only token, in one pass."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from checks.oauth.endpoints import EXCHANGE_APP_ID, GRAPH_APP_ID, Endpoints
from checks.oauth.graph import GraphAnswer, graph_get
from checks.oauth.http import TimedHttp
from checks.settings.secret import Secret

# The delegated Microsoft Graph permissions the admin's sign-in asks for, and why (docs/design.md repeats this).
AUDIT_PERMISSIONS: Mapping[str, str] = {
    "Application.Read.All": "read the app registration (audience, redirect URIs, API permissions, secrets) and the "
                            "service principals of the app, Microsoft Graph and Exchange Online",
    "DelegatedPermissionGrant.Read.All": "read the admin consent (oauth2PermissionGrants) given to the app",
    "Policy.Read.All": "read Security Defaults and the Conditional Access policies",
    "User.Read.All": "read the sender's account: enabled, licences (assignedPlans) and e-mail addresses",
}
APP_FIELDS = "id,appId,displayName,signInAudience,web,publicClient,spa,requiredResourceAccess,passwordCredentials"
PRINCIPAL_FIELDS = "id,appId,displayName,oauth2PermissionScopes,appRoles"
USER_FIELDS = "id,displayName,userPrincipalName,mail,accountEnabled,proxyAddresses,assignedPlans,userType"
RESOURCE_APPS = (GRAPH_APP_ID, EXCHANGE_APP_ID)


def audit_scopes(ends: Endpoints) -> list[str]:
    """The sign-in's scopes: the read-only Graph permissions, nothing that can change the tenant."""
    return [f"{ends.cloud.graph}/{name}" for name in AUDIT_PERMISSIONS]


def _odata(text: str) -> str:
    return text.replace("'", "''")


@dataclass(frozen=True)
class TenantSnapshot:
    """Graph's answers, as read; each check judges its own part (a failed read becomes that check's finding)."""

    application: GraphAnswer
    client_principal: GraphAnswer
    resources: Mapping[str, GraphAnswer]  # resource appId -> its service principal
    grants: GraphAnswer
    security_defaults: GraphAnswer
    conditional_access: GraphAnswer
    user: GraphAnswer
    alias_owners: tuple[dict[str, Any], ...] = ()
    user_purpose: str | None = None

    @property
    def app(self) -> dict[str, Any] | None:
        """The app registration, or None when Graph found none with the client ID."""
        value = self.application.body.get("value") if self.application.ok else None
        return value[0] if isinstance(value, list) and value and isinstance(value[0], dict) else None

    @property
    def sender_user(self) -> dict[str, Any] | None:
        """The user the sender address names (by UPN, else the owner of the address), or None."""
        if self.user.ok:
            return self.user.body
        return self.alias_owners[0] if self.alias_owners else None


def read_tenant(http: TimedHttp, ends: Endpoints, token: Secret, *, client_id: str, sender: str) -> TenantSnapshot:
    """Every read of the audit; network errors propagate (OSErrors), Graph errors stay in the answers."""

    def get(path: str, **params: str) -> GraphAnswer:
        return graph_get(http, ends, token, path, params or None)

    application = get("applications", **{"$filter": f"appId eq '{_odata(client_id)}'", "$select": APP_FIELDS})
    principal = get(f"servicePrincipals(appId='{quote(_odata(client_id), safe='')}')", **{"$select": "id,appId,displayName"})
    resources = {app_id: get(f"servicePrincipals(appId='{app_id}')", **{"$select": PRINCIPAL_FIELDS})
                 for app_id in RESOURCE_APPS}
    principal_id = str(principal.body.get("id", "")) if principal.ok else ""
    grants = get("oauth2PermissionGrants", **{"$filter": f"clientId eq '{_odata(principal_id)}'"}) if principal_id \
        else GraphAnswer(principal.status, principal.body)
    defaults = get("policies/identitySecurityDefaultsEnforcementPolicy")
    policies = get("identity/conditionalAccess/policies")
    user = get(f"users/{quote(sender, safe='@')}", **{"$select": USER_FIELDS})
    owners: tuple[dict[str, Any], ...] = ()
    if user.status == 404:
        found = get("users", **{"$filter": f"proxyAddresses/any(x:x eq 'smtp:{_odata(sender)}')",
                                "$select": USER_FIELDS})
        value = found.body.get("value") if found.ok else None
        owners = tuple(v for v in value if isinstance(v, dict)) if isinstance(value, list) else ()
    target = user.body.get("id") if user.ok else (owners[0].get("id") if owners else None)
    purpose = None
    if target:
        settings = get(f"users/{quote(str(target), safe='')}/mailboxSettings")
        purpose = str(settings.body.get("userPurpose")) if settings.ok and settings.body.get("userPurpose") else None
    return TenantSnapshot(application, principal, resources, grants, defaults, policies, user, owners, purpose)
