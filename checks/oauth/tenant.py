"""oauth.tenant, oauth.client and oauth.secret_expiry; oauth.token / oauth.scopes live in oauth_token.py."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import requests

from checks.run_state import CheckContext
from checks.knowledge.guide import GuideSection
from checks.model import CheckId, Finding, Secret, Status, host_error, is_guid
from checks.knowledge.aadsts import aadsts_code, explain
from checks.oauth.claims import decode_claims, explain_xoauth2_failure, roles_of
from checks.oauth.endpoints import CLOUDS, Endpoints, cloud_of_instance, endpoints_for
from checks.oauth.flows import app_or_finding
from checks.oauth.graph import read_password_credentials
from checks.oauth.http import TimedHttp, http_for, network_problem
from checks.oauth.token import APP_RESOURCE, APP_TOKEN_RESOURCE, check_scopes, check_token

__all__ = ["check_client", "check_scopes", "check_secret_expiry", "check_tenant", "check_token",
           "explain_xoauth2_failure"]

WARN_DAYS = 30  # the guide warns one month before the secret expires
_GUID_IN = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_MULTI_TENANT = {"common", "organizations", "consumers"}
GRAPH_APP_READ_ROLES = frozenset({"Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All"})


@dataclass(frozen=True)
class Discovery:
    """The outcome of one openid-configuration lookup."""

    tenant_guid: str = ""
    cloud_instance: str = ""
    error: dict[str, Any] | None = None


def discover(http: TimedHttp, ends: Endpoints, tenant: str) -> Discovery:
    """GET {login}/{tenant}/v2.0/.well-known/openid-configuration (requests errors propagate)."""
    response = http.get(ends.openid_configuration_url(tenant))
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    if response.status_code == 200 and "issuer" in body:
        found = _GUID_IN.search(str(body["issuer"]))
        return Discovery(found.group(0).lower() if found else "", str(body.get("cloud_instance_name", "")))
    return Discovery(error=body or {"error": f"HTTP {response.status_code}",
                                    "error_description": response.text[:300]})


def tenant_format_problem(tenant: str) -> Finding | None:
    """Why `tenant` is neither a GUID nor a domain name, or None."""
    section = GuideSection.M365_APP_REGISTRATION
    if is_guid(tenant):
        return None
    if tenant.lower() in _MULTI_TENANT:
        return Finding(Status.FAIL, f"Tenant ID is '{tenant}', not your tenant.",
                       details="A single-tenant app used on /common or /organizations is refused (AADSTS50194 / "
                               "9001023).",
                       remediation="Tenant ID = the Directory (tenant) ID from the app's Overview page.",
                       guide_section=section)
    if "@" in tenant:
        return Finding(Status.FAIL, "Tenant ID is an e-mail address, not a tenant.",
                       remediation="Tenant ID = the Directory (tenant) ID from the app's Overview page (a GUID).",
                       guide_section=section)
    if host_error(tenant) or "." not in tenant:
        return Finding(Status.FAIL, "Tenant ID is neither a GUID nor a domain name.",
                       details="Expected like 72f988bf-86f1-41af-91ab-2d7cd011db47 or contoso.onmicrosoft.com.",
                       remediation="Tenant ID = the Directory (tenant) ID from the app's Overview page.",
                       guide_section=section)
    return None


def _cloud_problem(found: Discovery, ends: Endpoints) -> Finding | None:
    home = cloud_of_instance(found.cloud_instance)
    if home is None or home.cloud is ends.cloud.cloud:
        return None
    return Finding(Status.FAIL, f"This tenant lives in the {home.label}, but the settings use the "
                   f"{ends.cloud.label}.",
                   remediation=f"Set cloud = {home.cloud.value} (--cloud {home.cloud.value}); the SMTP host is "
                               f"then that cloud's.",
                   guide_section=GuideSection.M365_APP_REGISTRATION, facts={"tenant_cloud": home.cloud.value})


def check_tenant(ctx: CheckContext) -> Finding:
    """Tenant ID well-formed, discoverable in the configured cloud, and owning the sender's domain."""
    config = ctx.config
    tenant = (config.tenant_id or "").strip()
    problem = tenant_format_problem(tenant)
    if problem is not None:
        return problem
    ends = endpoints_for(config)
    http = http_for(ctx)
    try:
        found = discover(http, ends, tenant)
    except requests.RequestException as exc:
        summary, fix = network_problem(exc, ends.login_base)
        return Finding(Status.FAIL, summary, remediation=fix, guide_section=GuideSection.NETWORK)
    if found.error is not None:
        finding = explain(found.error, doing=f"looking up tenant {tenant}")
        other = [c.cloud.value for c in CLOUDS.values() if c.cloud is not ends.cloud.cloud]
        return Finding(finding.status, f"Tenant {tenant} was not found in the {ends.cloud.label}."
                       + (" (AADSTS90002)" if aadsts_code(found.error) == 90002 else ""),
                       details=finding.details, reply=finding.reply, guide_section=finding.guide_section,
                       remediation=finding.remediation + f" If your organisation is in another cloud, set cloud "
                       f"= {' or '.join(other)}.", facts=dict(finding.facts))
    wrong_cloud = _cloud_problem(found, ends)
    if wrong_cloud is not None:
        return wrong_cloud
    facts: dict[str, Any] = {"tenant_guid": found.tenant_guid, "cloud_instance": found.cloud_instance}
    named = "" if is_guid(tenant) else f" (Directory (tenant) ID {found.tenant_guid})"
    domain = config.sender_domain
    if domain and domain != tenant.lower():
        try:
            owner = discover(http, ends, domain)
        except requests.RequestException:
            return Finding(Status.WARN, f"Tenant {tenant} found{named}; the sender's domain could not be checked.",
                           facts=facts)
        facts["sender_domain_tenant"] = owner.tenant_guid
        if owner.error is not None:
            return Finding(Status.FAIL, f"The sender's domain {domain} is not a domain of any Microsoft 365 tenant.",
                           details=explain(owner.error, doing=f"looking up {domain}").details,
                           remediation="The sender must be the primary address of the user who signs in: a "
                                       "mailbox in this tenant, on one of its verified domains.",
                           guide_section=GuideSection.M365_PORTAL_SETTINGS, facts=facts)
        if owner.tenant_guid != found.tenant_guid:
            return Finding(Status.FAIL, f"The sender's domain {domain} belongs to tenant {owner.tenant_guid}, not "
                           f"to tenant {found.tenant_guid} set as Tenant ID.",
                           remediation="Register the app in the sender's tenant and use its Directory (tenant) ID, "
                                       "or use a sender from this tenant.",
                           guide_section=GuideSection.M365_PORTAL_SETTINGS, facts=facts)
        return Finding(Status.PASS, f"Tenant {tenant} found{named}; the sender's domain {domain} belongs to it.",
                       facts=facts)
    return Finding(Status.PASS, f"Tenant {tenant} found{named}.", facts=facts)


