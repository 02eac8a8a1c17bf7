"""Where a hosted console may connect: an allow-list of hosts and ports, and no private addresses unless allowed."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from checks.settings.config import FieldError, InvalidSettings, RelayConfig
from checks.settings.fields import SETTING_FIELDS
from checks.settings.providers import KNOWN_RELAY_HOSTS

ENV_RESTRICT = "RELAY_CONSOLE_RESTRICT_TARGETS"
ENV_HOSTS = "RELAY_CONSOLE_ALLOWED_HOSTS"
ENV_PORTS = "RELAY_CONSOLE_ALLOWED_PORTS"
ENV_NETWORKS = "RELAY_CONSOLE_ALLOWED_NETWORKS"
DEFAULT_HOSTS = KNOWN_RELAY_HOSTS
DEFAULT_PORTS = frozenset({25, 465, 587})
OVERRIDES = tuple(f.name for f in SETTING_FIELDS if f.local_only)


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

    def screen(self, values: Mapping[str, object]) -> None:
        """Refuse the overrides in loose settings before they are validated: validating `ca_file` would look at
        this machine's files, and the answer must not depend on them."""
        if not self.restricted:
            return
        given = [name for name in OVERRIDES if values.get(name) not in (None, "")]
        if given:
            raise TargetRefused([FieldError(name, "is not available on this hosted console") for name in given])

    def enforce(self, config: RelayConfig) -> None:
        errors = self.refusals(config)
        if errors:
            raise TargetRefused(errors)

    def address_refusal(self, address: str) -> str | None:
        """Why the console must not connect to `address` (checked after DNS), or None."""
        if not self.restricted:
            return None
        ip = ipaddress.ip_address(address.strip("[]"))
        inner = embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else None
        if any(candidate in network for candidate in (ip, inner) if candidate is not None
               for network in self.networks if network.version == candidate.version):
            return None
        reason = non_global_reason(address)
        return f"{reason}, which this hosted console does not reach" if reason else None

# ------------------------------------------------------------------------------------------ addresses

# Ranges a hosted console never reaches, beyond what `ipaddress` calls non-global (IANA special-purpose
# registries; Python 3.11 still calls some of these global).
NON_GLOBAL_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
    "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    "::/128", "::1/128", "100::/64", "2001::/23", "2001:db8::/32", "3fff::/20", "5f00::/16", "fc00::/7",
    "fe80::/10", "fec0::/10", "ff00::/8", "64:ff9b:1::/48",
))
NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, translated, compatible, NAT64, 6to4, Teredo), or None."""
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in IPV4_TRANSLATED or ip in NAT64_WELL_KNOWN:
        return low32
    if ip in IPV4_COMPATIBLE and int(ip) > 1:
        return low32
    if ip in NAT64_LOCAL:  # RFC 6052 /48 layout: bits 48-63 and 72-87, skipping the 'u' octet
        packed = ip.packed
        return ipaddress.IPv4Address(packed[6:8] + packed[9:11])
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def non_global_reason(address: str) -> str | None:
    """Why `address` is not a public Internet address (naming the IPv4 address inside), or None."""
    ip = ipaddress.ip_address(address.strip("[]"))
    inner = embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else None
    for candidate in (inner, ip):
        if candidate is None:
            continue
        if not candidate.is_global or candidate.is_multicast or any(candidate in n for n in NON_GLOBAL_NETWORKS
                                                                    if n.version == candidate.version):
            via = f" (it carries {candidate})" if candidate is inner else ""
            return f"{address} is a private, loopback or reserved address{via}"
    return None
