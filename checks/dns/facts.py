"""What the DNS checks found, as typed facts later checks read (dns.host's addresses, dns.mx's provider)."""

from __future__ import annotations

from dataclasses import dataclass

from checks.model import Facts


@dataclass(frozen=True)
class HostAddresses(Facts):
    """What dns.host found: the addresses the port check connects to (IPv4 first), and how they were found."""

    resolver: str
    addresses: tuple[str, ...]
    canonical_name: str = ""
    cname_chain: tuple[str, ...] = ()
    records: tuple[tuple[str, int], ...] = ()  # (address, TTL in seconds)
    ip_literal: bool = False  # the host setting is an IP address: nothing was looked up
    connect_to: str | None = None  # --connect-to: connections do not use these addresses


@dataclass(frozen=True)
class MxFacts(Facts):
    """What dns.mx found for the sender domain: its mail exchangers, their provider and its SPF record."""

    resolver: str
    domain: str
    mx: tuple[str, ...] = ()
    mx_records: tuple[tuple[int, str, int], ...] = ()  # (preference, exchange, TTL in seconds)
    provider: str = ""  # 'google', 'microsoft' or ''
    spf: str = ""
