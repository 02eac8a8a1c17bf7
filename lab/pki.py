"""A throwaway certificate authority and server certificates for the lab servers."""

from __future__ import annotations

import datetime as dt
import ssl
import tempfile
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import trustme

LAB_HOSTNAMES: tuple[str, ...] = ("smtp.lab.test", "smtp.gmail.com", "smtp.office365.com", "localhost", "127.0.0.1")
WRONG_HOSTNAME = "wrong.lab.test"  # the only name on a wrong-name certificate

Issuer = Literal["lab", "untrusted"]
TlsVersions = tuple[ssl.TLSVersion, ssl.TLSVersion]
_ContextKey = tuple[tuple[str, ...], bool, str, TlsVersions | None]


class LabPKI:
    """A throwaway CA (trustme) and server certificates for the lab."""

    def __init__(self, directory: Path | None = None) -> None:
        self._tempdir = tempfile.TemporaryDirectory(prefix="lab-pki-") if directory is None else None
        self.directory = Path(self._tempdir.name) if self._tempdir is not None else Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._cas: dict[str, trustme.CA] = {"lab": trustme.CA(organization_name="Relay Lab CA")}
        self.ca_file: Path = self.directory / "ca.pem"
        self._cas["lab"].cert_pem.write_to_path(str(self.ca_file))
        self._contexts: dict[_ContextKey, ssl.SSLContext] = {}
        self._lock = threading.Lock()

    def server_context(
        self,
        hostnames: Sequence[str] = LAB_HOSTNAMES,
        *,
        expired: bool = False,
        issuer: Issuer = "lab",
        tls_versions: TlsVersions | None = None,
    ) -> ssl.SSLContext:
        """Return a cached server-side context whose certificate names `hostnames`."""
        if issuer not in ("lab", "untrusted"):
            raise ValueError(f"unknown issuer {issuer!r}")
        key: _ContextKey = (tuple(hostnames), expired, issuer, tls_versions)
        with self._lock:
            if key not in self._contexts:
                self._contexts[key] = self._make_server_context(key)
            return self._contexts[key]

    def client_context(self) -> ssl.SSLContext:
        """Return a verifying client context that trusts only the lab CA."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def close(self) -> None:
        """Remove the temporary directory, if this object made one."""
        if self._tempdir is not None:
            self._tempdir.cleanup()

    def _make_server_context(self, key: _ContextKey) -> ssl.SSLContext:
        """Issue a certificate and load it into a new server context (caller holds the lock)."""
        hostnames, expired, issuer, tls_versions = key
        if issuer not in self._cas:  # a second CA, never written to ca.pem: a TLS-inspecting proxy
            self._cas[issuer] = trustme.CA(organization_name="Inspecting Proxy CA")
        validity: dict[str, dt.datetime] = {}
        if expired:
            now = dt.datetime.now(dt.UTC)
            validity = {"not_before": now - dt.timedelta(days=400), "not_after": now - dt.timedelta(days=30)}
        cert = self._cas[issuer].issue_cert(*hostnames, **validity)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        if tls_versions is not None:
            with warnings.catch_warnings():  # imitating an old server is the point: TLS 1.0/1.1 on purpose
                warnings.simplefilter("ignore", DeprecationWarning)
                context.minimum_version, context.maximum_version = tls_versions
            if tls_versions[0] < ssl.TLSVersion.TLSv1_2:  # OpenSSL 3 refuses TLS 1.0/1.1 at the default level
                context.set_ciphers("DEFAULT:@SECLEVEL=0")
        cert.configure_cert(context)
        return context
