"""Entra ID / Graph / Exchange endpoints per cloud, with the https overrides used for private test endpoints."""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import quote, urlsplit

from checks.settings.config import Cloud, RelayConfig
from checks.settings.providers import tenancy_of_host

# Resource identifiers (the `aud` of a token) are fixed per cloud; the hosts we talk to may be overridden.
EXCHANGE_APP_ID = "00000002-0000-0ff1-ce00-000000000000"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
MICROSOFT_LOGIN_HOSTS = frozenset({
    "login.microsoftonline.com", "login.microsoft.com", "login.windows.net",
    "login.microsoftonline.us", "login.partner.microsoftonline.cn",
})


@dataclass(frozen=True)
class CloudEndpoints:
    """One national cloud's public endpoints and resource identifiers (docs/providers.md)."""

    cloud: Cloud
    label: str
    login: str
    graph: str
    exchange_delegated: str  # audience of the delegated SMTP.Send token
    exchange_app: str  # resource of the app-only token (SMTP.SendAsApp)
    cloud_instance_name: str  # what openid-configuration reports for a tenant of this cloud


CLOUDS: dict[Cloud, CloudEndpoints] = {
    Cloud.GLOBAL: CloudEndpoints(Cloud.GLOBAL, "Microsoft global cloud", "https://login.microsoftonline.com",
                                 "https://graph.microsoft.com", "https://outlook.office.com",
                                 "https://outlook.office365.com", "microsoftonline.com"),
    Cloud.USGOV: CloudEndpoints(Cloud.USGOV, "US Government cloud (GCC High / DoD)",
                                "https://login.microsoftonline.us", "https://graph.microsoft.us",
                                "https://outlook.office365.us", "https://outlook.office365.us", "microsoftonline.us"),
    Cloud.CHINA: CloudEndpoints(Cloud.CHINA, "China cloud (21Vianet)", "https://login.partner.microsoftonline.cn",
                                "https://microsoftgraph.chinacloudapi.cn", "https://partner.outlook.cn",
                                "https://partner.outlook.cn", "partner.microsoftonline.cn"),
}


def cloud_of_instance(name: str) -> CloudEndpoints | None:
    """The cloud whose openid-configuration `cloud_instance_name` is `name`, if any."""
    return next((c for c in CLOUDS.values() if c.cloud_instance_name == (name or "").lower()), None)


@dataclass(frozen=True)
class Endpoints:
    """Where this run talks to (login_base, graph_base) and which resources it asks tokens for."""

    cloud: CloudEndpoints
    login_base: str
    graph_base: str

    @property
    def instance_discovery(self) -> bool:
        """MSAL may ask Microsoft's instance discovery only for Microsoft's own login hosts."""
        return (urlsplit(self.login_base).hostname or "") in MICROSOFT_LOGIN_HOSTS

    @property
    def smtp_scope(self) -> str:
        return f"{self.cloud.exchange_delegated}/SMTP.Send"

    @property
    def app_scope(self) -> str:
        return f"{self.cloud.exchange_app}/.default"

    @property
    def graph_default_scope(self) -> str:
        return f"{self.cloud.graph}/.default"

    @property
    def exchange_audiences(self) -> frozenset[str]:
        hosts = {self.cloud.exchange_delegated, self.cloud.exchange_app}
        return frozenset(hosts | {h + "/" for h in hosts} | {EXCHANGE_APP_ID})

    def authority(self, tenant: str) -> str:
        return f"{self.login_base}/{quote(tenant, safe='')}"

    def openid_configuration_url(self, tenant: str) -> str:
        return f"{self.authority(tenant)}/v2.0/.well-known/openid-configuration"

    def graph(self, path: str) -> str:
        return f"{self.graph_base}/v1.0/{path.lstrip('/')}"


def endpoints_for(config: RelayConfig) -> Endpoints:
    """The endpoints for `config`: its cloud, with login_url / graph_url (https only) taking precedence.

    A tenancy with its own Graph root (DoD inside the US Government cloud) is known by its SMTP host.
    """
    cloud = CLOUDS[config.cloud]
    found = tenancy_of_host(config.host)
    if found and found[1].cloud is config.cloud and found[2].graph:
        cloud = replace(cloud, graph=found[2].graph)
    login = (config.login_url or cloud.login).rstrip("/")
    graph = (config.graph_url or cloud.graph).rstrip("/")
    for url in (login, graph):
        if not url.startswith("https://"):
            raise ValueError("login_url and graph_url must be https:// URLs")
    return Endpoints(cloud, login, graph)
