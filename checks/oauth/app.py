"""The run's MSAL application and OAuth2 tokens, shared by oauth.client, oauth.token, oauth.scopes and the SMTP sign-in."""

from __future__ import annotations

from typing import Any

from checks.model import Finding
from checks.oauth.flows import app_or_finding
from checks.oauth.http import http_for
from checks.run_state import CheckContext

APP_RESOURCE = "oauth.app"  # the run's MSAL ConfidentialClientApplication


APP_TOKEN_RESOURCE = "oauth.app_token"  # Secret: app-only Exchange token from oauth.client


SMTP_TOKEN_RESOURCE = "oauth.smtp_token"  # Secret: the access token auth.credentials uses for XOAUTH2


TOKEN_USER_RESOURCE = "oauth.token_user"  # str: the address the token acts for


REFRESH_TOKEN_RESOURCE = "oauth.refresh_token"  # Secret: the newest refresh token of the run


GRAPH_TOKEN_RESOURCE = "oauth.graph_token"  # Secret: delegated Graph token (oauth.scopes), for the sender check


def consent_step(permission: str, api: str = "Microsoft Graph", kind: str = "Delegated permissions") -> str:
    return (f"API permissions > Add a permission > {api} > {kind} > {permission} > Add permissions, then "
            "Grant admin consent for <your organisation>")


def run_app(ctx: CheckContext) -> tuple[Any, Finding | None]:
    app = ctx.resource(APP_RESOURCE)
    if app is not None:
        return app, None
    app, problem = app_or_finding(ctx.config, http_for(ctx))
    if app is not None:
        ctx.set_resource(APP_RESOURCE, app)
    return app, problem
