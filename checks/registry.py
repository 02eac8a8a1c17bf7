"""The ordered checklist: each check's id, title, prerequisites and the loader of its function."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from checks.model import CheckId, Finding
from checks.run_state import CheckContext
from checks.settings.config import AuthMethod, RelayConfig, Security
from checks.settings.profiles import relay_provider
from checks.settings.providers import provider_managed_domain

CheckFunction = Callable[[CheckContext], Finding]
OAUTH = (AuthMethod.OAUTH2, AuthMethod.OAUTH2_APP)


def _always(config: RelayConfig) -> bool:
    return True


def _none(config: RelayConfig) -> tuple[CheckId, ...]:
    return ()


@dataclass(frozen=True)
class CheckSpec:
    """One checklist entry. `load` returns the check function (importing its module on first use); `requires`
    must pass (or warn) first; `after` must merely have finished (its results are read); `--only` brings in both."""

    id: CheckId
    title: str
    load: Callable[[], CheckFunction]
    applies: Callable[[RelayConfig], bool] = _always
    requires: Callable[[RelayConfig], tuple[CheckId, ...]] = _none
    after: Callable[[RelayConfig], tuple[CheckId, ...]] = _none


def _own_domain(config: RelayConfig) -> bool:
    """A sender domain whose SPF, DKIM and DMARC the user publishes (not gmail.com or outlook.com)."""
    return config.sender_domain is not None and not provider_managed_domain(config.sender_domain)


def _secure(config: RelayConfig) -> tuple[CheckId, ...]:
    """The last step before AUTH: TLS after STARTTLS; the greeting (EHLO) for implicit TLS or none."""
    return (CheckId.TLS,) if config.security is Security.STARTTLS else (CheckId.SMTP_GREETING,)


# Loaders: each check's module is imported when the check first runs, on the runner's worker thread. A run then
# imports only the check families its plan needs (no OAuth2 code for a password setup), and a step's module loads
# while the step before it waits for the server. Editors and linters follow these imports like any other.


def _settings() -> CheckFunction:
    from checks.settings.check import check_settings
    return check_settings


def _host() -> CheckFunction:
    from checks.dns.host import check_host
    return check_host


def _mx() -> CheckFunction:
    from checks.dns.mx import check_mx
    return check_mx


def _spf() -> CheckFunction:
    from checks.domain.spf import check_spf
    return check_spf


def _dkim() -> CheckFunction:
    from checks.domain.dkim import check_dkim
    return check_dkim


def _dmarc() -> CheckFunction:
    from checks.domain.dmarc import check_dmarc
    return check_dmarc


def _port() -> CheckFunction:
    from checks.smtp.port import check_port
    return check_port


def _greeting() -> CheckFunction:
    from checks.smtp.greeting import check_greeting
    return check_greeting


def _tls() -> CheckFunction:
    from checks.smtp.tls import check_tls
    return check_tls


def _auth_mechanisms() -> CheckFunction:
    from checks.smtp.auth import check_auth_mechanisms
    return check_auth_mechanisms


def _tenant() -> CheckFunction:
    from checks.oauth.tenant import check_tenant
    return check_tenant


def _client() -> CheckFunction:
    from checks.oauth.client import check_client
    return check_client


def _secret_expiry() -> CheckFunction:
    from checks.oauth.secret_expiry import check_secret_expiry
    return check_secret_expiry


def _token() -> CheckFunction:
    from checks.oauth.token import check_token
    return check_token


def _scopes() -> CheckFunction:
    from checks.oauth.scopes import check_scopes
    return check_scopes


def _credentials() -> CheckFunction:
    from checks.smtp.auth import check_credentials
    return check_credentials


def _send_test() -> CheckFunction:
    from checks.smtp.message import check_send_test
    return check_send_test


def _sender() -> CheckFunction:
    return _check_sender


def _check_sender(ctx: CheckContext) -> Finding:
    """`sender`: MAIL FROM on the relay for passwords; for OAuth2 the sender must be the token user's primary address."""
    if ctx.config.auth in OAUTH:
        from checks.oauth.sender import check_graph_sender
        return check_graph_sender(ctx)
    from checks.smtp.sender import check_mail_from
    return check_mail_from(ctx)


