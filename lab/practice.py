"""The practice lab: one process-wide set of lab servers and ready-made settings for each scenario."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lab.blackhole import closed_port, start_blackhole
from lab.dns import start_dns
from lab.entra import DEFAULT_REDIRECT_URIS, EntraScenario, RunningEntra, start_entra
from lab.pki import LabPKI
from lab.smtp import LAB_ACCOUNTS, Personality, Scenario, start_smtp

PRACTICE_TIMEOUT = 3.0  # seconds per step: the silent scenarios answer in seconds, not minutes
SIGN_IN_REDIRECTS = ("http://localhost:8501/sign_in", "http://127.0.0.1:8501/sign_in",  # the console's default
                     "http://localhost:8501/audit", "http://127.0.0.1:8501/audit")  # and its tenant audit
REDIRECT_URIS_ENV = "RELAY_LAB_REDIRECT_URIS"  # more redirect URIs for the lab's app (space or comma separated)


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
    entra: EntraScenario | None = None  # OAuth2 scenarios: the Entra ID / Graph emulator's scenario
    mailbox: str = ""  # the lab account's address (username and sender) instead of the personality's
    warns: str = ""  # a check id expected to warn (sender-domain checks never fail)


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
    PracticeScenario("legacy-tls", "A gateway that speaks only TLS 1.0/1.1",
                     "An old appliance or gateway in the path; Microsoft answers such clients 421 4.7.66.",
                     "m365-basic", "tls", Personality.M365, Scenario.LEGACY_TLS),
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
    *(PracticeScenario(f"oauth2-{entra.value}", title, description, "m365-oauth2", breaks, entra=entra)
      for entra, title, description, breaks in (
        (EntraScenario.WORKING, "Microsoft 365 OAuth2 - works",
         "App registration, admin consent, refresh token and sender as the guide says.", ""),
        (EntraScenario.SECRET_ID_PASTED, "OAuth2: the secret's ID pasted instead of its Value",
         "The portal holds the Secret ID column, not the Value.", "oauth.client"),
        (EntraScenario.SECRET_EXPIRED, "OAuth2: the client secret expired", "AADSTS7000222.", "oauth.client"),
        (EntraScenario.EMAIL_AS_CLIENT_ID, "OAuth2: an e-mail address as Client ID",
         "AADSTS700016: the application is not found.", "oauth.client"),
        (EntraScenario.CONSENT_MISSING, "OAuth2: admin consent not granted",
         "AADSTS65001: 'Grant admin consent' was never pressed.", "oauth.token"),
        (EntraScenario.REFRESH_TOKEN_EXPIRED, "OAuth2: refresh token expired",
         "AADSTS700082: 90 days without use.", "oauth.token"),
        (EntraScenario.GRAPH_PERMISSIONS_MISSING, "OAuth2: Graph permissions missing",
         "Mail.Send / Mail.ReadWrite / User.Read.All were not added.", "oauth.scopes"),
        (EntraScenario.SMTP_AUTH_DISABLED, "OAuth2: SMTP AUTH disabled for the mailbox",
         "The token is fine, Exchange refuses SMTP AUTH (5.7.139).", "auth.credentials"),
        (EntraScenario.SENDER_IS_ALIAS, "OAuth2: the sender is an alias",
         "Aliases and shared mailboxes cannot send through OAuth2.", "sender"),
    )),
)
# The sender domain decides where relayed mail lands (inbox or spam): one case of the lab DNS each.
SCENARIOS += tuple(
    PracticeScenario(f"domain-{domain.split('.')[0]}", title, description, "m365-basic", "",
                     mailbox=f"relay@{domain}", warns=warns)
    for domain, title, description, warns in (
        ("spf-11-lookups.example", "Sender domain: SPF needs 11 DNS lookups",
         "The relay works, but receivers stop evaluating SPF after 10 lookups: SPF fails and mail lands in spam.",
         "domain.spf"),
        ("spf-nested.example", "Sender domain: SPF reaches Microsoft 365 through a nested include",
         "include: -> include:spf.protection.outlook.com; redirect= works the same. Nothing to fix.", ""),
        ("dmarc-missing.example", "Sender domain: no DMARC record",
         "Large receivers treat mail from domains without DMARC with suspicion.", "domain.dmarc"),
        ("dkim-missing.example", "Sender domain: DKIM not set up in Microsoft 365",
         "No selector1/selector2 CNAMEs: mail is not signed with the domain, DMARC rests on SPF alone.",
         "domain.dkim"),
    ))
BY_ID = {s.id: s for s in SCENARIOS}


@dataclass(frozen=True)
class AuditPractice:
    """A lab tenant for the admin audit, with the one mistake it shows (`breaks`: the audit check that says so)."""

    id: str
    title: str
    description: str
    entra: EntraScenario
    breaks: str  # "" when every audit check should pass


AUDIT_SCENARIOS: tuple[AuditPractice, ...] = (
    AuditPractice("audit-working", "A tenant set up as the guide says",
                  "Single tenant, Web redirect URI, five permissions with admin consent, SMTP AUTH on.",
                  EntraScenario.WORKING, ""),
    AuditPractice("audit-multi-tenant", "Registered for any organisation",
                  "Supported account types: multitenant.", EntraScenario.MULTI_TENANT, "audit.app_audience"),
    AuditPractice("audit-wrong-redirect", "The portal's callback is misspelt",
                  "The Web platform lists .../oauth/calback.", EntraScenario.WRONG_REDIRECT, "audit.app_redirect"),
    AuditPractice("audit-consent-missing", "Admin consent missing for one permission",
                  "Mail.ReadWrite was added after 'Grant admin consent'.", EntraScenario.CONSENT_MISSING_ONE_SCOPE,
                  "audit.consent"),
    AuditPractice("audit-two-secrets", "Two secrets, one expired",
                  "The portal uses the new secret; the old, expired one is still there.",
                  EntraScenario.TWO_SECRETS_ONE_EXPIRED, "audit.secret"),
    AuditPractice("audit-ca-blocks", "A Conditional Access policy blocks Exchange Online",
                  "All users except the administrator.", EntraScenario.CA_POLICY_BLOCKS, "audit.conditional_access"),
    AuditPractice("audit-shared-mailbox", "The sender is a shared mailbox",
                  "info@ has no licence and cannot sign in.", EntraScenario.SENDER_IS_SHARED, "audit.sender_account"),
    AuditPractice("audit-smtp-auth-off", "SMTP AUTH disabled for the mailbox",
                  "Get-CASMailbox shows SmtpClientAuthenticationDisabled True.", EntraScenario.SMTP_AUTH_DISABLED,
                  "audit.smtp_auth"),
)
AUDIT_BY_ID = {s.id: s for s in AUDIT_SCENARIOS}
LAB_ADMIN = "admin@contoso.example"


def lab_redirect_uris(environ: dict[str, str] | None = None) -> tuple[str, ...]:
    """Redirect URIs of the lab's app registration: the emulator's defaults, the console's Sign in page, $RELAY_LAB_REDIRECT_URIS."""
    extra = (os.environ if environ is None else environ).get(REDIRECT_URIS_ENV, "").replace(",", " ").split()
    return tuple(dict.fromkeys((*DEFAULT_REDIRECT_URIS, *SIGN_IN_REDIRECTS, *extra)))


