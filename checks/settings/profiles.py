"""The presets from the setup guide: host, port, security, authentication and sender rule per provider."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from checks.knowledge.guide import GuideSection
from checks.settings.config import AuthMethod, Cloud, ProfileId, RelayConfig, Security
from checks.settings.providers import PROVIDERS, Provider, provider_of_host


class SenderRule(StrEnum):
    SAME_AS_USERNAME = "same-as-username"  # Gmail and M365 basic: sender = the signed-in address
    PRIMARY_OF_SIGNED_IN_USER = "primary-of-signed-in-user"  # M365 OAuth2: primary SMTP address, no alias
    ANY = "any"


@dataclass(frozen=True)
class Profile:
    id: ProfileId
    label: str
    port: int
    security: Security
    auth: AuthMethod
    sender_rule: SenderRule
    provider: Provider | None  # None: a custom server
    guide_section: GuideSection

    @property
    def host(self) -> str:
        """The guide's SMTP host (worldwide cloud); empty for a custom server."""
        return self.host_for(Cloud.GLOBAL)

    def host_for(self, cloud: Cloud) -> str:
        return PROVIDERS[self.provider].guide_host(cloud) if self.provider else ""


PROFILES: dict[ProfileId, Profile] = {
    p.id: p
    for p in (
        Profile(ProfileId.GMAIL, "Gmail (app password)", 587, Security.STARTTLS,
                AuthMethod.PASSWORD, SenderRule.SAME_AS_USERNAME, Provider.GOOGLE, GuideSection.GMAIL_SETTINGS),
        Profile(ProfileId.WORKSPACE, "Google Workspace (app password)", 587, Security.STARTTLS,
                AuthMethod.PASSWORD, SenderRule.SAME_AS_USERNAME, Provider.GOOGLE, GuideSection.GMAIL_SETTINGS),
        Profile(ProfileId.M365_BASIC, "Microsoft 365 (basic auth)", 587, Security.STARTTLS,
                AuthMethod.PASSWORD, SenderRule.SAME_AS_USERNAME, Provider.MICROSOFT, GuideSection.M365_BASIC_SETTINGS),
        Profile(ProfileId.M365_OAUTH2, "Microsoft 365 (OAuth2)", 587, Security.STARTTLS,
                AuthMethod.OAUTH2, SenderRule.PRIMARY_OF_SIGNED_IN_USER, Provider.MICROSOFT,
                GuideSection.M365_PORTAL_SETTINGS),
        Profile(ProfileId.CUSTOM, "Custom SMTP server", 587, Security.STARTTLS,
                AuthMethod.PASSWORD, SenderRule.ANY, None, GuideSection.NETWORK),
    )
}


def profile(profile_id: ProfileId | str) -> Profile:
    return PROFILES[ProfileId(profile_id)]


def relay_provider(config: RelayConfig) -> Provider | None:
    """The relay's provider: from the host name, else from the profile (None for a custom server)."""
    return provider_of_host(config.host) or profile(config.profile).provider