CHECKLIST: tuple[CheckSpec, ...] = (
    CheckSpec(CheckId.SETTINGS, "Settings match the setup guide", _settings),
    CheckSpec(CheckId.DNS_HOST, "Relay host name resolves", _host),
    CheckSpec(CheckId.DNS_MX, "Sender domain's mail provider (MX)", _mx,
              applies=lambda c: c.sender_domain is not None),
    CheckSpec(CheckId.DOMAIN_SPF, "Sender domain's SPF authorises the relay", _spf, applies=_own_domain),
    CheckSpec(CheckId.DOMAIN_DKIM, "Sender domain's DKIM selectors", _dkim,
              applies=lambda c: _own_domain(c) and relay_provider(c) is not None),
    CheckSpec(CheckId.DOMAIN_DMARC, "Sender domain's DMARC policy and alignment", _dmarc, applies=_own_domain,
              after=lambda c: (CheckId.DOMAIN_SPF, CheckId.DOMAIN_DKIM)),
    CheckSpec(CheckId.PORT, "Port reachable", _port,
              requires=lambda c: () if c.connect_to else (CheckId.DNS_HOST,)),
    CheckSpec(CheckId.SMTP_GREETING, "SMTP greeting and EHLO", _greeting,
              requires=lambda c: (CheckId.TLS,) if c.security is Security.TLS else (CheckId.PORT,)),
    CheckSpec(CheckId.TLS, "TLS encryption and certificate", _tls,
              applies=lambda c: c.security is not Security.NONE,
              requires=lambda c: (CheckId.PORT,) if c.security is Security.TLS else (CheckId.SMTP_GREETING,)),
    CheckSpec(CheckId.AUTH_MECHANISMS, "SMTP AUTH offered", _auth_mechanisms,
              applies=lambda c: c.auth is not AuthMethod.NONE, requires=_secure),
    CheckSpec(CheckId.OAUTH_TENANT, "Tenant ID and tenant discovery", _tenant,
              applies=lambda c: c.auth in OAUTH),
    CheckSpec(CheckId.OAUTH_CLIENT, "Client ID and client secret", _client,
              applies=lambda c: c.auth in OAUTH, requires=lambda c: (CheckId.OAUTH_TENANT,)),
    CheckSpec(CheckId.OAUTH_SECRET_EXPIRY, "Client secret expiry", _secret_expiry,
              applies=lambda c: c.auth in OAUTH, after=lambda c: (CheckId.OAUTH_CLIENT,)),
    CheckSpec(CheckId.OAUTH_TOKEN, "Access token for SMTP", _token,
              applies=lambda c: c.auth in OAUTH, requires=lambda c: (CheckId.OAUTH_CLIENT,)),
    CheckSpec(CheckId.OAUTH_SCOPES, "Token permissions (scopes)", _scopes,
              applies=lambda c: c.auth in OAUTH, requires=lambda c: (CheckId.OAUTH_TOKEN,)),
    CheckSpec(CheckId.AUTH_CREDENTIALS, "SMTP sign-in", _credentials,
              applies=lambda c: c.auth is not AuthMethod.NONE,
              requires=lambda c: (CheckId.AUTH_MECHANISMS,) + ((CheckId.OAUTH_TOKEN,) if c.auth in OAUTH else ())),
    CheckSpec(CheckId.SENDER, "Sender address allowed", _sender,
              applies=lambda c: c.sender_domain is not None,
              requires=lambda c: (CheckId.OAUTH_TOKEN,) if c.auth in OAUTH
              else ((CheckId.AUTH_CREDENTIALS,) if c.auth is not AuthMethod.NONE else _secure(c)),
              after=lambda c: (CheckId.AUTH_CREDENTIALS,) if c.auth in OAUTH else ()),
    CheckSpec(CheckId.SEND_TEST, "Test message accepted", _send_test,
              applies=lambda c: c.send_test_to is not None, requires=lambda c: (CheckId.SENDER,)),
)

SPECS: dict[CheckId, CheckSpec] = {spec.id: spec for spec in CHECKLIST}


def plan(config: RelayConfig, only: tuple[CheckId, ...] | None = None) -> tuple[CheckSpec, ...]:
    """The checks that apply to `config`, limited to `only` plus what those require or read (their `after`
    checks: oauth.secret_expiry compares with what oauth.client found), in checklist order."""
    applicable = {spec.id for spec in CHECKLIST if spec.applies(config)}
    if only is None:
        wanted = applicable
    else:
        wanted, stack = set(), [c for c in only if c in applicable]
        while stack:
            current = stack.pop()
            if current not in wanted:
                wanted.add(current)
                spec = SPECS[current]
                stack.extend(d for d in spec.requires(config) + spec.after(config) if d in applicable)
    return tuple(spec for spec in CHECKLIST if spec.id in wanted)
