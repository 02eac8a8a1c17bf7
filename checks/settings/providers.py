"""The mail providers the setup guide covers and every fact the checks use about them, in one table.

Hosts per cloud (and per tenancy inside a cloud: GCC High and DoD share the US Government cloud but not all
hosts), the SPF include and MX host suffixes per cloud, display names and the alternative submission ports.
Sources for each fact: docs/providers.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from checks.settings.config import Cloud, Security


class Provider(StrEnum):
    GOOGLE = "google"
    MICROSOFT = "microsoft"


@dataclass(frozen=True)
class Tenancy:
    """Whom a set of endpoints serves inside one cloud (worldwide, GCC High, DoD, 21Vianet)."""

    name: str
    smtp_hosts: tuple[str, ...]  # submission hosts on 587; the first is the setup guide's
    legacy_tls_hosts: tuple[str, ...] = ()  # opt-in endpoints for TLS 1.0/1.1 clients (a stopgap, not the guide's)
    graph: str = ""  # a Microsoft Graph root other than the cloud's (checks/oauth/endpoints.py); DoD has its own


@dataclass(frozen=True)
class CloudService:
    """One provider's mail service in one cloud."""

    cloud: Cloud
    tenancies: tuple[Tenancy, ...]  # the first is the default for the cloud
    spf_include: str  # what a sender domain's SPF record includes to let this service send for it
    mx_suffixes: tuple[str, ...]  # MX host names of domains whose mail this service receives end so


@dataclass(frozen=True)
class ProviderFacts:
    """One provider: its name, its services per cloud and the ports it also accepts."""

    provider: Provider
    name: str
    services: tuple[CloudService, ...]  # the first is the worldwide service
    alternative_ports: tuple[tuple[int, Security], ...]  # in order of preference, when the configured port fails
    dkim_selectors: tuple[str, ...] = ()  # <selector>._domainkey.<sender domain> it signs with once set up
    dkim_setup: str = ""  # where an admin turns DKIM signing on for a domain
    own_domains: tuple[str, ...] = ()  # its consumer domains: it publishes their SPF, DKIM and DMARC itself

    def service(self, cloud: Cloud) -> CloudService:
        """The service for `cloud`, the worldwide one when the provider has no separate national cloud."""
        return next((s for s in self.services if s.cloud is cloud), self.services[0])

    def guide_host(self, cloud: Cloud = Cloud.GLOBAL) -> str:
        return self.service(cloud).tenancies[0].smtp_hosts[0]

    def hosts(self, cloud: Cloud) -> tuple[str, ...]:
        """The submission hosts of `cloud` (every tenancy), legacy-TLS endpoints left out."""
        return tuple(h for t in self.service(cloud).tenancies for h in t.smtp_hosts)

    @property
    def all_hosts(self) -> frozenset[str]:
        """Every relay host of the provider, legacy-TLS endpoints included."""
        return frozenset(h for s in self.services for t in s.tenancies for h in (*t.smtp_hosts, *t.legacy_tls_hosts))

    @property
    def spf_includes(self) -> tuple[str, ...]:
        return tuple(s.spf_include for s in self.services)

    @property
    def spf_domains(self) -> tuple[str, ...]:
        """The domains an SPF include:/redirect= names to authorise the provider (every cloud)."""
        return tuple(include.partition(":")[2] for include in self.spf_includes)

    @property
    def mx_suffixes(self) -> tuple[str, ...]:
        return tuple(suffix for s in self.services for suffix in s.mx_suffixes)


