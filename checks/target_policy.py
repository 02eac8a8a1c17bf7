"""Where a hosted console may connect: an allow-list of hosts and ports, and no private addresses unless allowed."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from checks.settings.config import FieldError, InvalidSettings, RelayConfig
from checks.settings.providers import KNOWN_RELAY_HOSTS

ENV_RESTRICT = "RELAY_CONSOLE_RESTRICT_TARGETS"
ENV_HOSTS = "RELAY_CONSOLE_ALLOWED_HOSTS"
ENV_PORTS = "RELAY_CONSOLE_ALLOWED_PORTS"
ENV_NETWORKS = "RELAY_CONSOLE_ALLOWED_NETWORKS"
DEFAULT_HOSTS = KNOWN_RELAY_HOSTS
DEFAULT_PORTS = frozenset({25, 465, 587})
OVERRIDES = ("nameserver", "connect_to", "login_url", "graph_url", "ca_file")


class TargetRefused(InvalidSettings):
    """The settings name a target the hosting policy does not allow."""


def _words(text: str) -> list[str]:
    return [w.strip() for w in text.replace(";", ",").split(",") if w.strip()]


@dataclass(frozen=True)
class TargetPolicy:
    """Off by default (a local tool may test anything); a hosted console turns it on through the environment."""

    restricted: bool = False
    hosts: frozenset[str] = DEFAULT_HOSTS
    ports: frozenset[int] = DEFAULT_PORTS
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = field(default=())

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> TargetPolicy:
        """RELAY_CONSOLE_RESTRICT_TARGETS=1 turns the policy on; the other variables tune it."""
        env = os.environ if environ is None else environ
        restricted = env.get(ENV_RESTRICT, "").strip().lower() in ("1", "true", "yes", "on")
        hosts = frozenset(h.lower().rstrip(".") for h in _words(env.get(ENV_HOSTS, ""))) or DEFAULT_HOSTS
        try:
            ports = frozenset(int(p) for p in _words(env.get(ENV_PORTS, ""))) or DEFAULT_PORTS
            networks = tuple(ipaddress.ip_network(n, strict=False) for n in _words(env.get(ENV_NETWORKS, "")))
        except ValueError as exc:
            raise ValueError(f"hosting policy environment is invalid: {exc}") from None
        return cls(restricted, hosts, ports, networks)

    def refusals(self, config: RelayConfig) -> list[FieldError]:
        """What in `config` the policy refuses before any connection is made."""
        if not self.restricted:
            return []
        found = []
        if config.host.lower().rstrip(".") not in self.hosts:
            found.append(FieldError("host", f"this console may only test {', '.join(sorted(self.hosts))}"))
        if config.port not in self.ports:
            found.append(FieldError("port", f"this console may only test ports {', '.join(map(str, sorted(self.ports)))}"))
        for name in OVERRIDES:
            if getattr(config, name) is not None:
                found.append(FieldError(name, "is not available on this hosted console"))
        return found

    def enforce(self, config: RelayConfig) -> None:
        errors = self.refusals(config)
        if errors:
            raise TargetRefused(errors)

    def address_refusal(self, address: str) -> str | None:
        """Why the console must not connect to `address` (checked after DNS), or None."""
        if not self.restricted:
            return None
        ip = ipaddress.ip_address(address.strip("[]"))
        if any(ip in network for network in self.networks):
            return None
        if not ip.is_global or ip.is_multicast:
            return f"{address} is a private, loopback or reserved address, which this hosted console does not reach"
        return None
