"""Audit of the sender: an enabled user, an Exchange Online licence, and the sender as its primary SMTP address."""

from __future__ import annotations

from typing import Any

from checks.audit.graph_reads import TenantSnapshot
from checks.audit.reading import unreadable
from checks.audit.request import AuditInput
from checks.knowledge.guide import GuideSection
from checks.model import Finding, Status
from checks.oauth.graph import addresses

GUIDE_RULE = ("Aliases (proxy addresses) and shared mailboxes can't be used to connect through OAuth2. "
              "Please use a primary address.")
SECTION = GuideSection.M365_OAUTH2_PREREQUISITES


def _has_exchange(user: dict[str, Any]) -> bool:
    return any(isinstance(p, dict) and p.get("service") == "exchange" and p.get("capabilityStatus") == "Enabled"
               for p in user.get("assignedPlans") or [])


def is_shared(snapshot: TenantSnapshot, user: dict[str, Any]) -> bool:
    """Graph's userPurpose when readable; else a mailbox whose account cannot sign in and holds no licence."""
    if snapshot.user_purpose is not None:
        return snapshot.user_purpose == "shared"
    return user.get("accountEnabled") is False and not _has_exchange(user) and bool(user.get("proxyAddresses"))


def _user_or_finding(snapshot: TenantSnapshot, request: AuditInput) -> tuple[dict[str, Any] | None, Finding | None]:
    user = snapshot.sender_user
    if user is not None:
        return user, None
    if snapshot.user.status == 404:
        return None, Finding(Status.FAIL, f"No user or mailbox in this tenant has the address {request.sender}.",
                             remediation="The sender must be the primary address of the user who signs in to the "
                                         "portal (myaccount.microsoft.com shows it).",
                             guide_section=GuideSection.M365_PORTAL_SETTINGS)
    return None, unreadable(snapshot.user, what="the sender's user", permission="User.Read.All")


def check_account(snapshot: TenantSnapshot, request: AuditInput) -> Finding:
    """audit.sender_account: the sender is a user that exists, may sign in, and is not a shared mailbox."""
    user, problem = _user_or_finding(snapshot, request)
    if problem is not None:
        return problem
    name = str(user.get("userPrincipalName") or request.sender)
    facts = {"user": name, "account_enabled": user.get("accountEnabled"), "shared": is_shared(snapshot, user)}
    if facts["shared"]:
        return Finding(Status.FAIL, f"{request.sender} is a shared mailbox. {GUIDE_RULE}",
                       remediation="Use a licensed user's own mailbox as sender, and have that user sign in.",
                       guide_section=SECTION, facts=facts)
    if user.get("accountEnabled") is False:
        return Finding(Status.FAIL, f"The account {name} is disabled (sign-in blocked).",
                       remediation="Microsoft 365 admin center > Users > the user > Unblock sign-in (or choose an "
                                   "enabled user).", guide_section=SECTION, facts=facts)
    return Finding(Status.PASS, f"{name} exists and may sign in.", facts=facts)


def check_license(snapshot: TenantSnapshot, request: AuditInput) -> Finding:
    """audit.sender_license: the user holds an enabled Exchange Online service plan (a mailbox to send from)."""
    user, problem = _user_or_finding(snapshot, request)
    if problem is not None:
        return problem
    name = str(user.get("userPrincipalName") or request.sender)
    plans = sorted({str(p.get("service")) for p in user.get("assignedPlans") or []
                    if isinstance(p, dict) and p.get("capabilityStatus") == "Enabled"})
    facts = {"services": plans}
    if _has_exchange(user):
        return Finding(Status.PASS, f"{name} holds an Exchange Online service plan.", facts=facts)
    if is_shared(snapshot, user):
        return Finding(Status.SKIP, f"{name} is a shared mailbox, which needs no licence but cannot send through "
                       "OAuth2 either (see audit.sender_account).", facts=facts)
    return Finding(Status.FAIL, f"{name} holds no Exchange Online service plan (no licensed mailbox).",
                   details=f"Enabled services: {', '.join(plans) or 'none'}.",
                   remediation="Microsoft 365 admin center > Users > the user > Licenses and apps > assign a licence "
                               "that includes Exchange Online (e.g. Microsoft 365 Business Basic).",
                   guide_section=SECTION, facts=facts)


def check_address(snapshot: TenantSnapshot, request: AuditInput) -> Finding:
    """audit.sender_address: the sender is the user's primary SMTP address ('SMTP:' in proxyAddresses)."""
    user, problem = _user_or_finding(snapshot, request)
    if problem is not None:
        return problem
    primary, aliases = addresses(user)
    facts = {"primary": primary, "aliases": aliases}
    if request.sender.lower() == primary.lower():
        return Finding(Status.PASS, f"{request.sender} is the primary SMTP address of its user.", facts=facts)
    return Finding(Status.FAIL, f"{request.sender} is an alias of {user.get('userPrincipalName') or primary}, whose "
                   f"primary address is {primary}. {GUIDE_RULE}", remediation=f"Change the sender to {primary}.",
                   guide_section=SECTION, facts=facts)