PROVIDERS: dict[Provider, ProviderFacts] = {
    facts.provider: facts
    for facts in (
        ProviderFacts(
            Provider.GOOGLE, "Google (Gmail/Workspace)",
            (CloudService(Cloud.GLOBAL, (Tenancy("Gmail and Google Workspace", ("smtp.gmail.com",)),),
                          "include:_spf.google.com", (".google.com", ".googlemail.com")),),
            alternative_ports=((465, Security.TLS), (587, Security.STARTTLS)),
            dkim_selectors=("google",),
            dkim_setup="Google Admin console > Apps > Google Workspace > Gmail > Authenticate email > Generate new "
                       "record; publish it as the TXT record google._domainkey.<domain>, then Start authentication.",
            own_domains=("gmail.com", "googlemail.com"),
        ),
        ProviderFacts(
            Provider.MICROSOFT, "Microsoft 365",
            (
                CloudService(Cloud.GLOBAL, (Tenancy("worldwide and GCC", ("smtp.office365.com",),
                                                    legacy_tls_hosts=("smtp-legacy.office365.com",)),),
                             "include:spf.protection.outlook.com", (".mail.protection.outlook.com",)),
                CloudService(Cloud.USGOV, (Tenancy("GCC High", ("smtp.office365.us", "outlook.office365.us")),
                                           Tenancy("DoD", ("outlook-dod.office365.us",),
                                                   graph="https://dod-graph.microsoft.us")),
                             "include:spf.protection.office365.us", (".mail.protection.office365.us",)),
                # 21Vianet's smtp-legacy.partner.outlook.cn has refused TLS 1.0/1.1 since 30 June 2023: no legacy host.
                CloudService(Cloud.CHINA, (Tenancy("21Vianet", ("smtp.partner.outlook.cn",)),),
                             "include:spf.protection.partner.outlook.cn", (".mail.protection.partner.outlook.cn",)),
            ),
            alternative_ports=((25, Security.STARTTLS), (587, Security.STARTTLS)),
            dkim_selectors=("selector1", "selector2"),
            dkim_setup="Microsoft Defender portal > Email & collaboration > Policies & rules > Threat policies > "
                       "Email authentication settings > DKIM > the domain: publish the two CNAME records it shows "
                       "(selector1._domainkey and selector2._domainkey), then turn on 'Sign messages for this domain "
                       "with DKIM signatures'.",
            own_domains=("outlook.com", "hotmail.com", "live.com"),
        ),
    )
}

# A custom server: implicit TLS on 465 is the usual other submission port.
OTHER_ALTERNATIVE_PORTS = ((465, Security.TLS), (587, Security.STARTTLS))
KNOWN_RELAY_HOSTS = frozenset(h for facts in PROVIDERS.values() for h in facts.all_hosts)


def _name(host: str) -> str:
    return host.lower().rstrip(".")


def provider_of_host(host: str) -> Provider | None:
    """The provider a relay host name belongs to, or None for any other server."""
    name = _name(host)
    return next((p for p, facts in PROVIDERS.items() if name in facts.all_hosts), None)


def provider_of_mx(exchange: str) -> Provider | None:
    """The provider receiving mail for a domain with this MX host name, or None."""
    name = "." + _name(exchange)
    return next((p for p, facts in PROVIDERS.items() if name.endswith(facts.mx_suffixes)), None)


def tenancy_of_host(host: str) -> tuple[ProviderFacts, CloudService, Tenancy] | None:
    """Where a known relay host belongs: provider, cloud and tenancy (legacy-TLS endpoints included)."""
    name = _name(host)
    for facts in PROVIDERS.values():
        for service in facts.services:
            for tenancy in service.tenancies:
                if name in tenancy.smtp_hosts or name in tenancy.legacy_tls_hosts:
                    return facts, service, tenancy
    return None


def provider_managed_domain(domain: str) -> bool:
    """True for a provider's own consumer domain (gmail.com, outlook.com): nothing there for the user to publish."""
    return any(domain.lower() in facts.own_domains for facts in PROVIDERS.values())


def display_name(provider: Provider | None, *, other: str = "another provider or a mail gateway") -> str:
    return PROVIDERS[provider].name if provider else other


def alternative_port(provider: Provider | None, port: int) -> tuple[int, Security]:
    """The port the provider also accepts, other than `port` (Gmail: 465 implicit TLS; Microsoft 365: 25)."""
    choices = PROVIDERS[provider].alternative_ports if provider else OTHER_ALTERNATIVE_PORTS
    return next(choice for choice in choices if choice[0] != port)
