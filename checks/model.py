"""The engine's results: statuses, check ids, findings, check results and the run report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from checks.report.display import report_html, result_html
from checks.report.markdown import result_markdown, to_markdown, verdict_line
from checks.safe_text import one_line


class Status(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"
    ERROR = "error"


class CheckId(StrEnum):
    """Public check ids, in checklist order (docs/design.md contract)."""

    SETTINGS = "settings"
    DNS_HOST = "dns.host"
    DNS_MX = "dns.mx"
    DOMAIN_SPF = "domain.spf"
    DOMAIN_DKIM = "domain.dkim"
    DOMAIN_DMARC = "domain.dmarc"
    PORT = "port"
    SMTP_GREETING = "smtp.greeting"
    TLS = "tls"
    AUTH_MECHANISMS = "auth.mechanisms"
    OAUTH_TENANT = "oauth.tenant"
    OAUTH_CLIENT = "oauth.client"
    OAUTH_SECRET_EXPIRY = "oauth.secret_expiry"
    OAUTH_TOKEN = "oauth.token"
    OAUTH_SCOPES = "oauth.scopes"
    AUTH_CREDENTIALS = "auth.credentials"
    SENDER = "sender"
    SEND_TEST = "send.test"
    # The admin audit (python -m checks audit, page "Audit a tenant"): an extension of the contract.
    AUDIT_APP_AUDIENCE = "audit.app_audience"
    AUDIT_APP_REDIRECT = "audit.app_redirect"
    AUDIT_APP_PERMISSIONS = "audit.app_permissions"
    AUDIT_CONSENT = "audit.consent"
    AUDIT_SECRET = "audit.secret"
    AUDIT_SECURITY_DEFAULTS = "audit.security_defaults"
    AUDIT_CONDITIONAL_ACCESS = "audit.conditional_access"
    AUDIT_SENDER_ACCOUNT = "audit.sender_account"
    AUDIT_SENDER_LICENSE = "audit.sender_license"
    AUDIT_SENDER_ADDRESS = "audit.sender_address"
    AUDIT_SMTP_AUTH = "audit.smtp_auth"
    AUDIT_AUTH_POLICY = "audit.auth_policy"


class CommandLanguage(StrEnum):
    """What a copy-ready command is written in (picks the code block's highlighting)."""

    POWERSHELL = "powershell"
    SHELL = "shell"
    POSTFIX = "postfix"
    PROPERTIES = "properties"
    PYTHON = "python"
    JAVASCRIPT = "javascript"
    CSHARP = "csharp"
    PHP = "php"
    TEXT = "text"


@dataclass(frozen=True)
class Command:
    """One copy-ready command or setting, with the known values (mailbox, tenant, host) already filled in."""

    language: CommandLanguage
    code: str
    title: str = ""


class Facts:
    """Base of a check's machine-readable output: a small frozen dataclass per check (HostAddresses, TlsFacts...),
    read by type (`CheckContext.facts(CheckId.DNS_HOST, HostAddresses)`, `isinstance(result.facts, TlsFacts)`)."""


@dataclass(frozen=True)
class Finding:
    """What one check concluded, before the runner stamps it with id, title and duration."""

    status: Status
    summary: str
    details: str = ""
    remediation: str = ""
    guide_section: str = ""
    reply: str = ""
    transcript: tuple[str, ...] = ()
    facts: Facts | Mapping[str, Any] = field(default_factory=dict)  # typed Facts for the checklist's checks
    commands: tuple[Command, ...] = ()


class ReadsFinding:
    """Reads a held `finding` through its own attributes (result.summary, outcome.ok), for its users' convenience."""

    finding: Finding

    @property
    def status(self) -> Status:
        return self.finding.status

    @property
    def summary(self) -> str:
        return self.finding.summary

    @property
    def details(self) -> str:
        return self.finding.details

    @property
    def remediation(self) -> str:
        return self.finding.remediation

    @property
    def guide_section(self) -> str:
        return str(self.finding.guide_section)

    @property
    def reply(self) -> str:
        return self.finding.reply

    @property
    def transcript(self) -> tuple[str, ...]:
        return self.finding.transcript

    @property
    def facts(self) -> Facts | Mapping[str, Any]:
        return self.finding.facts

    @property
    def commands(self) -> tuple[Command, ...]:
        return self.finding.commands

    @property
    def ok(self) -> bool:
        return self.status in (Status.PASS, Status.WARN)


@dataclass(frozen=True)
class CheckResult(ReadsFinding):
    """One row of the report: which check, its title, what it found (the Finding) and how long it took."""

    check_id: CheckId
    title: str
    finding: Finding
    duration_ms: int = 0

    @classmethod
    def of(cls, check_id: CheckId, title: str, status: Status, summary: str, *, duration_ms: int = 0,
           **finding: Any) -> CheckResult:
        """A result built from its Finding's fields (for the runner's skips, imported rows and tests)."""
        return cls(check_id, title, Finding(status, summary, **finding), duration_ms)

    def __repr__(self) -> str:
        return f"<CheckResult {self.check_id} {self.status}: {one_line(self.summary, 80)}>"

    def _repr_html_(self) -> str:
        return result_html(self)

    def _repr_markdown_(self) -> str:
        return result_markdown(self)


class Verdict(StrEnum):
    READY = "ready"  # nothing failed or broke; warnings may remain
    INCOMPLETE = "incomplete"  # nothing failed, but some checks could not run (e.g. no refresh token yet)
    PROBLEMS = "problems"  # at least one fail or error


@dataclass(frozen=True)
class RunReport:
    """A finished (or imported) run: identity, the settings summary and the results in checklist order."""

    run_id: str
    started_at: dt.datetime
    finished_at: dt.datetime
    tool_version: str
    profile: str
    host: str
    port: int
    security: str
    sender: str
    results: tuple[CheckResult, ...]

    @property
    def verdict(self) -> Verdict:
        if self.problems:
            return Verdict.PROBLEMS
        return Verdict.INCOMPLETE if self.skipped else Verdict.READY

    @property
    def problems(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if r.status in (Status.FAIL, Status.ERROR))

    @property
    def skipped(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if r.status is Status.SKIP)

    @property
    def warnings(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if r.status is Status.WARN)

    def result(self, check_id: CheckId | str) -> CheckResult | None:
        return next((r for r in self.results if r.check_id == CheckId(check_id)), None)

    def __repr__(self) -> str:
        problems = f" ({', '.join(r.check_id for r in self.problems)})" if self.problems else ""
        return (f"<RunReport {one_line(self.run_id, 24)} {one_line(self.host, 60)}:{self.port} "
                f"{one_line(self.profile, 20)}: {verdict_line(self)}{problems}>")

    def _repr_html_(self) -> str:
        return report_html(self)

    def _repr_markdown_(self) -> str:
        return to_markdown(self)
