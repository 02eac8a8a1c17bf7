"""The answer to a run, before any detail: the verdict, the first broken step's cause and fix, the commands to
run, the checks in the order to read them, and every date that will break the setup (the go-live horizon)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from checks.model import CheckId, CheckResult, Command, CommandLanguage, RunReport, Status, Verdict
from checks.oauth.facts import SecretExpiryFacts
from checks.report.export import verdict_line
from checks.settings.check import BASIC_AUTH_OFF_BY_DEFAULT
from checks.smtp.facts import TlsFacts
from console.commands import commands_in, fill

REFRESH_TOKEN_IDLE_DAYS = 90  # Entra ID's default inactivity lifetime of a refresh token
HORIZON_YEARS = 10  # a date further away (a lab certificate valid until 2999) breaks nothing anyone plans for
READING_ORDER = {Status.FAIL: 0, Status.ERROR: 1, Status.WARN: 2, Status.SKIP: 3, Status.PASS: 4}
_SKIPPED_BECAUSE = re.compile(r"\((?P<check>[a-z.]+)\) ended with")
_ISO_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")


class Tone(StrEnum):
    """How the verdict card is coloured."""

    PROBLEM = "problem"
    CAUTION = "caution"
    GOOD = "good"


@dataclass(frozen=True)
class HorizonDate:
    """One date on which this setup stops working unless someone acts."""

    day: dt.date
    what: str

    def describe(self, today: dt.date) -> str:
        days = (self.day - today).days
        when = f"in {days} days" if days > 0 else "today" if days == 0 else f"{-days} days ago"
        return f"{self.day.isoformat()} {self.what} ({when})"


@dataclass(frozen=True)
class Answer:
    """What the verdict card says."""

    tone: Tone
    headline: str
    step: CheckResult | None  # the step the answer is about: the first failure, the root skip or a warning
    cause: str
    fix: str
    commands: tuple[Command, ...]
    horizon: tuple[HorizonDate, ...]


def reading_order(report: RunReport) -> tuple[CheckResult, ...]:
    """Problems first, then warnings, skips and passes; checklist order within each."""
    ranked = sorted(enumerate(report.results), key=lambda item: (READING_ORDER[item[1].status], item[0]))
    return tuple(result for _, result in ranked)


def root_cause(report: RunReport, result: CheckResult) -> CheckResult:
    """For a skipped check, the first check up its chain of prerequisites that did not skip (else itself)."""
    seen: set[str] = set()
    current = result
    while current.status is Status.SKIP:
        match = _SKIPPED_BECAUSE.search(current.summary)
        if match is None or match.group("check") in seen:
            return current
        seen.add(match.group("check"))
        found = report.result(match.group("check")) if match.group("check") in set(CheckId) else None
        if found is None:
            return current
        current = found
    return current


def cause_of(result: CheckResult) -> str:
    """The cause in a sentence: the catalog's cause where the engine recorded one, else the summary."""
    for line in result.details.splitlines():
        if line.startswith("Cause: "):
            return line.removeprefix("Cause: ").strip()
    return result.summary


def commands_for(result: CheckResult, known: Mapping[str, str]) -> tuple[Command, ...]:
    """Copy-ready commands of a result: the engine's own (placeholders it could not fill filled from the form),
    else the PowerShell lines its fix names."""
    if result.commands:
        return tuple(Command(c.language, fill(c.code, known), c.title) for c in result.commands)
    return tuple(Command(CommandLanguage.POWERSHELL, code) for code in commands_in(result.remediation, known))


def _date_in(text: str) -> dt.date | None:
    for found in _ISO_DATE.findall(text):
        try:
            return dt.date.fromisoformat(found)
        except ValueError:
            continue
    return None


def horizon(report: RunReport) -> tuple[HorizonDate, ...]:
    """Every known date that will break the setup, soonest first."""
    dates: list[HorizonDate] = []
    settings = report.result(CheckId.SETTINGS)
    if report.profile == "m365-basic" or (settings and "Basic authentication" in settings.summary + settings.details):
        dates.append(HorizonDate(BASIC_AUTH_OFF_BY_DEFAULT, "Microsoft turns Basic auth for SMTP off by default"))
    secret = report.result(CheckId.OAUTH_SECRET_EXPIRY)
    if secret is not None:
        facts = secret.facts if isinstance(secret.facts, SecretExpiryFacts) else None
        known = [d for d in (facts.entered, facts.entra_end_date) if d] if facts else []
        days = [d for d in (_date_in(text) for text in known or [secret.summary]) if d]
        if days:
            dates.append(HorizonDate(min(days), "the client secret expires"))
    tls = report.result(CheckId.TLS)
    if tls is not None and tls.status in (Status.PASS, Status.WARN):
        left = tls.facts.days_left if isinstance(tls.facts, TlsFacts) else None
        day = (report.started_at.date() + dt.timedelta(days=int(left)) if isinstance(left, int)
               else _date_in(tls.details.partition("valid until")[2]))
        if day:
            dates.append(HorizonDate(day, "the server certificate expires"))
    token = report.result(CheckId.OAUTH_TOKEN)
    if token is not None and token.status in (Status.PASS, Status.WARN):
        dates.append(HorizonDate(report.started_at.date() + dt.timedelta(days=REFRESH_TOKEN_IDLE_DAYS),
                                 "the refresh token expires if no mail is sent until then"))
    limit = report.started_at.date() + dt.timedelta(days=365 * HORIZON_YEARS)
    return tuple(sorted((d for d in dates if d.day <= limit), key=lambda d: d.day))


def _headline(report: RunReport, dates: tuple[HorizonDate, ...]) -> str:
    line = verdict_line(report)
    if report.verdict is Verdict.READY and dates:
        return f"{line}: works until {dates[0].day.isoformat()}"
    return line


def answer(report: RunReport, *, known: Mapping[str, str] | None = None) -> Answer:
    """The verdict card's content for a report; `known` fills placeholders (defaults to the report's sender)."""
    values = {"sender": report.sender, **(known or {})}
    dates = horizon(report)
    first = reading_order(report)[0] if report.results else None
    if first is not None and first.status is Status.SKIP:
        first = root_cause(report, first)
    if report.verdict is Verdict.PROBLEMS:
        tone = Tone.PROBLEM
    elif report.verdict is Verdict.INCOMPLETE or report.warnings:
        tone = Tone.CAUTION
    else:
        tone = Tone.GOOD
    if first is None or first.status is Status.PASS:
        return Answer(tone, _headline(report, dates), None, "", "", (), dates)
    return Answer(tone, _headline(report, dates), first, cause_of(first), fill(first.remediation, values),
                  commands_for(first, values), dates)
