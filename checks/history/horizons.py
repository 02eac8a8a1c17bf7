"""The go-live horizon: dates that will break a setup that works today, read from a finished run.

- client secret: the expiry date Entra ID reports, else the one entered (oauth.secret_expiry facts);
- certificate: the server certificate's end date (tls facts);
- Basic auth: Microsoft's switch-off date, for Microsoft 365 setups that sign in with a password;
- refresh token: 90 days after the last run that redeemed it (known only from a run's history).
Each has a warning window; a date inside it is worth an alert.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

from checks.model import CheckId, RunReport, Status
from checks.oauth.facts import SecretExpiryFacts, TokenFacts
from checks.settings.check import SettingsFacts
from checks.settings.limits import (
    BASIC_AUTH_WARNING_DAYS,
    CERTIFICATE_WARNING_DAYS,
    REFRESH_TOKEN_INACTIVE_DAYS,
    REFRESH_TOKEN_WARNING_DAYS,
    SECRET_WARNING_DAYS,
)
from checks.smtp.facts import TlsFacts

FactsT = TypeVar("FactsT")


class Horizon(StrEnum):
    CLIENT_SECRET = "client_secret"
    CERTIFICATE = "certificate"
    BASIC_AUTH = "basic_auth"
    REFRESH_TOKEN = "refresh_token"


WARNING_DAYS: Mapping[Horizon, int] = {
    Horizon.CLIENT_SECRET: SECRET_WARNING_DAYS,
    Horizon.CERTIFICATE: CERTIFICATE_WARNING_DAYS,
    Horizon.BASIC_AUTH: BASIC_AUTH_WARNING_DAYS,
    Horizon.REFRESH_TOKEN: REFRESH_TOKEN_WARNING_DAYS,
}
TITLES: Mapping[Horizon, str] = {
    Horizon.CLIENT_SECRET: "client secret expires",
    Horizon.CERTIFICATE: "server certificate expires",
    Horizon.BASIC_AUTH: "Microsoft switches Basic auth off",
    Horizon.REFRESH_TOKEN: "refresh token expires unless used",
}


def _date(text: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(text)[:10]) if text else None
    except ValueError:
        return None


def facts_of(report: RunReport, check_id: CheckId, kind: type[FactsT]) -> FactsT | None:
    """The typed facts a check of this run recorded, or None (a report read back from a file has none)."""
    result = report.result(check_id)
    return result.facts if result is not None and isinstance(result.facts, kind) else None


def _client_secret(report: RunReport) -> dt.date | None:
    facts = facts_of(report, CheckId.OAUTH_SECRET_EXPIRY, SecretExpiryFacts)
    dates = [d for d in (_date(facts.entra_end_date), _date(facts.entered)) if d] if facts else []
    return min(dates) if dates else None


def _certificate(report: RunReport) -> dt.date | None:
    facts = facts_of(report, CheckId.TLS, TlsFacts)
    return _date(facts.certificate_not_after) if facts else None


def _basic_auth(report: RunReport) -> dt.date | None:
    facts = facts_of(report, CheckId.SETTINGS, SettingsFacts)
    return _date(facts.basic_auth_off) if facts else None


def _refresh_token(report: RunReport, previous: Mapping[Horizon, dt.date]) -> dt.date | None:
    result = report.result(CheckId.OAUTH_TOKEN)
    if result is None:
        return None
    token = facts_of(report, CheckId.OAUTH_TOKEN, TokenFacts)
    claims = token.claims if token else {}
    if result.status is Status.PASS and claims.get("scp"):  # delegated: the refresh token was redeemed
        return report.started_at.date() + dt.timedelta(days=REFRESH_TOKEN_INACTIVE_DAYS)
    return previous.get(Horizon.REFRESH_TOKEN)


def horizons_of(report: RunReport, *, previous: Mapping[Horizon, dt.date] | None = None) -> dict[Horizon, dt.date]:
    """The horizon dates this run shows; `previous` (the setup's last stored run) carries the refresh token's."""
    found = {
        Horizon.CLIENT_SECRET: _client_secret(report),
        Horizon.CERTIFICATE: _certificate(report),
        Horizon.BASIC_AUTH: _basic_auth(report),
        Horizon.REFRESH_TOKEN: _refresh_token(report, previous or {}),
    }
    return {kind: when for kind, when in found.items() if when is not None}


def days_until(when: dt.date, today: dt.date) -> int:
    return (when - today).days


def in_window(kind: Horizon, when: dt.date, today: dt.date) -> bool:
    """True when `when` is at most the kind's warning days away (or already past)."""
    return days_until(when, today) <= WARNING_DAYS[kind]


def encode(horizons: Mapping[Horizon, dt.date]) -> dict[str, str]:
    return {str(kind): when.isoformat() for kind, when in sorted(horizons.items())}


def decode(document: Mapping[str, str]) -> dict[Horizon, dt.date]:
    out = {}
    for key, value in document.items():
        when = _date(value)
        if when is not None and key in Horizon._value2member_map_:
            out[Horizon(key)] = when
    return out
