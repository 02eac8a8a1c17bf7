"""Token claims shown to the user (decoded without signature checks, only to display them) and what they mean."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from checks.knowledge.catalog import commands_for, explain_reply
from checks.knowledge.facts import ReplyFacts
from checks.knowledge.guide import GuideSection
from checks.model import Finding, Status
from checks.oauth.endpoints import CLOUDS, EXCHANGE_APP_ID, GRAPH_APP_ID
from checks.settings.secret import Secret

SHOWN_CLAIMS = ("aud", "scp", "roles", "tid", "upn", "preferred_username", "appid", "azp", "exp")
EXCHANGE_AUDIENCES = frozenset(
    {a for c in CLOUDS.values() for h in (c.exchange_delegated, c.exchange_app) for a in (h, h + "/")}
    | {EXCHANGE_APP_ID})
GRAPH_AUDIENCES = frozenset({a for c in CLOUDS.values() for a in (c.graph, c.graph + "/")} | {GRAPH_APP_ID})


def decode_claims(token: Secret | str) -> dict[str, Any]:
    """The token's claims, or {} when it is not a JWT (never verified: only for display and diagnosis)."""
    import jwt  # ~0.1 s with cryptography: loaded when a token is read, not by every run

    raw = token.reveal() if isinstance(token, Secret) else token
    try:
        claims = jwt.decode(raw, options={"verify_signature": False, "verify_exp": False, "verify_aud": False})
    except (jwt.PyJWTError, RecursionError, ValueError):  # nested too deeply, a number over 4300 digits
        return {}
    return claims if isinstance(claims, dict) else {}


def scopes_of(claims: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(str(claims.get("scp") or "").split())


def roles_of(claims: Mapping[str, Any]) -> frozenset[str]:
    roles = claims.get("roles") or []
    return frozenset(str(r) for r in roles) if isinstance(roles, list) else frozenset()


def user_of(claims: Mapping[str, Any]) -> str:
    return str(claims.get("upn") or claims.get("preferred_username") or claims.get("unique_name") or "")


def utc_time(value: Any) -> dt.datetime | None:
    """A NumericDate claim as a UTC time; None when it is not a number or not a representable time."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return dt.datetime.fromtimestamp(value, dt.UTC)
    except (OverflowError, ValueError, OSError):  # 1e300, NaN, a year past 9999
        return None


def expires_at(claims: Mapping[str, Any]) -> dt.datetime | None:
    return utc_time(claims.get("exp"))


def audience_name(aud: str) -> str:
    """A person's name for a token audience."""
    if aud in EXCHANGE_AUDIENCES:
        return f"Exchange Online ({aud})"
    if aud in GRAPH_AUDIENCES:
        return f"Microsoft Graph ({aud})"
    return aud or "(no audience)"


def visible_claims(claims: Mapping[str, Any]) -> dict[str, Any]:
    """The claims worth showing (safe for facts and reports: no signature, no token)."""
    out = {k: claims[k] for k in SHOWN_CLAIMS if k in claims}
    when = expires_at(claims)
    if when is not None:
        out["exp"] = when.isoformat(timespec="seconds")
    return out


def explain_xoauth2_failure(reply_code: int, reply_text: str, token_claims: Mapping[str, Any]) -> Finding | None:
    """Why Exchange refused AUTH XOAUTH2 (535 5.7.3 / 5.7.139), judged from the token's claims; None if unclear."""
    text = reply_text or ""
    reply = f"{reply_code} {text}".strip()
    if "5.7.139" in text:  # a policy refusal: the catalog's one fix text, the same as for a password sign-in
        explanation = explain_reply(reply_code, text)
        return Finding(Status.FAIL, f"{explanation.title} (5.7.139); the token itself was fine.",
                       details=explanation.cause, remediation=explanation.fix,
                       guide_section=explanation.guide_section, reply=reply,
                       commands=commands_for(explanation.entry_id, {"mailbox": str(user_of(token_claims))}),
                       facts=ReplyFacts(reply_code, explanation.entry_id))
    if reply_code != 535:
        return None
    aud = str(token_claims.get("aud") or "")
    section = GuideSection.M365_PERMISSIONS
    if aud in GRAPH_AUDIENCES:
        return Finding(Status.FAIL, "The token is for Microsoft Graph, not for Exchange Online: SMTP refuses it.",
                       details=f"Token audience: {audience_name(aud)}.",
                       remediation="Ask for the scope https://outlook.office.com/SMTP.Send (+ offline_access), "
                                   "not a Graph scope: one resource per token.", guide_section=section, reply=reply)
    if aud not in EXCHANGE_AUDIENCES:
        return Finding(Status.FAIL, f"The token's audience is {audience_name(aud)}, not Exchange Online.",
                       remediation="Delegated: scope https://outlook.office.com/SMTP.Send (audience "
                                   "outlook.office.com). App-only: https://outlook.office365.com/.default "
                                   "(audience outlook.office365.com).", guide_section=section, reply=reply)
    when = expires_at(token_claims)
    if when is not None and when < dt.datetime.now(dt.UTC):
        return Finding(Status.FAIL, f"The access token expired at {when:%Y-%m-%d %H:%M} UTC.",
                       remediation="Get a fresh access token from the refresh token just before AUTH.",
                       guide_section=section, reply=reply)
    if "scp" in token_claims or "upn" in token_claims:
        if "SMTP.Send" not in scopes_of(token_claims):
            return Finding(Status.FAIL, "The token has no SMTP.Send permission.",
                           details=f"Token scopes: {token_claims.get('scp') or '(none)'}.",
                           remediation="API permissions > Add a permission > Microsoft Graph > Delegated "
                                       "permissions > SMTP.Send > Grant admin consent, then sign in again.",
                           guide_section=section, reply=reply)
        return Finding(Status.FAIL, "Exchange refused a valid SMTP.Send token: the XOAUTH2 user differs from the "
                       "token's user, or SMTP AUTH is off for this mailbox.",
                       details=f"Token user: {user_of(token_claims) or '(none)'}.",
                       remediation="Use the signed-in user's primary address as sender and XOAUTH2 user; check "
                                   "Set-CASMailbox -SmtpClientAuthenticationDisabled $false.",
                       guide_section=GuideSection.M365_PORTAL_SETTINGS, reply=reply)
    if "SMTP.SendAsApp" not in roles_of(token_claims):
        return Finding(Status.FAIL, "The app-only token has no SMTP.SendAsApp role.",
                       remediation="API permissions > Add a permission > APIs my organization uses > Office 365 "
                                   "Exchange Online > Application permissions > SMTP.SendAsApp > Grant admin consent.",
                       guide_section=section, reply=reply)
    return Finding(Status.FAIL, "Exchange refused a valid app-only token: the app is not registered in Exchange or "
                   "has no permission on this mailbox.",
                   remediation="New-ServicePrincipal -AppId <client id> -ObjectId <Enterprise application's object "
                               "id, not the App registration's>; Add-MailboxPermission -Identity <sender> -User "
                               "<service principal> -AccessRights FullAccess.",
                   guide_section=GuideSection.M365_APP_REGISTRATION, reply=reply)
