"""Audit of tenant-wide policies: Security Defaults and the Conditional Access policies that reach the relay."""

from __future__ import annotations

from typing import Any

from checks.audit.graph_reads import TenantSnapshot
from checks.audit.reading import unreadable
from checks.audit.request import AuditInput
from checks.knowledge.guide import GuideSection
from checks.model import Finding, Status
from checks.oauth.endpoints import EXCHANGE_APP_ID

LEGACY_CLIENTS = frozenset({"exchangeActiveSync", "easSupported", "other"})  # Basic-auth protocols such as SMTP AUTH
EXCHANGE_TARGETS = frozenset({"All", "Office365", EXCHANGE_APP_ID})
STATES = {"enabled": "on", "enabledForReportingButNotEnforced": "report-only", "disabled": "off"}
BASIC = "m365-basic"


def check_security_defaults(snapshot: TenantSnapshot, request: AuditInput) -> Finding:
    """audit.security_defaults: on, they block Basic-auth SMTP and make every admin sign-in use MFA."""
    answer = snapshot.security_defaults
    if not answer.ok:
        return unreadable(answer, what="Security Defaults", permission="Policy.Read.All")
    enabled = answer.body.get("isEnabled") is True
    facts = {"security_defaults": enabled}
    if not enabled:
        return Finding(Status.PASS, "Security Defaults are off (the tenant uses its own policies).", facts=facts)
    basic = request.relay_profile == BASIC
    return Finding(
        Status.FAIL if basic else Status.WARN,
        "Security Defaults are on: they block SMTP AUTH with a password (Basic auth)"
        + (", which this setup uses." if basic else "; OAuth2 still works, and the admin's sign-in needs MFA."),
        remediation=("Use OAuth2 (the guide's Microsoft 365 OAuth2 setup), or replace Security Defaults with "
                     "Conditional Access policies: Entra ID > Overview > Properties > Manage security defaults.")
        if basic else "Nothing to change for OAuth2; keep the admin's MFA method at hand for the portal's sign-in.",
        guide_section=GuideSection.M365_OAUTH2_PREREQUISITES, facts=facts)


def _applies_to_exchange(conditions: dict[str, Any]) -> bool:
    apps = conditions.get("applications") or {}
    included = set(apps.get("includeApplications") or [])
    excluded = set(apps.get("excludeApplications") or [])
    return bool(included & EXCHANGE_TARGETS) and not excluded & {"Office365", EXCHANGE_APP_ID}


def _user_scope(conditions: dict[str, Any], user_id: str) -> str:
    """'yes', 'no' or 'maybe' (through groups or roles, which the audit does not expand)."""
    users = conditions.get("users") or {}
    if user_id and user_id in (users.get("excludeUsers") or []):
        return "no"
    if "All" in (users.get("includeUsers") or []) or (user_id and user_id in (users.get("includeUsers") or [])):
        return "maybe" if users.get("excludeGroups") or users.get("excludeRoles") else "yes"
    return "maybe" if users.get("includeGroups") or users.get("includeRoles") else "no"


def _effect(policy: dict[str, Any], basic: bool) -> tuple[str, str]:
    """(severity 'block'|'warn'|'note', what the policy does to this relay)."""
    conditions = policy.get("conditions") or {}
    clients = set(conditions.get("clientAppTypes") or ["all"])
    controls = set((policy.get("grantControls") or {}).get("builtInControls") or [])
    session = (policy.get("sessionControls") or {}) or {}
    frequency = session.get("signInFrequency") or {}
    legacy_only = clients <= LEGACY_CLIENTS
    if "block" in controls:
        if legacy_only:
            return ("block", "blocks legacy authentication, which password SMTP AUTH is") if basic \
                else ("note", "blocks legacy authentication only (OAuth2 is not affected)")
        return "block", "blocks sign-ins to Exchange Online for the sender"
    if frequency.get("isEnabled"):
        every = f"every {frequency.get('value')} {frequency.get('type')}" if frequency.get("value") else "every time"
        return "warn", f"forces a new sign-in {every}: the portal's refresh token then stops working (AADSTS70043)"
    if "mfa" in controls:
        return "note", "requires MFA at sign-in (the admin's interactive sign-in satisfies it)"
    return "note", f"requires {', '.join(sorted(controls)) or 'nothing'} at sign-in"


def check_conditional_access(snapshot: TenantSnapshot, request: AuditInput) -> Finding:
    """audit.conditional_access: policies on all cloud apps or Exchange Online, with name, state and effect."""
    answer = snapshot.conditional_access
    if not answer.ok:
        return unreadable(answer, what="the Conditional Access policies", permission="Policy.Read.All")
    user = snapshot.sender_user or {}
    basic = request.relay_profile == BASIC
    lines, blocking, warnings, listed = [], [], [], []
    for policy in answer.body.get("value") or []:
        conditions = policy.get("conditions") or {}
        state = str(policy.get("state", ""))
        if state == "disabled" or not _applies_to_exchange(conditions):
            continue
        scope = _user_scope(conditions, str(user.get("id", "")))
        if scope == "no":
            continue
        severity, effect = _effect(policy, basic)
        name = str(policy.get("displayName") or policy.get("id"))
        through = " (through a group or role: check its members)" if scope == "maybe" else ""
        lines.append(f"'{name}' ({STATES.get(state, state)}): {effect}{through}.")
        listed.append({"name": name, "state": state, "effect": effect, "scope": scope})
        if state != "enabled":
            continue
        if severity == "block":
            (blocking if scope == "yes" else warnings).append(name)
        elif severity == "warn":
            warnings.append(name)
    facts = {"policies": listed}
    details = "\n".join(lines) or "No enabled policy targets all cloud apps or Exchange Online for the sender."
    fix = ("Entra ID > Conditional Access > Policies > the policy > Users > Exclude the sender, or Target resources "
           "> Exclude 'Office 365 Exchange Online'; or set it to report-only while you test.")
    section = GuideSection.M365_OAUTH2_PREREQUISITES
    if blocking:
        return Finding(Status.FAIL, f"Conditional Access blocks the sender: {', '.join(repr(n) for n in blocking)}.",
                       details=details, remediation=fix, guide_section=section, facts=facts)
    if warnings:
        return Finding(Status.WARN, f"Conditional Access may interfere: {', '.join(repr(n) for n in warnings)}.",
                       details=details, remediation=fix, guide_section=section, facts=facts)
    return Finding(Status.PASS, f"No Conditional Access policy blocks the sender ({len(lines)} policy(ies) reach "
                   "Exchange Online).", details=details, facts=facts)
