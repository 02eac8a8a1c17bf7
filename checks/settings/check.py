"""`settings`: the values entered match the setup guide (no network): addresses, app password, port, host."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from checks.knowledge.guide import GuideSection
from checks.model import Facts, Finding, Status
from checks.run_state import CheckContext
from checks.settings.config import AuthMethod, ProfileId, RelayConfig, Security
from checks.settings.profiles import SenderRule, profile
from checks.settings.providers import PROVIDERS, Provider

BASIC_AUTH_OFF_BY_DEFAULT = dt.date(2026, 12, 31)  # Exchange Team blog, 27 Jan 2026 (docs/providers.md)
GOOGLE_CONSUMER_DOMAINS = ("gmail.com", "googlemail.com")
RANK = {Status.PASS: 0, Status.WARN: 1, Status.FAIL: 2}


@dataclass(frozen=True)
class Observation:
    status: Status
    text: str
    fix: str = ""
    section: GuideSection | None = None


@dataclass(frozen=True)
class SettingsFacts(Facts):
    """settings: the date Microsoft switches Basic auth off for SMTP AUTH, when it concerns this setup."""

    basic_auth_off: str | None = None  # ISO date


def _addresses(config: RelayConfig) -> list[Observation]:
    preset = profile(config.profile)
    found = []
    if preset.sender_rule is SenderRule.SAME_AS_USERNAME and config.sender and config.username \
            and config.sender.lower() != config.username.lower():
        where = "Gmail rewrites the From address to the signed-in account" if preset.provider is Provider.GOOGLE \
            else "Microsoft 365 refuses it (550 5.7.60) unless the account has Send As rights on that address"
        found.append(Observation(Status.WARN, f"Sender {config.sender} differs from username {config.username}: "
                                 f"{where}.", f"Set the sender to {config.username}, as the guide says.",
                                 preset.guide_section))
    if config.profile is ProfileId.GMAIL and config.username and \
            config.username.rpartition("@")[2].lower() not in GOOGLE_CONSUMER_DOMAINS:
        found.append(Observation(Status.PASS, f"{config.username} is not a gmail.com address: this is a Google "
                                 "Workspace account (same settings; the Workspace admin must allow app passwords)."))
    return found


def _app_password(config: RelayConfig) -> list[Observation]:
    if config.profile not in (ProfileId.GMAIL, ProfileId.WORKSPACE) or not config.password:
        return []
    raw = config.password.reveal()
    compact = raw.replace(" ", "")
    if len(compact) == 16 and compact.isalpha():
        if " " in raw:
            return [Observation(Status.WARN, "The app password was pasted with its spaces (Google shows it in "
                                "four groups of four letters).", "Enter the 16 letters without spaces.",
                                GuideSection.GMAIL_APP_PASSWORD)]
        return [Observation(Status.PASS, "The password has the shape of a Google app password (16 letters).")]
    return [Observation(Status.WARN, "The password does not look like a Google app password (16 letters): "
                        "Google refuses ordinary account passwords for SMTP.",
                        "Turn on 2-Step Verification, then create an app password at "
                        "https://myaccount.google.com/apppasswords and use it as the password.",
                        GuideSection.GMAIL_APP_PASSWORD)]


def _port_and_security(config: RelayConfig) -> list[Observation]:
    port, security = config.port, config.security
    preset = profile(config.profile)
    if port == 587 and security is Security.TLS:
        return [Observation(Status.FAIL, "Port 587 uses STARTTLS, not implicit TLS.",
                            "Set security to STARTTLS (the guide's 'TLS') for port 587.", GuideSection.NETWORK)]
    if port == 465 and security is Security.STARTTLS:
        return [Observation(Status.FAIL, "Port 465 uses implicit TLS, not STARTTLS.",
                            "Set security to implicit TLS for port 465, or use port 587 with STARTTLS.",
                            GuideSection.NETWORK)]
    if security is Security.NONE:
        status = Status.FAIL if preset.provider else Status.WARN
        return [Observation(status, "No encryption: the password would cross the network in clear text, and "
                            "providers refuse AUTH without TLS.", "Use STARTTLS on port 587.", GuideSection.NETWORK)]
    if port == 25:
        return [Observation(Status.WARN, "Port 25 is often blocked for outbound traffic by ISPs and cloud hosts.",
                            "Use port 587 with STARTTLS, as the guide says.", GuideSection.NETWORK)]
    if preset.provider and port != 587 and not config.connect_to:
        return [Observation(Status.WARN, f"The guide uses port 587 for {preset.label}, not {port}.",
                            "Set port 587 with STARTTLS.", preset.guide_section)]
    return [Observation(Status.PASS, f"Port {port} with {security.value} is a standard pair.")]


def _host(config: RelayConfig) -> list[Observation]:
    preset = profile(config.profile)
    if not preset.provider:
        return []
    expected = preset.host_for(config.cloud)
    host = config.host.lower().rstrip(".")
    if host == expected:
        return [Observation(Status.PASS, f"Host {expected} as in the guide.")]
    service = PROVIDERS[preset.provider].service(config.cloud)
    tenancy = next((t for t in service.tenancies if host in t.smtp_hosts), None)
    if tenancy is not None:
        return [Observation(Status.PASS, f"Host {host}: {PROVIDERS[preset.provider].name}'s host for "
                            f"{tenancy.name} tenants.")]
    return [Observation(Status.WARN, f"The host {config.host} is not the guide's {expected}.",
                        f"Set the SMTP server to {expected}.", preset.guide_section)]


def _basic_auth_deadline(config: RelayConfig, today: dt.date) -> list[Observation]:
    if config.profile is not ProfileId.M365_BASIC and not (
            config.auth is AuthMethod.PASSWORD and profile(config.profile).provider is Provider.MICROSOFT):
        return []
    days = (BASIC_AUTH_OFF_BY_DEFAULT - today).days
    when = (f"at the end of December 2026 ({days} days from now)" if days >= 0
            else "since the end of December 2026")
    return [Observation(Status.WARN, f"Microsoft disables Basic authentication for SMTP AUTH by default {when}; "
                        "tenants created after that have it off.",
                        "Move this setup to OAuth2 (Microsoft 365 OAuth2 profile) before then; an admin can "
                        "re-enable Basic auth only until Microsoft's final removal date.",
                        GuideSection.M365_OAUTH2_PREREQUISITES)]


def check_settings(ctx: CheckContext) -> Finding:
    config = ctx.config
    deadline = _basic_auth_deadline(config, ctx.deps.now().date())
    facts = SettingsFacts(BASIC_AUTH_OFF_BY_DEFAULT.isoformat() if deadline else None)
    observations = _host(config) + _port_and_security(config) + _addresses(config) + _app_password(config) + deadline
    if not observations:
        return Finding(Status.PASS, "Settings are complete.", facts=facts)
    worst = max((o.status for o in observations), key=RANK.__getitem__)
    marks = {Status.PASS: "ok", Status.WARN: "warning", Status.FAIL: "wrong"}
    details = "\n".join(f"[{marks[o.status]}] {o.text}" for o in observations)
    problems = [o for o in observations if o.status is not Status.PASS]
    if not problems:
        return Finding(Status.PASS, "Settings match the setup guide.", details=details, facts=facts)
    summary = problems[0].text if len(problems) == 1 else f"{len(problems)} settings differ from the setup guide."
    section = next((o.section for o in problems if o.section), None)
    return Finding(worst, summary, details=details,
                   remediation="\n".join(o.fix for o in problems if o.fix),
                   guide_section=section.value if section else "", facts=facts)
