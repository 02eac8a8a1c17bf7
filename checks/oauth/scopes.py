"""`oauth.scopes`: what the tokens allow (SMTP.Send, Graph permissions), each missing permission named with its portal step."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from checks.knowledge.aadsts import explain
from checks.knowledge.guide import GuideSection
from checks.model import Finding, Status
from checks.oauth.app import (
    consent_step,
    run_app,
)
from checks.oauth.claims import (
    audience_name,
    decode_claims,
    roles_of,
    scopes_of,
    visible_claims,
)
from checks.oauth.endpoints import endpoints_for
from checks.oauth.facts import ScopeFacts
from checks.oauth.http import network_problem
from checks.oauth.permissions import GRAPH_PERMISSIONS
from checks.run_state import CheckContext
from checks.settings.config import AuthMethod
from checks.settings.secret import Secret


def _graph_permissions(ctx: CheckContext, app: Any) -> tuple[dict[str, Any], list[str], Finding | None]:
    """(Graph claims, missing permissions, failure) for a Graph token minted from the same refresh token."""
    refresh = ctx.state.refresh_token or ctx.config.refresh_token
    ends = endpoints_for(ctx.config)
    result = app.acquire_token_by_refresh_token(refresh.reveal(), scopes=[ends.graph_default_scope])
    if "error" in result:
        return {}, list(GRAPH_PERMISSIONS), explain(result, doing="getting a Graph token from the same refresh token")
    token = Secret(str(result["access_token"]))
    ctx.state.graph_token = token
    claims = decode_claims(token)
    return claims, [p for p in GRAPH_PERMISSIONS if p not in scopes_of(claims)], None


def check_scopes(ctx: CheckContext) -> Finding:
    """The SMTP token carries SMTP.Send for Exchange; a Graph token carries Mail.Send, Mail.ReadWrite, User.Read.All."""
    config = ctx.config
    token = ctx.state.smtp_token
    if token is None:
        return Finding(Status.SKIP, "No SMTP token to inspect.")
    claims = decode_claims(token)
    ends = endpoints_for(config)
    aud = str(claims.get("aud", ""))
    facts = ScopeFacts(visible_claims(claims))
    section = GuideSection.M365_PERMISSIONS
    if aud not in ends.exchange_audiences:
        return Finding(Status.FAIL, f"The SMTP token is for {audience_name(aud)}, not Exchange Online "
                       f"({ends.cloud.exchange_delegated}).", remediation=f"Ask for {ends.smtp_scope} "
                       "(+ offline_access), nothing from Graph in the same request.", guide_section=section,
                       facts=facts)
    if config.auth is AuthMethod.OAUTH2_APP:
        ok = "SMTP.SendAsApp" in roles_of(claims)
        return Finding(Status.PASS if ok else Status.FAIL,
                       "App-only token: audience Exchange Online, role SMTP.SendAsApp." if ok
                       else "App-only token without the SMTP.SendAsApp role.", guide_section=section, facts=facts)
    missing: list[str] = [] if "SMTP.Send" in scopes_of(claims) else ["SMTP.Send"]
    app, problem = run_app(ctx)
    if problem is not None:
        return problem
    try:
        graph_claims, graph_missing, graph_problem = _graph_permissions(ctx, app)
    except OSError as exc:
        summary, fix = network_problem(exc, ends.login_base)
        return Finding(Status.FAIL, summary, remediation=fix, guide_section=GuideSection.NETWORK, facts=facts)
    facts = replace(facts, graph_token=visible_claims(graph_claims), offline_access=bool(config.refresh_token))
    missing += graph_missing
    shown = (f"SMTP token scp: {claims.get('scp', '')}; Graph token scp: {graph_claims.get('scp', '(none)')}; "
             "offline_access: yes (a refresh token is in use).")
    if graph_problem is not None:
        prefix = "Missing permission: SMTP.Send. " if "SMTP.Send" in missing else ""
        return Finding(Status.FAIL, prefix + "The Graph permissions could not be confirmed: " + graph_problem.summary,
                       details=shown, remediation=graph_problem.remediation, reply=graph_problem.reply,
                       guide_section=section, facts=facts)
    if missing:
        steps = "; ".join(f"{p}: {consent_step(p)}" for p in missing)
        return Finding(Status.FAIL, f"Missing permission{'s' if len(missing) > 1 else ''}: {', '.join(missing)}.",
                       details=shown, remediation=steps + ". Every row must then say 'Granted'; sign in again.",
                       guide_section=section, facts=facts)
    return Finding(Status.PASS, "SMTP.Send for Exchange Online, and Mail.Send, Mail.ReadWrite, User.Read.All for "
                   "Graph are granted; offline_access is in use.", details=shown, facts=facts)
