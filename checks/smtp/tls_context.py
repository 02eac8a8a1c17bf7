"""The TLS client context of a run: the system store plus --ca-file, TLS 1.2 or newer, names verified."""

from __future__ import annotations

import ssl
from pathlib import Path


def client_context(ca_file: Path | None, injected: ssl.SSLContext | None = None) -> ssl.SSLContext:
    """The verifying context: `injected` when given, else the system store plus `ca_file`."""
    if injected is not None:
        return injected
    context = ssl.create_default_context()
    if ca_file is not None:
        context.load_verify_locations(cafile=str(ca_file))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def unverified_context() -> ssl.SSLContext:
    """Only for the second look after a failed handshake: read the certificate and protocol, trust nothing."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the certificate is read to explain the failure, never trusted
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    context.set_ciphers("DEFAULT:@SECLEVEL=0")  # so an old TLS 1.0/1.1 server can be named as such
    return context
