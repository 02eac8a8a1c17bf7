"""What the SMTP steps found, as typed facts: the greeting, TLS and its certificate, AUTH, the test message."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from checks.model import Facts


@dataclass(frozen=True)
class Greeting(Facts):
    """What smtp.greeting saw: the 220 banner and the EHLO capabilities (upper case, sorted)."""

    banner: str
    capabilities: tuple[str, ...]


@dataclass(frozen=True)
class CertificateFacts:
    """The server certificate as read from its DER bytes: who it names, who issued it, when it ends."""

    subject: str
    issuer: str
    names: tuple[str, ...]
    not_after: dt.datetime

    def days_left(self, now: dt.datetime) -> int:
        return (self.not_after - now).days


@dataclass(frozen=True)
class TlsFacts(Facts):
    """What the tls check saw: protocol, cipher, the certificate's names and end date, or why verification failed."""

    tls_version: str = ""
    cipher: str = ""
    certificate_subject: str = ""
    certificate_issuer: str = ""
    days_left: int | None = None
    certificate_not_after: str | None = None  # ISO date
    capabilities: tuple[str, ...] = ()  # EHLO capabilities after STARTTLS
    verify_code: int | None = None  # OpenSSL's X509_V_ERR_* when the certificate was refused


@dataclass(frozen=True)
class Mechanisms(Facts):
    """auth.mechanisms: the AUTH mechanisms the server offers."""

    mechanisms: tuple[str, ...]


@dataclass(frozen=True)
class SignedIn(Facts):
    """auth.credentials: how the sign-in succeeded and as whom."""

    mechanism: str
    user: str


@dataclass(frozen=True)
class SentTest(Facts):
    """send.test: the run id the test message carries (subject and X-Relay-Console-Run header)."""

    run_id: str
