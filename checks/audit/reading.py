"""How the audit reports a part of the tenant that Graph would not show (missing permission or role, an error)."""

from __future__ import annotations

from checks.knowledge.guide import GuideSection
from checks.model import Finding, Status
from checks.oauth.graph import GraphAnswer

ROLES = "Global Reader (or Global Administrator)"


def unreadable(answer: GraphAnswer, *, what: str, permission: str) -> Finding:
    """A skip that says which read failed and what the sign-in or the admin's role lacks."""
    if answer.status in (401, 403):
        return Finding(Status.SKIP, f"Could not read {what}: Microsoft Graph refused ({answer.error or answer.status}).",
                       details=f"The audit's sign-in needs the delegated permission {permission}, and the admin "
                               f"who signs in needs a role that may read it ({ROLES}).",
                       remediation=f"Sign in to the audit as an administrator and accept the permission {permission}.",
                       guide_section=GuideSection.M365_PERMISSIONS)
    return Finding(Status.SKIP, f"Could not read {what}: Microsoft Graph answered HTTP {answer.status}"
                   + (f" ({answer.error})." if answer.error else "."),
                   remediation="Run the audit again; if it persists, check the Tenant ID and the cloud.")
