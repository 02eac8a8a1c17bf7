"""The emulated Entra ID directory: tenants, app registrations, users, and one scenario per common mistake."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass, field
from enum import StrEnum

GUIDE_DELEGATED = frozenset({"SMTP.Send", "Mail.Send", "Mail.ReadWrite", "User.Read.All", "User.Read"})
EXCHANGE_RESOURCES = ("https://outlook.office.com", "https://outlook.office365.com")
GRAPH_RESOURCE = "https://graph.microsoft.com"
EXCHANGE_PERMISSIONS = frozenset({"SMTP.Send", "IMAP.AccessAsUser.All", "POP.AccessAsUser.All", "EWS.AccessAsUser.All"})
AUDIT_PERMISSIONS = frozenset({"Application.Read.All", "DelegatedPermissionGrant.Read.All", "Policy.Read.All",
                               "User.Read.All", "Directory.Read.All"})  # what an admin may consent to for an audit
GRAPH_PERMISSIONS = frozenset({"Mail.Send", "Mail.ReadWrite", "User.Read.All", "User.Read", "MailboxSettings.Read",
                               "Application.Read.All", "Directory.Read.All", "email", "openid", "profile",
                               "offline_access", "SMTP.Send"}) | AUDIT_PERMISSIONS
EXCHANGE_APP_ID = "00000002-0000-0ff1-ce00-000000000000"
LAB_APP_CALLBACK = "https://portal.contoso.example/oauth/callback"  # the relay application's own redirect URI


class EntraScenario(StrEnum):
    WORKING = "working"
    TENANT_NOT_FOUND = "tenant-not-found"
    WRONG_CLOUD = "wrong-cloud"
    SENDER_DOMAIN_OTHER_TENANT = "sender-domain-other-tenant"
    WRONG_CLIENT_ID = "wrong-client-id"
    EMAIL_AS_CLIENT_ID = "email-as-client-id"
    SECRET_ID_PASTED = "secret-id-pasted"
    SECRET_EXPIRED = "secret-expired"
    CONSENT_MISSING = "consent-missing"
    ADMIN_CONSENT_REQUIRED = "admin-consent-required"
    REFRESH_TOKEN_EXPIRED = "refresh-token-expired"
    REFRESH_TOKEN_REVOKED = "refresh-token-revoked"
    MFA_REQUIRED = "mfa-required"
    CA_BLOCKED = "ca-blocked"
    WRONG_SCOPE = "wrong-scope"
    MIXED_RESOURCES = "mixed-resources"
    REDIRECT_URI_MISMATCH = "redirect-uri-mismatch"
    DEVICE_FLOW_NOT_ALLOWED = "device-flow-not-allowed"
    SENDER_IS_ALIAS = "sender-is-alias"
    SENDER_IS_SHARED = "sender-is-shared"
    SENDER_MISMATCH = "sender-mismatch"
    GRAPH_PERMISSIONS_MISSING = "graph-permissions-missing"
    SMTP_AUTH_DISABLED = "smtp-auth-disabled"
    APP_ONLY = "app-only"
    APP_ONLY_NO_SEND_AS_APP = "app-only-no-send-as-app"
    # Read by the admin audit (the tenant's configuration itself is wrong):
    MULTI_TENANT = "multi-tenant"
    NO_WEB_PLATFORM = "no-web-platform"
    WRONG_REDIRECT = "wrong-redirect"
    PERMISSION_NOT_ADDED = "permission-not-added"
    CONSENT_MISSING_ONE_SCOPE = "consent-missing-one-scope"
    TWO_SECRETS_ONE_EXPIRED = "two-secrets-one-expired"
    SECURITY_DEFAULTS_ON = "security-defaults-on"
    CA_POLICY_BLOCKS = "ca-policy-blocks"
    SENDER_UNLICENSED = "sender-unlicensed"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class EntraUser:
    upn: str
    primary: str
    aliases: tuple[str, ...] = ()
    user_purpose: str = "user"  # mailboxSettings.userPurpose: user, shared, room, ...
    account_enabled: bool = True
    smtp_auth_disabled: bool = False
    licensed: bool = True  # holds an Exchange Online service plan
    is_admin: bool = False  # may consent to the audit's read permissions at sign-in
    object_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def proxy_addresses(self) -> list[str]:
        return [f"SMTP:{self.primary}"] + [f"smtp:{a}" for a in self.aliases]


@dataclass(frozen=True)
class OtherSecret:
    """A further client secret of the app (not the one the portal uses)."""

    display_name: str
    hint: str
    end: dt.datetime
    key_id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass(frozen=True)
class EntraApp:
    client_id: str
    secret_value: str
    secret_id: str
    secret_end: dt.datetime
    delegated: frozenset[str] = GUIDE_DELEGATED  # consented delegated permissions
    exchange_roles: frozenset[str] = frozenset()  # application permissions on Exchange Online
    graph_roles: frozenset[str] = frozenset({"Application.Read.All"})
    redirect_uris: tuple[str, ...] = ()
    allow_public_client: bool = True
    display_name: str = "Relay portal"
    sign_in_audience: str = "AzureADMyOrg"
    public_client_redirect_uris: tuple[str, ...] = ()  # "Mobile and desktop applications" platform
    configured: frozenset[str] | None = None  # requiredResourceAccess (delegated); None: the consented ones
    other_secrets: tuple[OtherSecret, ...] = ()
    service_principal_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def required(self) -> frozenset[str]:
        return self.delegated if self.configured is None else self.configured


@dataclass(frozen=True)
class EntraTenant:
    tenant_id: str
    domains: tuple[str, ...]
    apps: dict[str, EntraApp]
    users: dict[str, EntraUser]  # by UPN, lower case
    cloud_instance_name: str = "microsoftonline.com"
    display_name: str = "Contoso"
    refresh_tokens: dict[str, dict] = field(default_factory=dict)  # issued, by value (mutated by the server)
    security_defaults: bool = False
    ca_policies: tuple[dict, ...] = ()  # Graph conditionalAccessPolicy objects
    graph_sp_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    exchange_sp_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def blocks(self, user: EntraUser, resource_app_id: str) -> str | None:
        """The name of an enabled Conditional Access policy blocking `user` for the resource, if any."""
        for policy in self.ca_policies:
            conditions = policy["conditions"]
            apps = conditions["applications"]["includeApplications"]
            users = conditions["users"]
            if (policy["state"] == "enabled" and "block" in policy["grantControls"]["builtInControls"]
                    and "all" in conditions["clientAppTypes"] and ("All" in apps or resource_app_id in apps)
                    and ("All" in users["includeUsers"] or user.object_id in users["includeUsers"])
                    and user.object_id not in users["excludeUsers"]):
                return str(policy["displayName"])
        return None

    def user(self, address: str) -> EntraUser | None:
        """By UPN or object id only, as Graph's /users/{id} does."""
        key = address.lower()
        return self.users.get(key) or next((u for u in self.users.values() if u.object_id == key), None)

    def users_with_address(self, address: str) -> list[EntraUser]:
        key = address.lower()
        return [u for u in self.users.values() if key in (p.partition(":")[2].lower() for p in u.proxy_addresses)]


