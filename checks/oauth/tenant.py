"""`oauth.tenant`: the tenant id is well formed and discovers, in the expected cloud."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from checks.knowledge.aadsts import aadsts_code, explain
from checks.knowledge.guide import GuideSection
from checks.model import Finding, Status
from checks.oauth.endpoints import CLOUDS, Endpoints, cloud_of_instance, endpoints_for
from checks.oauth.facts import TenantFacts
from checks.oauth.http import TimedHttp, http_for, network_problem
from checks.run_state import CheckContext
from checks.settings.config import host_error, is_guid

_GUID_IN = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_MULTI_TENANT = {"common", "organizations", "consumers"}


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
                   guide_section=GuideSection.M365_APP_REGISTRATION, facts=TenantFacts(tenant_cloud=home.cloud.value))


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
    except OSError as exc:
        summary, fix = network_problem(exc, ends.login_base)
        return Finding(Status.FAIL, summary, remediation=fix, guide_section=GuideSection.NETWORK)
    if found.error is not None:
        finding = explain(found.error, doing=f"looking up tenant {tenant}")
        other = [c.cloud.value for c in CLOUDS.values() if c.cloud is not ends.cloud.cloud]
        return Finding(finding.status, f"Tenant {tenant} was not found in the {ends.cloud.label}."
                       + (" (AADSTS90002)" if aadsts_code(found.error) == 90002 else ""),
                       details=finding.details, reply=finding.reply, guide_section=finding.guide_section,
                       remediation=finding.remediation + f" If your organisation is in another cloud, set cloud "
                       f"= {' or '.join(other)}.", facts=finding.facts)
    wrong_cloud = _cloud_problem(found, ends)
    if wrong_cloud is not None:
        return wrong_cloud
    facts = TenantFacts(found.tenant_guid, found.cloud_instance)
    named = "" if is_guid(tenant) else f" (Directory (tenant) ID {found.tenant_guid})"
    domain = config.sender_domain
    if domain and domain != tenant.lower():
        try:
            owner = discover(http, ends, domain)
        except OSError:
            return Finding(Status.WARN, f"Tenant {tenant} found{named}; the sender's domain could not be checked.",
                           facts=facts)
        facts = replace(facts, sender_domain_tenant=owner.tenant_guid)
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
