"""oauth.token (an access token for SMTP) and oauth.scopes (what the tokens allow), delegated or app-only."""

from __future__ import annotations

from typing import Any

import requests

from checks.run_state import CheckContext
from checks.knowledge.guide import GuideSection
from checks.model import AuthMethod, Finding, Secret, Status
from checks.knowledge.aadsts import explain
from checks.oauth.claims import (
    audience_name,
    decode_claims,
    expires_at,
    roles_of,
    scopes_of,
    user_of,
    visible_claims,
)
from checks.oauth.endpoints import endpoints_for
from checks.oauth.flows import app_or_finding
from checks.oauth.http import http_for, network_problem

APP_RESOURCE = "oauth.app"  # the run's MSAL ConfidentialClientApplication
APP_TOKEN_RESOURCE = "oauth.app_token"  # Secret: app-only Exchange token from oauth.client
SMTP_TOKEN_RESOURCE = "oauth.smtp_token"  # Secret: the access token auth.credentials uses for XOAUTH2
TOKEN_USER_RESOURCE = "oauth.token_user"  # str: the address the token acts for
REFRESH_TOKEN_RESOURCE = "oauth.refresh_token"  # Secret: the newest refresh token of the run
GRAPH_TOKEN_RESOURCE = "oauth.graph_token"  # Secret: delegated Graph token (oauth.scopes), for the sender check
GRAPH_NEEDED = ("Mail.Send", "Mail.ReadWrite", "User.Read.All")
SIGN_IN_HINT = ("Sign in with Microsoft (the console's sign-in button, or --refresh-token-env with a refresh token) "
                "to test the token.")


def _consent_step(permission: str, api: str = "Microsoft Graph", kind: str = "Delegated permissions") -> str:
    return (f"API permissions > Add a permission > {api} > {kind} > {permission} > Add permissions, then "
            "Grant admin consent for <your organisation>")


def _app(ctx: CheckContext) -> tuple[Any, Finding | None]:
    app = ctx.resource(APP_RESOURCE)
    if app is not None:
        return app, None
    app, problem = app_or_finding(ctx.config, http_for(ctx))
    if app is not None:
        ctx.set_resource(APP_RESOURCE, app)
    return app, problem


def _app_only_token(ctx: CheckContext, app: Any) -> Finding:
    config = ctx.config
    ends = endpoints_for(config)
    result = app.acquire_token_for_client(scopes=[ends.app_scope])
    if "error" in result:
        return explain(result, doing="getting the app-only SMTP token")
    token = Secret(str(result["access_token"]))
    claims = decode_claims(token)
    sender = config.sender or config.username or ""
    facts = {"claims": visible_claims(claims), "user": sender}
    if "SMTP.SendAsApp" not in roles_of(claims):
        return Finding(Status.FAIL, "The app-only token has no SMTP.SendAsApp role: Exchange will refuse it.",
                       details=f"Roles in the token: {', '.join(sorted(roles_of(claims))) or '(none)'}.",
                       remediation=_consent_step("SMTP.SendAsApp", "APIs my organization uses > Office 365 Exchange "
                                                 "Online", "Application permissions")
                       + "; then in Exchange PowerShell New-ServicePrincipal -AppId <client id> -ObjectId <the "
                         "Enterprise application's object id> and Add-MailboxPermission -Identity <sender> -User "
                         "<service principal> -AccessRights FullAccess.",
                       guide_section=GuideSection.M365_PERMISSIONS, facts=facts)
    ctx.set_resource(SMTP_TOKEN_RESOURCE, token)
    ctx.set_resource(TOKEN_USER_RESOURCE, sender)
    return Finding(Status.PASS, f"Got an app-only SMTP token with SMTP.SendAsApp (to send as {sender}).", facts=facts)