@dataclass(frozen=True)
class Directory:
    """Every tenant of the emulator, plus what the scenario's user would type into the portal."""

    tenants: tuple[EntraTenant, ...]
    tenant_id: str  # as the user enters it
    client_id: str
    client_secret: str
    sender: str
    user: str  # the account that signs in
    behaviour: frozenset[str] = frozenset()  # server-side faults: "mfa", "ca", "expired-rt", ...

    def tenant(self, name: str) -> EntraTenant | None:
        key = name.lower()
        return next((t for t in self.tenants if t.tenant_id == key or key in t.domains), None)


def _secret() -> str:
    return secrets.token_urlsafe(30).replace("-", "~")[:40]


def _policy(name: str, state: str, apps: list[str], client_types: list[str], control: str,
            exclude_users: list[str]) -> dict:
    """A Conditional Access policy as Graph returns it."""
    return {"id": str(uuid.uuid4()), "displayName": name, "state": state,
            "conditions": {"applications": {"includeApplications": apps, "excludeApplications": []},
                           "users": {"includeUsers": ["All"], "excludeUsers": exclude_users, "includeGroups": [],
                                     "excludeGroups": [], "includeRoles": [], "excludeRoles": []},
                           "clientAppTypes": client_types},
            "grantControls": {"operator": "OR", "builtInControls": [control]}, "sessionControls": None}


