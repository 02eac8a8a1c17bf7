"""DNS lookups with bounded time: the run's resolver (injected, --nameserver or the system's) and queries.

dnspython is loaded by the first lookup (`dnspython()`), not with this module: a run that asks no DNS question
(--connect-to with --only) never pays for it.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

from checks.settings.config import RelayConfig
from checks.settings.limits import DNS_TRIES_PER_STEP
from checks.workers import DaemonExecutor

if TYPE_CHECKING:
    import dns.resolver

SYSTEM = "system"


def dnspython() -> ModuleType:
    """The `dns` package with its resolver loaded; DNS over HTTPS support off, as no check uses it."""
    # lazy: dnspython loads with the first DNS question, not with the engine
    import dns._features

    # checkdmarc installs httpx2, which dnspython would otherwise import (~0.1 s) for DoH on its first query.
    dns._features.force("doh", False)
    import dns.exception
    import dns.name
    import dns.resolver

    return dns


def make_resolver(config: RelayConfig, *, injected: Any = None, timeout: float,
                  answers: Any = None) -> dns.resolver.Resolver | None:
    """The resolver for this run: injected, else the configured nameserver, else the system's (None if unusable).

    `answers` (a dns.resolver.Cache) is the run's own: a question asked by two checks (the sender domain's MX by
    dns.mx and checkdmarc, its TXT by dns.mx, SPF and DMARC) goes out once, and no answer outlives the run."""
    if injected is not None:
        return injected
    dns = dnspython()
    if config.nameserver_address is not None:
        ip, port = config.nameserver_address
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [ip]
        resolver.port = port
    else:
        try:
            resolver = dns.resolver.Resolver()
        except (dns.resolver.NoResolverConfiguration, OSError, ValueError):
            return None  # no /etc/resolv.conf (or no nameserver in it): fall back to getaddrinfo
    resolver.lifetime = timeout
    resolver.timeout = timeout / DNS_TRIES_PER_STEP  # per try: a lost UDP packet is asked again in time
    if answers is not None:
        resolver.cache = answers
    return resolver


def resolver_label(config: RelayConfig, resolver: Any) -> str:
    """'system' or 'IP:PORT' of the server(s) asked, for details and facts."""
    if config.nameserver is not None and config.nameserver_address is not None:
        ip, port = config.nameserver_address
        return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
    if resolver is None:
        return SYSTEM
    servers = [str(s) for s in getattr(resolver, "nameservers", ())]
    port = getattr(resolver, "port", 53)
    return ", ".join(f"[{s}]:{port}" if ":" in s else f"{s}:{port}" for s in servers) or "injected resolver"


# --- querying -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lookup:
    """The outcome of one DNS question: records (text, TTL), the CNAME chain, or the error that ended it."""

    rtype: str
    records: tuple[tuple[Any, int], ...] = ()  # (rdata, ttl)
    cnames: tuple[tuple[str, str, int], ...] = ()  # (owner, target, ttl)
    canonical_name: str = ""
    error: BaseException | None = field(default=None, compare=False)

    @property
    def nxdomain(self) -> bool:
        return self.error is not None and isinstance(self.error, dnspython().resolver.NXDOMAIN)

    @property
    def timed_out(self) -> bool:
        return self.error is not None and isinstance(self.error, dnspython().exception.Timeout)


def name_text(name: Any) -> str:
    return name.to_text(omit_final_dot=True) if hasattr(name, "to_text") else str(name).rstrip(".")


def query(resolver: Any, qname: str, rtype: str, *, lifetime: float) -> Lookup:
    """Ask one question; never raises for DNS trouble (the error is kept in the Lookup)."""
    dns = dnspython()
    try:
        answer = resolver.resolve(dns.name.from_text(qname), rtype, lifetime=lifetime, raise_on_no_answer=False)
    except dns.exception.DNSException as exc:
        return Lookup(rtype, error=exc)
    cnames: list[tuple[str, str, int]] = []
    canonical = name_text(answer.canonical_name)
    try:
        chain = answer.response.resolve_chaining()
        cnames = [(name_text(rrset.name), name_text(rrset[0].target), rrset.ttl) for rrset in chain.cnames]
    except (dns.exception.DNSException, AttributeError):
        pass
    records = tuple((rdata, answer.rrset.ttl) for rdata in answer.rrset) if answer.rrset is not None else ()
    return Lookup(rtype, records, tuple(cnames), canonical)


def query_all(resolver: Any, questions: list[tuple[str, str]], *, lifetime: float) -> list[Lookup]:
    """Several questions at once; the whole batch takes about one `lifetime` at most."""
    pool = DaemonExecutor(len(questions), name="dns")
    futures = [pool.submit(query, resolver, name, rtype, lifetime=lifetime) for name, rtype in questions]
    return [f.result() for f in futures]


def getaddrinfo_addresses(host: str, *, timeout: float) -> tuple[list[str], str, BaseException | None]:
    """(addresses, canonical name, error) from the operating system's resolver, bounded by `timeout`."""
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["infos"] = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM, flags=socket.AI_CANONNAME)
        except OSError as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="dns-getaddrinfo", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        return [], "", TimeoutError(f"getaddrinfo did not answer within {timeout:g} s")
    if "error" in outcome:
        return [], "", outcome["error"]
    infos = outcome["infos"]
    canonical = next((info[3] for info in infos if info[3]), host)
    addresses = ipv4_first(info[4][0] for info in infos)
    return addresses, canonical, None


def ipv4_first(addresses: Any) -> list[str]:
    unique = list(dict.fromkeys(str(a) for a in addresses))
    return sorted(unique, key=lambda a: ipaddress.ip_address(a).version)  # IPv4 first, order kept within