class PracticeLab:
    """Lab servers started on demand and kept for the process: DNS once, one SMTP server per scenario."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.pki = LabPKI()
        self.dns = start_dns()
        self._endpoints: dict[str, tuple[str, int]] = {}
        self._servers: list[Any] = []
        self._entra: dict[str, RunningEntra] = {}

    def _endpoint(self, scenario: PracticeScenario) -> tuple[str, int]:
        with self._lock:
            if scenario.id not in self._endpoints:
                self._endpoints[scenario.id] = self._start(scenario)
            return self._endpoints[scenario.id]

    def _start(self, scenario: PracticeScenario) -> tuple[str, int]:
        if scenario.entra is not None:
            entra = start_entra(scenario.entra, pki=self.pki, redirect_uris=lab_redirect_uris())
            self._servers.append(entra)
            self._entra[scenario.id] = entra
            smtp = start_smtp(personality=Personality.M365, pki=self.pki, xoauth2_validator=entra.xoauth2_validator)
            self._servers.append(smtp)
            return smtp.host, smtp.port
        if scenario.network == "closed":
            return "127.0.0.1", closed_port()
        account = (scenario.mailbox, LAB_ACCOUNTS[scenario.personality][1]) if scenario.mailbox else None
        starter: Callable[[], Any] = (start_blackhole if scenario.network == "blackhole" else
                                      lambda: start_smtp(scenario.server, personality=scenario.personality,
                                                         pki=self.pki, account=account))
        server = starter()
        self._servers.append(server)
        return server.host, server.port

    def settings_for(self, scenario_id: str) -> dict[str, Any]:
        """Settings for checks.settings.loading.config_from_values that run `scenario_id` against the lab."""
        scenario = BY_ID[scenario_id]
        address, port = self._endpoint(scenario)
        common = {"profile": scenario.profile, "nameserver": self.dns.nameserver, "connect_to": f"{address}:{port}",
                  "ca_file": str(self.pki.ca_file), "timeout": PRACTICE_TIMEOUT, "deadline": 30}
        if scenario.entra is not None:
            entra = self._entra[scenario.id]
            return {**common, "tenant_id": entra.tenant_id, "client_id": entra.client_id,
                    "client_secret": entra.client_secret, "secret_expires": entra.secret_expires.isoformat(),
                    "refresh_token": entra.refresh_token, "sender": entra.sender, "login_url": entra.base_url,
                    "graph_url": entra.graph_url}
        username, password = LAB_ACCOUNTS[scenario.personality]
        username = scenario.mailbox or username
        return {**common, "username": username, "sender": username, "password": password}

    def audit_tenant(self, practice_id: str) -> RunningEntra:
        """The lab tenant of an audit practice (started on first use, kept for the process)."""
        with self._lock:
            if practice_id not in self._entra:
                entra = start_entra(AUDIT_BY_ID[practice_id].entra, pki=self.pki, redirect_uris=lab_redirect_uris())
                self._servers.append(entra)
                self._entra[practice_id] = entra
            return self._entra[practice_id]

    def audit_values(self, practice_id: str) -> dict[str, Any]:
        """Settings of the audited setup for checks.settings.loading.config_from_values."""
        entra = self.audit_tenant(practice_id)
        return {"profile": "m365-oauth2", "tenant_id": entra.tenant_id, "client_id": entra.client_id,
                "client_secret": entra.client_secret, "secret_expires": entra.secret_expires.isoformat(),
                "sender": entra.sender, "login_url": entra.base_url, "graph_url": entra.graph_url,
                "ca_file": str(self.pki.ca_file), "timeout": PRACTICE_TIMEOUT, "deadline": 30}

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
