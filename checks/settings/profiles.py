"""The presets from the setup guide: host, port, security, authentication and sender rule per provider."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from checks.knowledge.guide import GuideSection
from checks.settings.config import AuthMethod, ProfileId, Security


class SenderRule(StrEnum):
    SAME_AS_USERNAME = "same-as-username"  # Gmail and M365 basic: sender = the signed-in address
    PRIMARY_OF_SIGNED_IN_USER = "primary-of-signed-in-user"  # M365 OAuth2: primary SMTP address, no alias
    ANY = "any"


@dataclass(frozen=True)
class Profile:
    id: ProfileId
    label: str
    host: str
    port: int
    security: Security
    auth: AuthMethod
    sender_rule: SenderRule
    provider: str  # "google", "microsoft" or "" for custom
    guide_section: GuideSection


PROFILES: dict[ProfileId, Profile] = {
    p.id: p
    for p in (
        Profile(ProfileId.GMAIL, "Gmail (app password)", "smtp.gmail.com", 587, Security.STARTTLS,
                AuthMethod.PASSWORD, SenderRule.SAME_AS_USERNAME, "google", GuideSection.GMAIL_SETTINGS),
        Profile(ProfileId.WORKSPACE, "Google Workspace (app password)", "smtp.gmail.com", 587, Security.STARTTLS,
                AuthMethod.PASSWORD, SenderRule.SAME_AS_USERNAME, "google", GuideSection.GMAIL_SETTINGS),
        Profile(ProfileId.M365_BASIC, "Microsoft 365 (basic auth)", "smtp.office365.com", 587, Security.STARTTLS,
                AuthMethod.PASSWORD, SenderRule.SAME_AS_USERNAME, "microsoft", GuideSection.M365_BASIC_SETTINGS),
        Profile(ProfileId.M365_OAUTH2, "Microsoft 365 (OAuth2)", "smtp.office365.com", 587, Security.STARTTLS,
                AuthMethod.OAUTH2, SenderRule.PRIMARY_OF_SIGNED_IN_USER, "microsoft",
                GuideSection.M365_PORTAL_SETTINGS),
        Profile(ProfileId.CUSTOM, "Custom SMTP server", "", 587, Security.STARTTLS,
                AuthMethod.PASSWORD, SenderRule.ANY, "", GuideSection.NETWORK),
    )
}

# National clouds change the M365 SMTP host (docs/providers.md).
M365_HOSTS = {"global": "smtp.office365.com", "usgov": "smtp.office365.us", "china": "smtp.partner.outlook.cn"}
GOOGLE_HOSTS = frozenset({"smtp.gmail.com"})
MICROSOFT_HOSTS = frozenset(M365_HOSTS.values()) | {"smtp-legacy.office365.com"}


def profile(profile_id: ProfileId | str) -> Profile:
    return PROFILES[ProfileId(profile_id)]


def provider_of_host(host: str) -> str:
    """'google', 'microsoft' or '' for a relay host name."""
    host = host.lower().rstrip(".")
    if host in GOOGLE_HOSTS:
        return "google"
    if host in MICROSOFT_HOSTS:
        return "microsoft"
    return ""