def client_format_problem(client_id: str, tenant_guid: str) -> Finding | None:
    """Why `client_id` cannot be an Application (client) ID, or None."""
    section = GuideSection.M365_APP_REGISTRATION
    fix = "Client ID = the Application (client) ID from the app's Overview page (a GUID)."
    if "@" in client_id:
        return Finding(Status.FAIL, "Client ID is an e-mail address: you pasted an e-mail address as the client ID.",
                       details="Entra ID answers this with AADSTS700016 (application not found).",
                       remediation=fix, guide_section=section)
    if not is_guid(client_id):
        return Finding(Status.FAIL, "Client ID is not a GUID.", remediation=fix, guide_section=section)
    if tenant_guid and client_id.lower() == tenant_guid.lower():
        return Finding(Status.FAIL, "Client ID is the Tenant ID: you pasted the Directory (tenant) ID twice.",
                       remediation=fix, guide_section=section)
    return None


def check_client(ctx: CheckContext) -> Finding:
    """Client ID well-formed; client ID + secret accepted by the token endpoint (client credentials)."""
    config = ctx.config
    tenant_guid = ctx.fact(CheckId.OAUTH_TENANT, "tenant_guid", "") or ""
    problem = client_format_problem((config.client_id or "").strip(), tenant_guid)
    if problem is not None:
        return problem
    ends = endpoints_for(config)
    http = http_for(ctx)
    app, problem = app_or_finding(config, http)
    if problem is not None:
        return problem
    try:
        result = app.acquire_token_for_client(scopes=[ends.app_scope])
    except requests.RequestException as exc:
        summary, fix = network_problem(exc, ends.login_base)
        return Finding(Status.FAIL, summary, remediation=fix, guide_section=GuideSection.NETWORK)
    if "error" in result:
        finding = explain(result, doing="checking the client ID and secret")
        code = finding.facts.get("aadsts")
        secret = config.client_secret.reveal() if config.client_secret else ""
        if code == 7000215 and is_guid(secret.strip()):
            return Finding(Status.FAIL, "Entra ID refused the client secret: you pasted the secret's ID instead of "
                           "its Value (the configured secret is a GUID, which is what a Secret ID looks like).",
                           details=finding.details, remediation=finding.remediation, reply=finding.reply,
                           guide_section=finding.guide_section, facts=dict(finding.facts))
        if code == 700016:
            return Finding(Status.FAIL, f"Entra ID has no app with client ID {config.client_id} in tenant "
                           f"{tenant_guid or config.tenant_id} (AADSTS700016): the client ID is wrong, or the app "
                           "is registered in another tenant.", details=finding.details,
                           remediation=finding.remediation, reply=finding.reply,
                           guide_section=finding.guide_section, facts=dict(finding.facts))
        return finding
    ctx.set_resource(APP_RESOURCE, app)
    ctx.set_resource(APP_TOKEN_RESOURCE, Secret(str(result["access_token"])))
    roles = sorted(roles_of(decode_claims(str(result["access_token"]))))
    return Finding(Status.PASS, f"Entra ID accepted client ID {config.client_id} and its secret.",
                   details=f"App-only token for {ends.cloud.exchange_app}; roles: {', '.join(roles) or '(none)'}.",
                   facts={"app_roles": roles})