def _tenant_policies(s: EntraScenario, admin: EntraUser) -> tuple[dict, ...]:
    """A usual tenant: legacy authentication blocked, MFA for admins in report-only; one blocking policy if asked."""
    policies = [_policy("Block legacy authentication", "enabled", ["All"], ["exchangeActiveSync", "other"], "block",
                        [admin.object_id]),
                _policy("Require MFA for everyone (report-only)", "enabledForReportingButNotEnforced", ["All"],
                        ["all"], "mfa", [])]
    if s is EntraScenario.CA_POLICY_BLOCKS:
        policies.append(_policy("Block Exchange Online for all users", "enabled", [EXCHANGE_APP_ID], ["all"],
                                "block", [admin.object_id]))
    return tuple(policies)


def _app_for(s: EntraScenario, app: EntraApp, now: dt.datetime) -> EntraApp:
    """The app registration with the scenario's mistake."""
    changes: dict = {}
    if s is EntraScenario.SECRET_EXPIRED:
        changes["secret_end"] = now - dt.timedelta(days=3)
    if s is EntraScenario.GRAPH_PERMISSIONS_MISSING:
        changes["delegated"] = frozenset({"SMTP.Send", "User.Read"})
    if s is EntraScenario.SENDER_IS_SHARED:
        changes["delegated"] = GUIDE_DELEGATED | {"MailboxSettings.Read"}
    if s is EntraScenario.REDIRECT_URI_MISMATCH:
        changes["redirect_uris"] = (LAB_APP_CALLBACK,)
    if s is EntraScenario.DEVICE_FLOW_NOT_ALLOWED:
        changes["allow_public_client"] = False
    if s in (EntraScenario.APP_ONLY, EntraScenario.APP_ONLY_NO_SEND_AS_APP):
        changes["exchange_roles"] = frozenset({"SMTP.SendAsApp"}) if s is EntraScenario.APP_ONLY else frozenset()
        changes["graph_roles"] = frozenset({"Application.Read.All", "User.Read.All"})
    if s is EntraScenario.MULTI_TENANT:
        changes["sign_in_audience"] = "AzureADMultipleOrgs"
    if s is EntraScenario.NO_WEB_PLATFORM:
        changes["redirect_uris"], changes["public_client_redirect_uris"] = (), app.redirect_uris
    if s is EntraScenario.WRONG_REDIRECT:
        changes["redirect_uris"] = tuple(u for u in app.redirect_uris if u != LAB_APP_CALLBACK) + (
            LAB_APP_CALLBACK.replace("/callback", "/calback"),)
    if s is EntraScenario.PERMISSION_NOT_ADDED:
        changes["delegated"] = GUIDE_DELEGATED - {"Mail.Send"}
    if s is EntraScenario.CONSENT_MISSING_ONE_SCOPE:
        changes["delegated"], changes["configured"] = GUIDE_DELEGATED - {"Mail.ReadWrite"}, GUIDE_DELEGATED
    if s is EntraScenario.TWO_SECRETS_ONE_EXPIRED:
        hint = "Old" if not app.secret_value.startswith("Old") else "Prv"
        changes["other_secrets"] = (OtherSecret("relay portal (previous)", hint, now - dt.timedelta(days=40)),)
    return EntraApp(**{**app.__dict__, **changes})


