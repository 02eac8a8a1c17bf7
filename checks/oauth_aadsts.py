"""Entra ID (AADSTS) errors from the token and authorize endpoints -> cause and fix in the guide's words."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from checks.guide import GuideSection
from checks.model import Finding, Status

_CODE = re.compile(r"AADSTS(\d{4,7})")
_NOISE = re.compile(r"\s*(Trace ID|Correlation ID|Timestamp):.*$", re.S)
SIGN_IN_AGAIN = ("Sign in again to mint a new refresh token (in the portal: save the OAuth2 configuration again, "
                 "which opens the Microsoft sign-in).")


@dataclass(frozen=True)
class AadstsExplanation:
    """What one AADSTS code means for this setup and how to fix it."""

    cause: str
    fix: str
    section: GuideSection


_GRANT = ("API permissions > Grant admin consent for <your organisation>, and check every row says 'Granted', "
          "then sign in again.")

EXPLANATIONS: dict[int, AadstsExplanation] = {
    90002: AadstsExplanation(
        "Entra ID does not know this tenant.",
        "Tenant ID = the Directory (tenant) ID from the app's Overview page (a GUID), and the right cloud "
        "(global, US Government or China).", GuideSection.M365_APP_REGISTRATION),
    700016: AadstsExplanation(
        "Entra ID found no application with this client ID in the tenant: the client ID is wrong, the app is "
        "registered in another tenant, or an e-mail address was pasted as the client ID.",
        "Client ID = the Application (client) ID from the app's Overview page, and Tenant ID = the Directory "
        "(tenant) ID shown on the same page.", GuideSection.M365_APP_REGISTRATION),
    7000215: AadstsExplanation(
        "Entra ID refused the client secret: you pasted the secret's ID instead of its Value (or the value is "
        "wrong).",
        "Certificates & secrets > New client secret, copy the Value column (shown only once; not the Secret ID) "
        "into the portal and enter its expiry date.", GuideSection.M365_CLIENT_SECRET),
    7000222: AadstsExplanation(
        "The client secret has expired.",
        "Certificates & secrets > New client secret; put its Value into the portal and update the secret expiry "
        "date.", GuideSection.M365_CLIENT_SECRET),
    7000218: AadstsExplanation(
        "Entra ID expected a client secret: this app does not allow public client (device code) sign-ins.",
        "Use the browser sign-in, or Authentication > Allow public client flows = Yes.",
        GuideSection.M365_APP_REGISTRATION),
    700025: AadstsExplanation(
        "The app is registered as a public client, so it must not send a secret.",
        "Register the redirect URI under Authentication > Add a platform > Web (not Mobile/desktop or SPA).",
        GuideSection.M365_APP_REGISTRATION),
    50194: AadstsExplanation(
        "The app is single-tenant but was used with /common or /organizations.",
        "Use the Directory (tenant) ID as Tenant ID, not 'common' or 'organizations'.",
        GuideSection.M365_APP_REGISTRATION),
    65001: AadstsExplanation(
        "Consent is missing: the permissions were not granted for this app and user.",
        _GRANT, GuideSection.M365_PERMISSIONS),
    90094: AadstsExplanation(
        "The permissions need an administrator's consent.",
        _GRANT, GuideSection.M365_PERMISSIONS),
    650056: AadstsExplanation(
        "A requested permission is not configured on the app.",
        "API permissions > Add a permission > Microsoft Graph > Delegated permissions, then " + _GRANT,
        GuideSection.M365_PERMISSIONS),
    650057: AadstsExplanation(
        "A requested permission is not configured or not consented on the app.",
        "API permissions > Add a permission > Microsoft Graph > Delegated permissions, then " + _GRANT,
        GuideSection.M365_PERMISSIONS),
    70011: AadstsExplanation(
        "The requested scope is not valid.",
        "The SMTP token's scope is https://outlook.office.com/SMTP.Send plus offline_access (not "
        "outlook.office365.com, not a Graph scope).", GuideSection.M365_PERMISSIONS),
    700022: AadstsExplanation(
        "Scopes of more than one resource were asked for in one token request (e.g. SMTP.Send with Graph "
        "permissions).",
        "Ask one resource per token: https://outlook.office.com/SMTP.Send (+ offline_access) for SMTP; Graph "
        "permissions in a separate request.", GuideSection.M365_PERMISSIONS),
    50011: AadstsExplanation(
        "The redirect URI sent by the console is not registered on the app.",
        "Authentication > Add a platform > Web, and register exactly this redirect URI (scheme, host, port and "
        "trailing slash must match).", GuideSection.M365_APP_REGISTRATION),
    500113: AadstsExplanation(
        "The app has no redirect URI (reply address) registered.",
        "Authentication > Add a platform > Web, and register the portal's redirect URI.",
        GuideSection.M365_APP_REGISTRATION),
    50126: AadstsExplanation("Wrong user name or password at the Microsoft sign-in.",
                             "Sign in again with the right account.", GuideSection.M365_PORTAL_SETTINGS),
    50076: AadstsExplanation(
        "Multi-factor authentication is required and the stored refresh token predates it.",
        SIGN_IN_AGAIN + " Complete the MFA prompt during the sign-in.", GuideSection.M365_OAUTH2_PREREQUISITES),
    50079: AadstsExplanation("The user must register for multi-factor authentication first.",
                             "Sign in once interactively and enrol MFA, then " + SIGN_IN_AGAIN[0].lower()
                             + SIGN_IN_AGAIN[1:], GuideSection.M365_OAUTH2_PREREQUISITES),
    53003: AadstsExplanation(
        "A Conditional Access policy blocked the token.",
        "Entra ID > Sign-in logs shows which policy; exclude this app or allow this sign-in, then sign in again.",
        GuideSection.M365_OAUTH2_PREREQUISITES),
    530035: AadstsExplanation("Security Defaults blocked the sign-in.",
                              "Replace Security Defaults with Conditional Access that allows this sign-in.",
                              GuideSection.M365_OAUTH2_PREREQUISITES),
    50053: AadstsExplanation("The account is locked.", "Unlock the account, then sign in again.",
                             GuideSection.M365_OAUTH2_PREREQUISITES),
    50055: AadstsExplanation("The account's password has expired.", "Change the password, then sign in again.",
                             GuideSection.M365_OAUTH2_PREREQUISITES),
    50057: AadstsExplanation("The account is disabled.", "Enable the account or use another one.",
                             GuideSection.M365_OAUTH2_PREREQUISITES),
    700082: AadstsExplanation(
        "The refresh token has expired (unused for 90 days by default).", SIGN_IN_AGAIN,
        GuideSection.M365_PORTAL_SETTINGS),
    70008: AadstsExplanation("The refresh token has expired.", SIGN_IN_AGAIN, GuideSection.M365_PORTAL_SETTINGS),
    50173: AadstsExplanation(
        "The refresh token was revoked (password change or reset, or an administrator revoked the sessions).",
        SIGN_IN_AGAIN, GuideSection.M365_PORTAL_SETTINGS),
    70043: AadstsExplanation("Conditional Access sign-in frequency expired the refresh token.", SIGN_IN_AGAIN,
                             GuideSection.M365_PORTAL_SETTINGS),
    54005: AadstsExplanation("This sign-in's authorization code was already used.", "Start the sign-in again.",
                             GuideSection.M365_PORTAL_SETTINGS),
    50020: AadstsExplanation("The account that signed in is not a member of this tenant.",
                             "Sign in with an account of this tenant (the sender's own account).",
                             GuideSection.M365_PORTAL_SETTINGS),
    500011: AadstsExplanation("The resource (Exchange Online or Graph) is not present in this tenant.",
                              "The tenant needs a Microsoft 365 subscription that includes Exchange Online.",
                              GuideSection.M365_OAUTH2_PREREQUISITES),
    501481: AadstsExplanation("The sign-in's PKCE code verifier did not match.", "Start the sign-in again.",
                              GuideSection.M365_PORTAL_SETTINGS),
}


def aadsts_code(error: Mapping[str, Any] | str) -> int | None:
    """The AADSTS number of an MSAL error dict or an error text, or None."""
    if isinstance(error, Mapping):
        codes = error.get("error_codes") or []
        if codes and isinstance(codes[0], int):
            return codes[0]
        error = str(error.get("error_description") or "")
    found = _CODE.search(error)
    return int(found.group(1)) if found else None


def server_words(error: Mapping[str, Any] | str) -> str:
    """The server's message without trace/correlation ids (first lines only)."""
    text = str(error.get("error_description") or error.get("error") or "") if isinstance(error, Mapping) else error
    return _NOISE.sub("", text).strip()[:600]


def explain(error: Mapping[str, Any] | str, *, doing: str, status: Status = Status.FAIL) -> Finding:
    """A Finding for an Entra ID error returned while `doing` (e.g. 'getting the SMTP token')."""
    code = aadsts_code(error)
    words = server_words(error)
    known = EXPLANATIONS.get(code) if code is not None else None
    label = f"AADSTS{code}" if code is not None else (error.get("error", "error") if isinstance(error, Mapping)
                                                       else "error")
    if known is None:
        return Finding(status, f"Entra ID refused {doing} ({label}).", details=words,
                       remediation="Look the code up in Entra ID > Sign-in logs (search the correlation id).",
                       guide_section=GuideSection.M365_APP_REGISTRATION, reply=words,
                       facts={"aadsts": code})
    return Finding(status, f"{known.cause} ({label}, while {doing})", details=words, remediation=known.fix,
                   guide_section=known.section, reply=words, facts={"aadsts": code})