def _graph_expiry(ctx: CheckContext) -> tuple[dt.date | None, str]:
    """The secret's endDateTime as Entra ID knows it (Graph, Application.Read.All), or (None, why not)."""
    app = ctx.resource(APP_RESOURCE)
    if app is None:
        return None, ""
    config = ctx.config
    ends = endpoints_for(config)
    try:
        result = app.acquire_token_for_client(scopes=[ends.graph_default_scope])
        if "error" in result or not roles_of(decode_claims(str(result["access_token"]))) & GRAPH_APP_READ_ROLES:
            return None, ("To have the console read the real expiry from Entra ID, add the Microsoft Graph "
                          "application permission Application.Read.All (optional).")
        answer = read_password_credentials(http_for(ctx), ends, Secret(str(result["access_token"])),
                                           config.client_id or "")
    except requests.RequestException:
        return None, "Entra ID's own expiry date could not be read (network)."
    hint = config.client_secret.reveal()[:3] if config.client_secret else ""
    dates = sorted(dt.datetime.fromisoformat(str(c["endDateTime"]).replace("Z", "+00:00")).date()
                   for c in answer.body.get("passwordCredentials", []) or []
                   if isinstance(c, dict) and c.get("endDateTime") and c.get("hint") == hint)
    if not answer.ok or not dates:
        return None, "Entra ID lists no secret starting like the configured one."
    return dates[0], ""


def check_secret_expiry(ctx: CheckContext) -> Finding:
    """The entered secret expiry date: fail when past, warn within a month, compare with Entra ID when allowed."""
    config = ctx.config
    today = ctx.deps.now().date()
    section = GuideSection.M365_CLIENT_SECRET
    actual, note = _graph_expiry(ctx)
    facts: dict[str, Any] = {"entra_end_date": actual.isoformat() if actual else None}
    expired_by_entra = ctx.fact(CheckId.OAUTH_CLIENT, "aadsts") == 7000222
    renew = ("Certificates & secrets > New client secret (2 years suggested); put its Value into the portal and "
             "update the secret expiry date.")
    entered = config.secret_expires
    if expired_by_entra:
        return Finding(Status.FAIL, "Entra ID says the client secret has expired (AADSTS7000222)"
                       + (f", although the expiry date entered is {entered}." if entered and entered >= today
                          else "."), remediation=renew, guide_section=section, facts=facts)
    if entered is None:
        extra = f" Entra ID says it expires on {actual}." if actual else ""
        return Finding(Status.WARN, "No secret expiry date entered: enter the expiry date so you are warned a month "
                       "ahead." + extra, details=note, remediation="Certificates & secrets shows the Expires "
                       "column of the secret; enter that date in the portal.", guide_section=section, facts=facts)
    facts["entered"] = entered.isoformat()
    effective = min(entered, actual) if actual else entered
    days = (effective - today).days
    mismatch = actual is not None and actual != entered
    mismatch_text = f" Entra ID says the secret expires on {actual}, not {entered}: correct the date." if mismatch \
        else ""
    if days < 0:
        return Finding(Status.FAIL, f"The client secret expired on {effective} ({-days} days ago).{mismatch_text}",
                       details=note, remediation=renew, guide_section=section, facts=facts)
    if days <= WARN_DAYS:
        return Finding(Status.WARN, f"The client secret expires on {effective} (in {days} days): create a new one "
                       f"before {effective}.{mismatch_text}", details=note, remediation=renew,
                       guide_section=section, facts=facts)
    warn_from = effective - dt.timedelta(days=WARN_DAYS)
    if mismatch:
        return Finding(Status.WARN, f"The expiry date entered ({entered}) differs from Entra ID's ({actual}): "
                       "correct it so the one-month warning comes on time.", guide_section=section, facts=facts)
    return Finding(Status.PASS, f"The client secret expires on {effective} (in {days} days); the warning comes from "
                   f"{warn_from}.", details=note, facts=facts)
