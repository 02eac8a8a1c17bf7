"""`oauth.secret_expiry`: the client secret's expiry date, compared with Entra ID's own when Graph allows."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from checks.knowledge.guide import GuideSection
from checks.model import CheckId, Finding, Status
from checks.oauth.claims import decode_claims, roles_of
from checks.oauth.endpoints import endpoints_for
from checks.oauth.facts import ClientFacts, SecretExpiryFacts
from checks.oauth.graph import read_password_credentials
from checks.oauth.http import http_for
from checks.run_state import CheckContext
from checks.settings.limits import SECRET_WARNING_DAYS
from checks.settings.secret import Secret

GRAPH_APP_READ_ROLES = frozenset({"Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All"})


def _graph_expiry(ctx: CheckContext) -> tuple[dt.date | None, str]:
    """The secret's endDateTime as Entra ID knows it (Graph, Application.Read.All), or (None, why not)."""
    app = ctx.state.msal_app
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
    except OSError:
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
    facts = SecretExpiryFacts(actual.isoformat() if actual else None)
    client = ctx.facts(CheckId.OAUTH_CLIENT, ClientFacts)
    expired_by_entra = client is not None and client.aadsts == 7000222
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
    facts = replace(facts, entered=entered.isoformat())
    effective = min(entered, actual) if actual else entered
    days = (effective - today).days
    mismatch = actual is not None and actual != entered
    mismatch_text = f" Entra ID says the secret expires on {actual}, not {entered}: correct the date." if mismatch \
        else ""
    if days < 0:
        return Finding(Status.FAIL, f"The client secret expired on {effective} ({-days} days ago).{mismatch_text}",
                       details=note, remediation=renew, guide_section=section, facts=facts)
    if days <= SECRET_WARNING_DAYS:
        return Finding(Status.WARN, f"The client secret expires on {effective} (in {days} days): create a new one "
                       f"before {effective}.{mismatch_text}", details=note, remediation=renew,
                       guide_section=section, facts=facts)
    warn_from = effective - dt.timedelta(days=SECRET_WARNING_DAYS)
    if mismatch:
        return Finding(Status.WARN, f"The expiry date entered ({entered}) differs from Entra ID's ({actual}): "
                       "correct it so the one-month warning comes on time.", guide_section=section, facts=facts)
    return Finding(Status.PASS, f"The client secret expires on {effective} (in {days} days); the warning comes from "
                   f"{warn_from}.", details=note, facts=facts)
