"""Where the SMTP conversation connects and the TCP connect itself: socket only, so the port check connects before
smtplib and the email package are loaded (they load while the server's greeting travels)."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from checks.dns.facts import HostAddresses
from checks.model import CheckId, Facts
from checks.run_state import CheckContext


@dataclass(frozen=True)
class Target(Facts):
    """Where the SMTP conversation connects (the port check's facts once connected)."""

    address: str
    port: int
    latency_ms: float | None = None  # how long the TCP connect took, when it did


def targets(ctx: CheckContext) -> list[Target]:
    """Where to connect: the --connect-to override, else every address dns.host found (IPv4 first)."""
    config = ctx.config
    if config.connect_address:
        host, port = config.connect_address
        return [Target(host.strip("[]"), port)]
    found = ctx.facts(CheckId.DNS_HOST, HostAddresses)
    return [Target(a, config.port) for a in (found.addresses if found else ())]


def connect(target: Target, timeout: float) -> socket.socket:
    family = socket.AF_INET6 if ":" in target.address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect((target.address, target.port))
    except BaseException:
        sock.close()
        raise
    return sock
