"""Audit of the app registration: single tenant, the Web redirect URI, the API permissions, consent, the secret."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from checks.audit.graph_reads import TenantSnapshot
from checks.audit.reading import unreadable
from checks.audit.request import AuditInput
from checks.knowledge.guide import GuideSection
from checks.model import Finding, Status
from checks.oauth.endpoints import EXCHANGE_APP_ID, GRAPH_APP_ID
from checks.oauth.permissions import GRAPH_PERMISSIONS, SMTP_SEND
from checks.settings.config import is_guid
from checks.settings.limits import SECRET_WARNING_DAYS

GRAPH_NEEDED = (*GRAPH_PERMISSIONS, "User.Read")  # the guide's Graph permissions, with the default User.Read
# SMTP_SEND: the portal lists it under Microsoft Graph; Exchange Online's API also offers it
RESOURCE_NAMES = {GRAPH_APP_ID: "Microsoft Graph", EXCHANGE_APP_ID: "Office 365 Exchange Online"}
AUDIENCES = {
    "AzureADMyOrg": "Accounts in this organizational directory only (single tenant)",
    "AzureADMultipleOrgs": "Accounts in any organizational directory (multitenant)",
    "AzureADandPersonalMicrosoftAccount": "Accounts in any organizational directory and personal Microsoft accounts",
    "PersonalMicrosoftAccount": "Personal Microsoft accounts only",
}
CONSENT_FIX = ("API permissions > Grant admin consent for <your organisation> > Yes; every row's Status must then read "
               "'Granted for <your organisation>'.")


def app_missing(snapshot: TenantSnapshot, request: AuditInput) -> Finding | None:
    """The shared first step of every app check: the registration must be readable and exist."""
    if not is_guid(request.client_id):
        return Finding(Status.FAIL, "The Client ID is not a GUID, so no app registration can have it.",
                       remediation="Client ID = the Application (client) ID on the app's Overview page.",
                       guide_section=GuideSection.M365_APP_REGISTRATION)
    if not snapshot.application.ok:
        return unreadable(snapshot.application, what="the app registration", permission="Application.Read.All")
    if snapshot.app is None:
        return Finding(Status.FAIL, f"This tenant has no app registration with the client ID {request.client_id}.",
                       remediation="Client ID = the Application (client) ID on the app's Overview page; sign in to "
                                   "the audit with an administrator of the tenant where the app is registered.",
                       guide_section=GuideSection.M365_APP_REGISTRATION)
    return None


def check_audience(snapshot: TenantSnapshot, request: AuditInput) -> Finding:
    """audit.app_audience: the app accepts accounts of this organisation only (the guide's 'single tenant')."""
    problem = app_missing(snapshot, request)
    if problem is not None:
        return problem
    audience = str(snapshot.app.get("signInAudience") or "")
    label = AUDIENCES.get(audience, audience or "(not set)")
    facts = {"signInAudience": audience}
    if audience == "AzureADMyOrg":
        return Finding(Status.PASS, f"Supported account types: {label}.", facts=facts)
    return Finding(Status.FAIL, f"The app is registered for '{label}' (signInAudience {audience}), not for this "
                   "organisation only.",
                   remediation="Authentication > Supported account types > 'Accounts in this organizational directory "
                               "only (Single tenant)' > Save (or set signInAudience to AzureADMyOrg in the Manifest).",
                   guide_section=GuideSection.M365_APP_REGISTRATION, facts=facts)


def _uris(app: dict[str, Any], platform: str) -> list[str]:
    section = app.get(platform) if isinstance(app.get(platform), dict) else {}
    return [str(u) for u in section.get("redirectUris") or []]


def check_redirect(snapshot: TenantSnapshot, request: AuditInput) -> Finding:
    """audit.app_redirect: a Web platform holding the application's callback exactly."""
    problem = app_missing(snapshot, request)
    if problem is not None:
        return problem
    web, public, spa = (_uris(snapshot.app, p) for p in ("web", "publicClient", "spa"))
    facts = {"web": web, "public_client": public, "spa": spa, "callback": request.app_callback or None}
    listed = "\n".join([f"Web: {u}" for u in web] + [f"Mobile and desktop: {u}" for u in public]
                       + [f"Single-page application: {u}" for u in spa]) or "No redirect URI on any platform."
    add = ("Authentication > Add a platform > Web > enter the redirect URI "
           f"{request.app_callback or 'of the portal'} > Configure.")
    section = GuideSection.M365_APP_REGISTRATION
    if not web:
        elsewhere = " It is registered under another platform, which the portal's sign-in cannot use." \
            if request.app_callback and request.app_callback in public + spa else ""
        return Finding(Status.FAIL, "The app has no Web platform redirect URI." + elsewhere, details=listed,
                       remediation=add, guide_section=section, facts=facts)
    if not request.app_callback:
        return Finding(Status.WARN, f"Web platform present ({len(web)} redirect URI(s)); enter the application's "
                       "callback to compare it.", details=listed, guide_section=section, facts=facts)
    if request.app_callback in web:
        return Finding(Status.PASS, f"The Web platform holds the callback {request.app_callback}.", details=listed,
                       facts=facts)
    close = [u for u in web if u.lower().rstrip("/") == request.app_callback.lower().rstrip("/")]
    hint = f" The registered {close[0]} differs only in case or a trailing '/', and must match exactly." if close \
        else ""
    return Finding(Status.FAIL, f"The Web platform does not hold the callback {request.app_callback}.{hint}",
                   details=listed, remediation=add + " Sign-in fails with AADSTS50011 until it matches exactly.",
                   guide_section=section, facts=facts)


def _scope_names(snapshot: TenantSnapshot, resource_app_id: str) -> tuple[dict[str, str], dict[str, str]]:
    """(scope id -> name, app role id -> name) published by the resource's service principal."""
    answer = snapshot.resources.get(resource_app_id)
    body = answer.body if answer is not None and answer.ok else {}
    scopes = {str(s.get("id")): str(s.get("value")) for s in body.get("oauth2PermissionScopes") or []}
    roles = {str(r.get("id")): str(r.get("value")) for r in body.get("appRoles") or []}
    return scopes, roles


def _needed(held: dict[str, set[str]]) -> list[str]:
    """The guide's permissions missing from `held` (resource appId -> permission names)."""
    graph = held.get(GRAPH_APP_ID, set())
    missing = [p for p in GRAPH_NEEDED if p not in graph]
    if SMTP_SEND not in graph | held.get(EXCHANGE_APP_ID, set()):
        missing.insert(0, SMTP_SEND)
    return missing


def _add_steps(names: Iterable[str]) -> str:
    return "; ".join(f"API permissions > Add a permission > Microsoft Graph > Delegated permissions > {n} > Add "
                     "permissions" for n in names)


def check_permissions(snapshot: TenantSnapshot, request: AuditInput) -> Finding:
    """audit.app_permissions: requiredResourceAccess lists the guide's five delegated permissions."""
    problem = app_missing(snapshot, request)
    if problem is not None:
        return problem
    configured: dict[str, set[str]] = {}
    as_roles: list[str] = []
    for entry in snapshot.app.get("requiredResourceAccess") or []:
        resource = str(entry.get("resourceAppId", ""))
        scopes, roles = _scope_names(snapshot, resource)
        for access in entry.get("resourceAccess") or []:
            key = str(access.get("id"))
            if access.get("type") == "Scope" and key in scopes:
                configured.setdefault(resource, set()).add(scopes[key])
            elif access.get("type") == "Role" and key in roles:
                as_roles.append(roles[key])
    facts = {"configured": {RESOURCE_NAMES.get(r, r): sorted(v) for r, v in configured.items()}}
    shown = "; ".join(f"{RESOURCE_NAMES.get(r, r)}: {', '.join(sorted(v))}" for r, v in configured.items()) \
        or "No delegated permission configured."
    missing = _needed(configured)
    if missing:
        roles_note = [m for m in missing if m in as_roles]
        extra = (f" {', '.join(roles_note)} was added as an Application permission; the guide needs the Delegated "
                 "one.") if roles_note else ""
        return Finding(Status.FAIL, f"API permissions lack {', '.join(missing)}.{extra}", details=shown,
                       remediation=_add_steps(missing) + ". Then " + CONSENT_FIX,
                       guide_section=GuideSection.M365_PERMISSIONS, facts={**facts, "missing": missing})
    return Finding(Status.PASS, "API permissions hold SMTP.Send, Mail.Send, Mail.ReadWrite, User.Read.All and "
                   "User.Read (delegated).", details=shown, facts=facts)


def check_consent(snapshot: TenantSnapshot, request: AuditInput) -> Finding:
    """audit.consent: admin consent (AllPrincipals) for every needed scope, on Graph (or Exchange for SMTP.Send)."""
    problem = app_missing(snapshot, request)
    if problem is not None:
        return problem
    section = GuideSection.M365_PERMISSIONS
    if snapshot.client_principal.status == 404:
        return Finding(Status.FAIL, "The app has no enterprise application (service principal) in this tenant: admin "
                       "consent was never granted.", remediation=CONSENT_FIX, guide_section=section,
                       facts={"missing": _needed({})})
    if not snapshot.client_principal.ok:
        return unreadable(snapshot.client_principal, what="the app's service principal",
                          permission="Application.Read.All")
    if not snapshot.grants.ok:
        return unreadable(snapshot.grants, what="the app's delegated permission grants",
                          permission="DelegatedPermissionGrant.Read.All")
    by_id = {str(a.body.get("id")): app_id for app_id, a in snapshot.resources.items() if a.ok}
    for_all: dict[str, set[str]] = {}
    for_some: dict[str, set[str]] = {}
    for grant in snapshot.grants.body.get("value") or []:
        resource = by_id.get(str(grant.get("resourceId")))
        if resource is None:
            continue
        target = for_all if grant.get("consentType") == "AllPrincipals" else for_some
        target.setdefault(resource, set()).update(str(grant.get("scope") or "").split())
    facts = {"admin_consent": {RESOURCE_NAMES[r]: sorted(v) for r, v in for_all.items()}}
    shown = "; ".join(f"{RESOURCE_NAMES[r]}: {', '.join(sorted(v))}" for r, v in for_all.items()) \
        or "No admin consent (AllPrincipals) recorded."
    missing = _needed(for_all)
    if missing:
        personal = [m for m in missing if m in set().union(*for_some.values())] if for_some else []
        note = (f" {', '.join(personal)} was consented by single users for themselves only, not for the "
                "organisation.") if personal else ""
        return Finding(Status.FAIL, f"Admin consent is missing for {', '.join(missing)}.{note}", details=shown,
                       remediation=CONSENT_FIX, guide_section=section, facts={**facts, "missing": missing})
    return Finding(Status.PASS, "Admin consent is granted for every permission the guide lists.", details=shown,
                   facts=facts)


def _end(credential: dict[str, Any]) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(credential.get("endDateTime")).replace("Z", "+00:00"))
    except ValueError:
        return None