def check_token(ctx: CheckContext) -> Finding:
    """A delegated SMTP.Send access token from the refresh token (or app-only with SMTP.SendAsApp)."""
    config = ctx.config
    app, problem = _app(ctx)
    if problem is not None:
        return problem
    ends = endpoints_for(config)
    try:
        if config.auth is AuthMethod.OAUTH2_APP:
            return _app_only_token(ctx, app)
        if not config.refresh_token:
            return Finding(Status.SKIP, "No refresh token yet: " + SIGN_IN_HINT,
                           guide_section=GuideSection.M365_PORTAL_SETTINGS)
        result = app.acquire_token_by_refresh_token(config.refresh_token.reveal(), scopes=[ends.smtp_scope])
    except requests.RequestException as exc:
        summary, fix = network_problem(exc, ends.login_base)
        return Finding(Status.FAIL, summary, remediation=fix, guide_section=GuideSection.NETWORK)
    if "error" in result:
        return explain(result, doing="getting the SMTP token from the refresh token")
    token = Secret(str(result["access_token"]))
    claims = decode_claims(token)
    user = user_of(claims) or user_of(result.get("id_token_claims") or {})
    if result.get("refresh_token"):
        ctx.set_resource(REFRESH_TOKEN_RESOURCE, Secret(str(result["refresh_token"])))
    ctx.set_resource(SMTP_TOKEN_RESOURCE, token)
    ctx.set_resource(TOKEN_USER_RESOURCE, user)
    when = expires_at(claims)
    until = f", valid until {when:%H:%M} UTC" if when else ""
    return Finding(Status.PASS, f"Got an SMTP access token for {user or 'the signed-in user'}{until}.",
                   details=f"Audience {audience_name(str(claims.get('aud', '')))}; scopes: {claims.get('scp', '')}.",
                   facts={"user": user, "claims": visible_claims(claims)})


def _graph_permissions(ctx: CheckContext, app: Any) -> tuple[dict[str, Any], list[str], Finding | None]:
    """(Graph claims, missing permissions, failure) for a Graph token minted from the same refresh token."""
    refresh = ctx.resource(REFRESH_TOKEN_RESOURCE) or ctx.config.refresh_token
    ends = endpoints_for(ctx.config)
    result = app.acquire_token_by_refresh_token(refresh.reveal(), scopes=[ends.graph_default_scope])
    if "error" in result:
        return {}, list(GRAPH_NEEDED), explain(result, doing="getting a Graph token from the same refresh token")
    token = Secret(str(result["access_token"]))
    ctx.set_resource(GRAPH_TOKEN_RESOURCE, token)
    claims = decode_claims(token)
    return claims, [p for p in GRAPH_NEEDED if p not in scopes_of(claims)], None


def check_scopes(ctx: CheckContext) -> Finding:
    """The SMTP token carries SMTP.Send for Exchange; a Graph token carries Mail.Send, Mail.ReadWrite, User.Read.All."""
    config = ctx.config
    token = ctx.resource(SMTP_TOKEN_RESOURCE)
    if token is None:
        return Finding(Status.SKIP, "No SMTP token to inspect.")
    claims = decode_claims(token)
    ends = endpoints_for(config)
    aud = str(claims.get("aud", ""))
    facts: dict[str, Any] = {"smtp_token": visible_claims(claims)}
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
    app, problem = _app(ctx)
    if problem is not None:
        return problem
    try:
        graph_claims, graph_missing, graph_problem = _graph_permissions(ctx, app)
    except requests.RequestException as exc:
        summary, fix = network_problem(exc, ends.login_base)
        return Finding(Status.FAIL, summary, remediation=fix, guide_section=GuideSection.NETWORK, facts=facts)
    facts["graph_token"] = visible_claims(graph_claims)
    facts["offline_access"] = bool(config.refresh_token)
    missing += graph_missing
    shown = (f"SMTP token scp: {claims.get('scp', '')}; Graph token scp: {graph_claims.get('scp', '(none)')}; "
             "offline_access: yes (a refresh token is in use).")
    if graph_problem is not None:
        prefix = "Missing permission: SMTP.Send. " if "SMTP.Send" in missing else ""
        return Finding(Status.FAIL, prefix + "The Graph permissions could not be confirmed: " + graph_problem.summary,
                       details=shown, remediation=graph_problem.remediation, reply=graph_problem.reply,
                       guide_section=section, facts=facts)
    if missing:
        steps = "; ".join(f"{p}: {_consent_step(p)}" for p in missing)
        return Finding(Status.FAIL, f"Missing permission{'s' if len(missing) > 1 else ''}: {', '.join(missing)}.",
                       details=shown, remediation=steps + ". Every row must then say 'Granted'; sign in again.",
                       guide_section=section, facts=facts)
    return Finding(Status.PASS, "SMTP.Send for Exchange Online, and Mail.Send, Mail.ReadWrite, User.Read.All for "
                   "Graph are granted; offline_access is in use.", details=shown, facts=facts)
