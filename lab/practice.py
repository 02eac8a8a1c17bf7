"""The practice lab: one process-wide set of lab servers and ready-made settings for each scenario."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lab.blackhole import closed_port, start_blackhole
from lab.dns import start_dns
from lab.pki import LabPKI
from lab.smtp import LAB_ACCOUNTS, Personality, Scenario, start_smtp

PRACTICE_TIMEOUT = 3.0  # seconds per step: the silent scenarios answer in seconds, not minutes


@dataclass(frozen=True)
class PracticeScenario:
    id: str
    title: str
    description: str
    profile: str
    breaks: str  # the check id expected to fail; "" when everything should pass
    personality: Personality = Personality.M365
    server: Scenario | None = Scenario.WORKING  # None: no SMTP server (blocked or closed port)
    network: str = ""  # "blackhole" or "closed" when there is no server


SCENARIOS: tuple[PracticeScenario, ...] = (
    PracticeScenario("working-gmail", "Gmail with an app password - works",
                     "smtp.gmail.com, STARTTLS on 587, a 16-letter app password.", "gmail", "",
                     Personality.GMAIL),
    PracticeScenario("working-m365", "Microsoft 365 basic auth - works (for now)",
                     "smtp.office365.com with the mailbox password; warns about the end of Basic auth.",
                     "m365-basic", ""),
    PracticeScenario("app-password-required", "Gmail: account password instead of an app password",
                     "Google answers 534-5.7.9 when 2-Step Verification is on and a normal password is used.",
                     "gmail", "auth.credentials", Personality.GMAIL, Scenario.APP_PASSWORD_REQUIRED),
    PracticeScenario("gmail-bad-credentials", "Gmail: wrong address or password",
                     "Google answers 535-5.7.8 Username and Password not accepted.", "gmail", "auth.credentials",
                     Personality.GMAIL, Scenario.BAD_CREDENTIALS),
    PracticeScenario("smtp-auth-disabled-tenant", "Microsoft 365: SMTP AUTH disabled for the tenant",
                     "535 5.7.139 ... SmtpClientAuthentication is disabled for the Tenant.", "m365-basic",
                     "auth.credentials", Personality.M365, Scenario.SMTP_AUTH_DISABLED_TENANT),
    PracticeScenario("smtp-auth-disabled-mailbox", "Microsoft 365: SMTP AUTH disabled for the mailbox",
                     "535 5.7.139 ... SmtpClientAuthentication is disabled for the Mailbox.", "m365-basic",
                     "auth.credentials", Personality.M365, Scenario.SMTP_AUTH_DISABLED_MAILBOX),
    PracticeScenario("basic-auth-disabled", "Microsoft 365: Basic authentication disabled",
                     "535 5.7.139 ... basic authentication is disabled.", "m365-basic", "auth.credentials",
                     Personality.M365, Scenario.BASIC_AUTH_DISABLED),
    PracticeScenario("security-defaults", "Microsoft 365: blocked by Security Defaults",
                     "535 5.7.139 ... user is locked by your organization's security defaults policy.", "m365-basic",
                     "auth.credentials", Personality.M365, Scenario.SECURITY_DEFAULTS),
    PracticeScenario("no-starttls", "STARTTLS stripped on the way",
                     "The server (or a firewall's SMTP inspection) does not offer STARTTLS.", "m365-basic", "tls",
                     Personality.M365, Scenario.NO_STARTTLS),
    PracticeScenario("no-auth", "No SMTP AUTH offered", "STARTTLS works, but no AUTH is advertised after it.",
                     "m365-basic", "auth.mechanisms", Personality.M365, Scenario.NO_AUTH),
    PracticeScenario("expired-cert", "Expired server certificate", "The server presents an expired certificate.",
                     "m365-basic", "tls", Personality.M365, Scenario.EXPIRED_CERT),
    PracticeScenario("wrong-name-cert", "Certificate for another name",
                     "The certificate names wrong.lab.test, not smtp.office365.com.", "m365-basic", "tls",
                     Personality.M365, Scenario.WRONG_NAME_CERT),
    PracticeScenario("tls-intercepted", "TLS intercepted by a proxy",
                     "A TLS-inspecting firewall replaces Microsoft's certificate with its own.", "m365-basic", "tls",
                     Personality.M365, Scenario.UNTRUSTED_CERT),
    PracticeScenario("port-blocked", "Outbound port 587 blocked",
                     "A firewall silently drops the connection.", "m365-basic", "port", server=None,
                     network="blackhole"),
    PracticeScenario("port-closed", "Nothing listens on the port", "The connection is refused.", "m365-basic",
                     "port", server=None, network="closed"),
    PracticeScenario("silent-server", "A server that never greets",
                     "TCP connects, but no 220 greeting ever comes.", "m365-basic", "smtp.greeting",
                     Personality.M365, Scenario.SILENT),
    PracticeScenario("not-smtp", "A web server on the SMTP port", "The port answers HTTP, not SMTP.", "m365-basic",
                     "smtp.greeting", Personality.M365, Scenario.NOT_SMTP),
)
BY_ID = {s.id: s for s in SCENARIOS}


class PracticeLab:
    """Lab servers started on demand and kept for the process: DNS once, one SMTP server per scenario."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.pki = LabPKI()
        self.dns = start_dns()
        self._endpoints: dict[str, tuple[str, int]] = {}
        self._servers: list[Any] = []

    def _endpoint(self, scenario: PracticeScenario) -> tuple[str, int]:
        with self._lock:
            if scenario.id not in self._endpoints:
                self._endpoints[scenario.id] = self._start(scenario)
            return self._endpoints[scenario.id]

    def _start(self, scenario: PracticeScenario) -> tuple[str, int]:
        if scenario.network == "closed":
            return "127.0.0.1", closed_port()
        starter: Callable[[], Any] = (start_blackhole if scenario.network == "blackhole" else
                                      lambda: start_smtp(scenario.server, personality=scenario.personality,
                                                         pki=self.pki))
        server = starter()
        self._servers.append(server)
        return server.host, server.port

    def settings_for(self, scenario_id: str) -> dict[str, Any]:
        """Settings for checks.settings.config_from_values that run `scenario_id` against the lab."""
        scenario = BY_ID[scenario_id]
        address, port = self._endpoint(scenario)
        username, password = LAB_ACCOUNTS[scenario.personality]
        return {
            "profile": scenario.profile, "username": username, "sender": username, "password": password,
            "nameserver": self.dns.nameserver, "connect_to": f"{address}:{port}", "ca_file": str(self.pki.ca_file),
            "timeout": PRACTICE_TIMEOUT, "deadline": 30,
        }

    def stop(self) -> None:
        with self._lock:
            for server in self._servers:
                server.stop()
            self._servers.clear()
            self._endpoints.clear()
            self.dns.stop()


_LAB: PracticeLab | None = None
_LAB_LOCK = threading.Lock()


def practice_lab() -> PracticeLab:
    """The process-wide practice lab (started on first use)."""
    global _LAB
    with _LAB_LOCK:
        if _LAB is None:
            _LAB = PracticeLab()
        return _LAB