def build_directory(scenario: EntraScenario, redirect_uris: tuple[str, ...],
                    now: dt.datetime | None = None) -> Directory:
    """The directory for `scenario`: a working Contoso tenant with the one mistake the scenario names."""
    s = EntraScenario(scenario)
    now = now or dt.datetime.now(dt.UTC)
    tenant_id, client_id = str(uuid.uuid4()), str(uuid.uuid4())
    app = _app_for(s, EntraApp(client_id=client_id, secret_value=_secret(), secret_id=str(uuid.uuid4()),
                               secret_end=now + dt.timedelta(days=365),
                               redirect_uris=tuple(dict.fromkeys((*redirect_uris, LAB_APP_CALLBACK)))), now)
    alice = EntraUser("alice@contoso.example", "alice@contoso.example", ("a.smith@contoso.example",),
                      smtp_auth_disabled=s is EntraScenario.SMTP_AUTH_DISABLED,
                      licensed=s is not EntraScenario.SENDER_UNLICENSED)
    bob = EntraUser("bob@contoso.example", "bob@contoso.example", ("sales@contoso.example",))
    info = EntraUser("info@contoso.example", "info@contoso.example", (), user_purpose="shared", account_enabled=False,
                     licensed=False)
    admin = EntraUser("admin@contoso.example", "admin@contoso.example", is_admin=True)
    contoso = EntraTenant(tenant_id, ("contoso.example", "contoso.onmicrosoft.example"), {client_id: app},
                          {u.upn: u for u in (alice, bob, info, admin)},
                          cloud_instance_name="microsoftonline.us" if s is EntraScenario.WRONG_CLOUD
                          else "microsoftonline.com", security_defaults=s is EntraScenario.SECURITY_DEFAULTS_ON,
                          ca_policies=_tenant_policies(s, admin))
    carol = EntraUser("carol@fabrikam.example", "carol@fabrikam.example")
    fabrikam = EntraTenant(str(uuid.uuid4()), ("fabrikam.example",), {}, {carol.upn: carol}, display_name="Fabrikam")
    sender = {EntraScenario.SENDER_IS_ALIAS: "a.smith@contoso.example",
              EntraScenario.SENDER_IS_SHARED: "info@contoso.example",
              EntraScenario.SENDER_MISMATCH: "bob@contoso.example",
              EntraScenario.SENDER_DOMAIN_OTHER_TENANT: "carol@fabrikam.example"}.get(s, alice.primary)
    typed_tenant = str(uuid.uuid4()) if s is EntraScenario.TENANT_NOT_FOUND else tenant_id
    typed_client = {EntraScenario.WRONG_CLIENT_ID: str(uuid.uuid4()),
                    EntraScenario.EMAIL_AS_CLIENT_ID: alice.primary}.get(s, client_id)
    typed_secret = {EntraScenario.SECRET_ID_PASTED: app.secret_id}.get(s, app.secret_value)
    behaviour = {EntraScenario.REFRESH_TOKEN_EXPIRED: "expired-rt", EntraScenario.REFRESH_TOKEN_REVOKED: "revoked-rt",
                 EntraScenario.MFA_REQUIRED: "mfa", EntraScenario.CA_BLOCKED: "ca",
                 EntraScenario.CONSENT_MISSING: "no-consent", EntraScenario.ADMIN_CONSENT_REQUIRED: "admin-consent",
                 EntraScenario.WRONG_SCOPE: "wrong-scope", EntraScenario.MIXED_RESOURCES: "mixed-resources"}.get(s)
    return Directory((contoso, fabrikam), typed_tenant, typed_client, typed_secret, sender, alice.upn,
                     frozenset({behaviour}) if behaviour else frozenset())
