"""The run's MSAL application (kept in the RunState) and the consent wording the OAuth2 checks share."""

from __future__ import annotations

from typing import Any

from checks.model import Finding
from checks.oauth.flows import app_or_finding
from checks.oauth.http import http_for
from checks.run_state import CheckContext


def consent_step(permission: str, api: str = "Microsoft Graph", kind: str = "Delegated permissions") -> str:
    return (f"API permissions > Add a permission > {api} > {kind} > {permission} > Add permissions, then "
            "Grant admin consent for <your organisation>")


def run_app(ctx: CheckContext) -> tuple[Any, Finding | None]:
    """The run's MSAL application (made once), or the finding that says why it cannot be made."""
    if ctx.state.msal_app is not None:
        return ctx.state.msal_app, None
    app, problem = app_or_finding(ctx.config, http_for(ctx))
    if app is not None:
        ctx.state.msal_app = app
    return app, problem
