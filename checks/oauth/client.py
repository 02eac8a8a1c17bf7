"""`oauth.client`: the client id and secret are accepted by the token endpoint."""

from __future__ import annotations

from dataclasses import replace

from checks.knowledge.aadsts import explain
from checks.knowledge.facts import AadstsFacts
from checks.knowledge.guide import GuideSection
from checks.model import CheckId, Finding, Status
from checks.oauth.claims import decode_claims, roles_of
from checks.oauth.endpoints import endpoints_for
from checks.oauth.facts import ClientFacts, TenantFacts
from checks.oauth.flows import app_or_finding
from checks.oauth.http import http_for, network_problem
from checks.run_state import CheckContext
from checks.settings.config import is_guid
from checks.settings.secret import Secret


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
    tenant = ctx.facts(CheckId.OAUTH_TENANT, TenantFacts)
    tenant_guid = tenant.tenant_guid if tenant else ""
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
    except OSError as exc:
        summary, fix = network_problem(exc, ends.login_base)
        return Finding(Status.FAIL, summary, remediation=fix, guide_section=GuideSection.NETWORK)
    if "error" in result:
        finding = explain(result, doing="checking the client ID and secret")
        code = finding.facts.aadsts if isinstance(finding.facts, AadstsFacts) else None
        facts = ClientFacts(aadsts=code)
        secret = config.client_secret.reveal() if config.client_secret else ""
        if code == 7000215 and is_guid(secret.strip()):
            return Finding(Status.FAIL, "Entra ID refused the client secret: you pasted the secret's ID instead of "
                           "its Value (the configured secret is a GUID, which is what a Secret ID looks like).",
                           details=finding.details, remediation=finding.remediation, reply=finding.reply,
                           guide_section=finding.guide_section, facts=facts)
        if code == 700016:
            return Finding(Status.FAIL, f"Entra ID has no app with client ID {config.client_id} in tenant "
                           f"{tenant_guid or config.tenant_id} (AADSTS700016): the client ID is wrong, or the app "
                           "is registered in another tenant.", details=finding.details,
                           remediation=finding.remediation, reply=finding.reply,
                           guide_section=finding.guide_section, facts=facts)
        return replace(finding, facts=facts)
    ctx.state.msal_app = app
    ctx.state.app_token = Secret(str(result["access_token"]))
    roles = sorted(roles_of(decode_claims(str(result["access_token"]))))
    return Finding(Status.PASS, f"Entra ID accepted client ID {config.client_id} and its secret.",
                   details=f"App-only token for {ends.cloud.exchange_app}; roles: {', '.join(roles) or '(none)'}.",
                   facts=ClientFacts(app_roles=tuple(roles)))
