"""`dns.host`: the relay host resolves through the run's resolver; the connection then uses exactly these addresses."""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from typing import Any

from checks.dns.facts import HostAddresses
from checks.dns.failures import (
    FIX_DNS_SERVER,
    error_text,
    resolver_for,
    server_failure_finding,
    timeout_finding,
)
from checks.dns.lookup import (
    SYSTEM,
    getaddrinfo_addresses,
    ipv4_first,
    query_all,
)
from checks.knowledge.guide import GuideSection
from checks.knowledge.network import live_commands
from checks.model import Finding, Status
from checks.run_state import CheckContext
from checks.settings.config import RelayConfig
from checks.settings.providers import display_name, provider_of_host

HOSTS_FILE = "/etc/hosts"


def _is_internal(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_reserved


def _ip_literal(host: str) -> str | None:
    candidate = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def check_host(ctx: CheckContext) -> Finding:
    """dns.host: the relay host's addresses (A, AAAA) with TTLs and CNAME chain, from the chosen resolver."""
    config = ctx.config
    literal = _ip_literal(config.host)
    if literal is not None:
        return Finding(
            Status.PASS, f"{literal} is an IP address: no DNS lookup needed.",
            details="Connecting to an IP address: the TLS certificate must then name that address "
                    "(provider certificates name host names only, so TLS verification will fail for them).",
            remediation="Prefer the provider's host name (smtp.office365.com / smtp.gmail.com) unless this is "
                        "your own relay whose certificate lists the IP address.",
            guide_section=GuideSection.NETWORK, facts=HostAddresses("", (literal,), ip_literal=True),
        )

    host = config.host.rstrip(".")
    timeout = ctx.step_timeout()
    resolver, label = resolver_for(ctx)
    if resolver is None or (ctx.deps.resolver is None and config.nameserver is None):
        finding = _host_via_getaddrinfo(config, host, timeout)  # as the application resolves: hosts file, DNS
    else:
        finding = _host_via_dns(config, host, resolver, label, timeout)
    return _soften_for_connect_to(config, finding)


def _host_via_dns(config: RelayConfig, host: str, resolver: Any, label: str, timeout: float) -> Finding:
    a, aaaa = query_all(resolver, [(host, "A"), (host, "AAAA")], lifetime=timeout)
    nothing = HostAddresses(label, ())
    if a.nxdomain or aaaa.nxdomain:
        return Finding(
            Status.FAIL, f"The name {host} does not exist (NXDOMAIN; resolver: {label}).",
            details=f"Resolver: {label}. {error_text(a.error or aaaa.error)}",
            remediation="The name does not exist: check the spelling (smtp.office365.com / smtp.gmail.com) "
                        "and that no extra characters were pasted.",
            guide_section=GuideSection.NETWORK, facts=nothing,
            commands=live_commands("dns.host.not_found", host, config.port),
        )
    answered = [lk for lk in (a, aaaa) if lk.error is None]
    if not answered:
        if a.timed_out or aaaa.timed_out:
            return timeout_finding(f"{host} (A/AAAA)", label, timeout, host, nothing)
        return server_failure_finding(f"{host} (A/AAAA)", label, a.error or aaaa.error, host, nothing)

    records = [(rdata.address, ttl) for lk in (a, aaaa) for rdata, ttl in lk.records]
    addresses = ipv4_first(address for address, _ in records)
    cnames = next((lk.cnames for lk in answered if lk.cnames), ())
    canonical = next((lk.canonical_name for lk in answered if lk.canonical_name), host)
    lines = [f"Resolver: {label}."]
    lines += [f"CNAME {owner} -> {target} (TTL {ttl} s)" for owner, target, ttl in cnames]
    lines += [f"{'A' if ':' not in address else 'AAAA'} {address} (TTL {ttl} s)" for address, ttl in records]
    for lk in (a, aaaa):
        if lk.error is not None:
            lines.append(f"{lk.rtype} query failed: {error_text(lk.error)}")
        elif not lk.records:
            lines.append(f"No {lk.rtype} record.")
    facts = HostAddresses(label, tuple(addresses), canonical, tuple(target for _, target, _ in cnames),
                          tuple(records))
    if not addresses:
        return Finding(
            Status.FAIL, f"{host} exists but has no IPv4 (A) or IPv6 (AAAA) address.",
            details="\n".join(lines),
            remediation="The name is not a mail server's name: check the host setting "
                        "(smtp.office365.com / smtp.gmail.com).",
            guide_section=GuideSection.NETWORK, facts=facts,
        )

    chain = f" via {' -> '.join(t for _, t, _ in cnames)}" if cnames else ""
    summary = f"{host} resolves to {', '.join(addresses)}{chain}."
    provider = provider_of_host(host)
    internal = [address for address in addresses if _is_internal(address)]
    if provider and internal:
        if config.nameserver is None:
            lines.append(f"{', '.join(internal)} is a private or loopback address, not {display_name(provider)}'s.")
            return Finding(
                Status.WARN, f"{host} resolves to the private/loopback address {', '.join(internal)}.",
                details="\n".join(lines),
                remediation="A provider's SMTP host always has public addresses. Look for split-horizon DNS or a "
                            "hosts-file entry redirecting the provider, or a TLS-inspecting gateway / proxy "
                            "intercepting mail (its certificate will not be the provider's). Compare with "
                            "`nslookup " + host + " 1.1.1.1`.",
                guide_section=GuideSection.NETWORK, facts=facts,
            )
        lines.append(f"Note: {', '.join(internal)} is private/loopback; accepted because the nameserver "
                     f"{label} was chosen explicitly (practice lab or test setup).")
    timed_out = [lk.rtype for lk in (a, aaaa) if lk.timed_out]
    if timed_out:
        return Finding(
            Status.WARN, summary + f" The {'/'.join(timed_out)} query timed out.",
            details="\n".join(lines),
            remediation="Some DNS servers or firewalls drop IPv6 (AAAA) or IPv4 queries; clients then wait for "
                        "the timeout on every connection. " + FIX_DNS_SERVER.format(name=host, server=""),
            guide_section=GuideSection.NETWORK, facts=facts,
        )
    return Finding(Status.PASS, summary, details="\n".join(lines), guide_section=GuideSection.NETWORK, facts=facts)


def hosts_file_names(path: str = HOSTS_FILE) -> frozenset[str]:
    """The names the hosts file gives addresses for (lower case); empty when it cannot be read."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read(1024 * 1024).splitlines()
    except OSError:
        return frozenset()
    return frozenset(name.lower().rstrip(".") for line in lines for name in line.split("#", 1)[0].split()[1:])


def _host_via_getaddrinfo(config: RelayConfig, host: str, timeout: float) -> Finding:
    addresses, canonical, error = getaddrinfo_addresses(host, timeout=timeout)
    source = (f"the hosts file ({HOSTS_FILE})" if host.lower() in hosts_file_names()
              else "DNS through the operating system")
    note = (f"Resolver: system (getaddrinfo, as the application resolves: the hosts file, then DNS, as "
            f"nsswitch.conf says). Answered by {source}; TTL unknown.")
    facts = HostAddresses(SYSTEM, tuple(addresses), canonical or host)
    if error is not None:
        timed_out = isinstance(error, TimeoutError)
        return Finding(
            Status.FAIL,
            f"The system resolver gave no answer for {host} within {timeout:.3g} s." if timed_out
            else f"{host} could not be resolved by the system resolver ({error_text(error)}).",
            details=note, remediation=FIX_DNS_SERVER.format(name=host, server="")
            + " Check the spelling (smtp.office365.com / smtp.gmail.com).",
            guide_section=GuideSection.NETWORK, facts=facts,
            commands=() if timed_out else live_commands("dns.host.not_found", host, config.port),
        )
    lines = [note] + [f"{'AAAA' if ':' in a else 'A'} {a} (TTL unknown)" for a in addresses]
    provider = provider_of_host(host)
    internal = [a for a in addresses if _is_internal(a)]
    if provider and internal:
        return Finding(
            Status.WARN, f"{host} resolves to the private/loopback address {', '.join(internal)}.",
            details="\n".join(lines),
            remediation="A provider's SMTP host always has public addresses: look for a hosts-file entry, "
                        "split-horizon DNS or a TLS-inspecting gateway redirecting the provider.",
            guide_section=GuideSection.NETWORK, facts=facts,
        )
    return Finding(Status.PASS, f"{host} resolves to {', '.join(addresses)} (TTL unknown).",
                   details="\n".join(lines), guide_section=GuideSection.NETWORK, facts=facts)


def _soften_for_connect_to(config: RelayConfig, finding: Finding) -> Finding:
    """With connect_to set the connection does not use this lookup: a DNS failure is then only a warning."""
    if config.connect_to is None or finding.status is not Status.FAIL:
        return finding
    return Finding(
        Status.WARN, finding.summary + f" (Connections go to {config.connect_to}, so the test continues.)",
        details=finding.details, remediation=finding.remediation, guide_section=finding.guide_section,
        commands=finding.commands, facts=replace(finding.facts, connect_to=config.connect_to) if isinstance(finding.facts, HostAddresses)
        else finding.facts,
    )