def _label(credential: dict[str, Any]) -> str:
    end = _end(credential)
    return f"'{credential.get('displayName') or '(no description)'}' (expires {end:%Y-%m-%d})" if end \
        else f"'{credential.get('displayName') or '(no description)'}'"


def check_secret(snapshot: TenantSnapshot, request: AuditInput, *, today: dt.date) -> Finding:
    """audit.secret: find the configured secret by its first three characters (Graph's `hint`) and judge its expiry."""
    problem = app_missing(snapshot, request)
    if problem is not None:
        return problem
    section = GuideSection.M365_CLIENT_SECRET
    credentials = [c for c in snapshot.app.get("passwordCredentials") or [] if isinstance(c, dict)]
    listing = "\n".join(_label(c) for c in credentials) or "The app has no client secret."
    facts: dict[str, Any] = {"secrets": [{"displayName": c.get("displayName"), "keyId": c.get("keyId"),
                                          "endDateTime": c.get("endDateTime")} for c in credentials]}
    renew = ("Certificates & secrets > New client secret (2 years suggested); put its Value into the portal and "
             "update the secret expiry date.")
    expired_others = [c for c in credentials if (_end(c) or dt.datetime.max.replace(tzinfo=dt.UTC)).date() < today]
    value = request.client_secret.reveal() if request.client_secret else ""
    if not credentials:
        return Finding(Status.FAIL, "The app has no client secret.", remediation=renew, guide_section=section,
                       facts=facts)
    if not value:
        return Finding(Status.WARN, f"The app has {len(credentials)} client secret(s); enter the configured secret "
                       "to know which one is in use.", details=listing, guide_section=section, facts=facts)
    if any(str(c.get("keyId", "")).lower() == value.strip().lower() for c in credentials):
        return Finding(Status.FAIL, "The configured secret is a Secret ID, not the secret's Value.", details=listing,
                       remediation="Certificates & secrets: the Value column is shown only right after creation; "
                                   "create a new secret and copy its Value.", guide_section=section, facts=facts)
    in_use = [c for c in credentials if c.get("hint") == value[:3]]
    if not in_use:
        return Finding(Status.FAIL, f"None of the app's {len(credentials)} secret(s) starts like the configured one: "
                       "it belongs to another app or was deleted.", details=listing, remediation=renew,
                       guide_section=section, facts=facts)
    current = min(in_use, key=lambda c: _end(c) or dt.datetime.max.replace(tzinfo=dt.UTC))
    end = _end(current)
    facts["in_use"] = {"displayName": current.get("displayName"), "keyId": current.get("keyId"),
                       "endDateTime": current.get("endDateTime")}
    ambiguous = " Several secrets start like the configured one; the earliest expiry is shown." \
        if len(in_use) > 1 else ""
    if end is None:
        return Finding(Status.WARN, f"The secret in use {_label(current)} has no readable expiry.{ambiguous}",
                       details=listing, guide_section=section, facts=facts)
    days = (end.date() - today).days
    if days < 0:
        return Finding(Status.FAIL, f"The secret in use {_label(current)} expired {-days} day(s) ago.{ambiguous}",
                       details=listing, remediation=renew, guide_section=section, facts=facts)
    entered = request.secret_expires
    notes = []
    if entered and entered != end.date():
        notes.append(f"The expiry date entered in the portal ({entered}) differs from Entra ID's ({end:%Y-%m-%d}): "
                     "correct it so the one-month warning comes on time.")
    stale = [c for c in expired_others if c is not current]
    if stale:
        notes.append(f"The app also holds expired secret(s) {', '.join(_label(c) for c in stale)}: delete them under "
                     "Certificates & secrets so nobody puts one back into the portal.")
    if days <= SECRET_WARNING_DAYS:
        notes.insert(0, f"Create a new secret before {end:%Y-%m-%d}.")
    name = current.get("displayName") or "(no description)"
    summary = f"The secret in use is '{name}'; it expires {end:%Y-%m-%d}, in {days} day(s).{ambiguous}"
    if days <= SECRET_WARNING_DAYS or notes:
        return Finding(Status.WARN, summary + " " + " ".join(notes), details=listing,
                       remediation=renew if days <= SECRET_WARNING_DAYS else "", guide_section=section, facts=facts)
    return Finding(Status.PASS, summary, details=listing, facts=facts)
