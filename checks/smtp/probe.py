"""Short probes of what answers on a port: a completed TLS handshake, or an SMTP greeting (proof, not a bare TCP
connect, which any firewall or proxy that accepts connections would pass)."""

from __future__ import annotations

import contextlib
import ssl

from checks.smtp.target import Target, connect
from checks.smtp.tls_context import unverified_context


def tls_handshake_completes(address: str, port: int, *, timeout: float, server_name: str) -> bool:
    """True when a TLS handshake on `address`:`port` completes within `timeout` (nothing is trusted or sent)."""
    try:
        sock = connect(Target(address, port), timeout)
    except OSError:
        return False
    try:
        sock.settimeout(timeout)  # CPython bounds the whole handshake by this
        with unverified_context().wrap_socket(sock, server_hostname=server_name):
            return True
    except (OSError, ssl.SSLError, ValueError):
        return False
    finally:
        with contextlib.suppress(OSError):
            sock.close()


def smtp_greets(address: str, port: int, *, timeout: float) -> bool:
    """True when `address`:`port` sends a line starting with 220 within `timeout`."""
    try:
        with connect(Target(address, port), timeout) as sock:
            sock.settimeout(timeout)
            return sock.recv(512).startswith(b"220")
    except (TimeoutError, OSError):
        return False
