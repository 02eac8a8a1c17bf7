"""`oauth.token`: an access token for SMTP from the refresh token (delegated) or client credentials (app-only)."""

from __future__ import annotations

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
    expires_at,
    roles_of,
    user_of,
    visible_claims,
)
from checks.oauth.endpoints import endpoints_for
from checks.oauth.facts import TokenFacts
from checks.oauth.http import network_problem
from checks.run_state import CheckContext
from checks.settings.config import AuthMethod
from checks.settings.secret import Secret

SIGN_IN_HINT = ("Sign in with Microsoft (the console's sign-in button, or --refresh-token-env with a refresh token) "
                "to test the token.")


def _app_only_token(ctx: CheckContext, app: Any) -> Finding:
    config = ctx.config
    ends = endpoints_for(config)
    result = app.acquire_token_for_client(scopes=[ends.app_scope])
    if "error" in result:
        return explain(result, doing="getting the app-only SMTP token")
    token = Secret(str(result["access_token"]))
    claims = decode_claims(token)
    sender = config.sender or config.username or ""
    facts = TokenFacts(sender, visible_claims(claims))
    if "SMTP.SendAsApp" not in roles_of(claims):
        return Finding(Status.FAIL, "The app-only token has no SMTP.SendAsApp role: Exchange will refuse it.",
                       details=f"Roles in the token: {', '.join(sorted(roles_of(claims))) or '(none)'}.",
                       remediation=consent_step("SMTP.SendAsApp", "APIs my organization uses > Office 365 Exchange "
                                                 "Online", "Application permissions")
                       + "; then in Exchange PowerShell New-ServicePrincipal -AppId <client id> -ObjectId <the "
                         "Enterprise application's object id> and Add-MailboxPermission -Identity <sender> -User "
                         "<service principal> -AccessRights FullAccess.",
                       guide_section=GuideSection.M365_PERMISSIONS, facts=facts)
    ctx.state.smtp_token, ctx.state.token_user = token, sender
    return Finding(Status.PASS, f"Got an app-only SMTP token with SMTP.SendAsApp (to send as {sender}).", facts=facts)


def check_token(ctx: CheckContext) -> Finding:
    """A delegated SMTP.Send access token from the refresh token (or app-only with SMTP.SendAsApp)."""
    config = ctx.config
    app, problem = run_app(ctx)
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
    except OSError as exc:
        summary, fix = network_problem(exc, ends.login_base)
        return Finding(Status.FAIL, summary, remediation=fix, guide_section=GuideSection.NETWORK)
    if "error" in result:
        return explain(result, doing="getting the SMTP token from the refresh token")
    token = Secret(str(result["access_token"]))
    claims = decode_claims(token)
    user = user_of(claims) or user_of(result.get("id_token_claims") or {})
    if result.get("refresh_token"):
        ctx.state.refresh_token = Secret(str(result["refresh_token"]))
    ctx.state.smtp_token, ctx.state.token_user = token, user
    when = expires_at(claims)
    until = f", valid until {when:%H:%M} UTC" if when else ""
    return Finding(Status.PASS, f"Got an SMTP access token for {user or 'the signed-in user'}{until}.",
                   details=f"Audience {audience_name(str(claims.get('aud', '')))}; scopes: {claims.get('scp', '')}.",
                   facts=TokenFacts(user, visible_claims(claims)))
