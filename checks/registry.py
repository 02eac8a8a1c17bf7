"""The ordered checklist: each check's id, title, prerequisites and its function."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from checks.dns.host import check_host
from checks.dns.mx import check_mx
from checks.domain.dkim import check_dkim
from checks.domain.dmarc import check_dmarc
from checks.domain.spf import check_spf
from checks.model import CheckId, Finding
from checks.oauth.client import check_client
from checks.oauth.scopes import check_scopes
from checks.oauth.secret_expiry import check_secret_expiry
from checks.oauth.sender import check_graph_sender
from checks.oauth.tenant import check_tenant
from checks.oauth.token import check_token
from checks.run_state import CheckContext
from checks.settings.check import check_settings
from checks.settings.config import AuthMethod, RelayConfig, Security
from checks.settings.profiles import relay_provider
from checks.settings.providers import provider_managed_domain
from checks.smtp.auth import check_auth_mechanisms, check_credentials
from checks.smtp.greeting import check_greeting
from checks.smtp.message import check_send_test
from checks.smtp.port import check_port
from checks.smtp.sender import check_mail_from
from checks.smtp.tls import check_tls

CheckFunction = Callable[..., Finding]
OAUTH = (AuthMethod.OAUTH2, AuthMethod.OAUTH2_APP)


def _always(config: RelayConfig) -> bool:
    return True


def _none(config: RelayConfig) -> tuple[CheckId, ...]:
    return ()


@dataclass(frozen=True)
class CheckSpec:
    """One checklist entry. `requires` must pass (or warn) first; `after` must merely have finished (its results
    are read); `--only` brings in both."""

    id: CheckId
    title: str
    function: CheckFunction
    applies: Callable[[RelayConfig], bool] = _always
    requires: Callable[[RelayConfig], tuple[CheckId, ...]] = _none
    after: Callable[[RelayConfig], tuple[CheckId, ...]] = _none



def _own_domain(config: RelayConfig) -> bool:
    """A sender domain whose SPF, DKIM and DMARC the user publishes (not gmail.com or outlook.com)."""
    return config.sender_domain is not None and not provider_managed_domain(config.sender_domain)


def check_sender(ctx: CheckContext) -> Finding:
    """`sender`: MAIL FROM on the relay for passwords; for OAuth2 the sender must be the token user's primary address."""
    return check_graph_sender(ctx) if ctx.config.auth in OAUTH else check_mail_from(ctx)


def _secure(config: RelayConfig) -> tuple[CheckId, ...]:
    """The last step before AUTH: TLS after STARTTLS; the greeting (EHLO) for implicit TLS or none."""
    return (CheckId.TLS,) if config.security is Security.STARTTLS else (CheckId.SMTP_GREETING,)


CHECKLIST: tuple[CheckSpec, ...] = (
    CheckSpec(CheckId.SETTINGS, "Settings match the setup guide", check_settings),
    CheckSpec(CheckId.DNS_HOST, "Relay host name resolves", check_host),
    CheckSpec(CheckId.DNS_MX, "Sender domain's mail provider (MX)", check_mx,
              applies=lambda c: c.sender_domain is not None),
    CheckSpec(CheckId.DOMAIN_SPF, "Sender domain's SPF authorises the relay", check_spf, applies=_own_domain),
    CheckSpec(CheckId.DOMAIN_DKIM, "Sender domain's DKIM selectors", check_dkim,
              applies=lambda c: _own_domain(c) and relay_provider(c) is not None),
    CheckSpec(CheckId.DOMAIN_DMARC, "Sender domain's DMARC policy and alignment", check_dmarc, applies=_own_domain,
              after=lambda c: (CheckId.DOMAIN_SPF, CheckId.DOMAIN_DKIM)),
    CheckSpec(CheckId.PORT, "Port reachable", check_port,
              requires=lambda c: () if c.connect_to else (CheckId.DNS_HOST,)),
    CheckSpec(CheckId.SMTP_GREETING, "SMTP greeting and EHLO", check_greeting,
              requires=lambda c: (CheckId.TLS,) if c.security is Security.TLS else (CheckId.PORT,)),
    CheckSpec(CheckId.TLS, "TLS encryption and certificate", check_tls,
              applies=lambda c: c.security is not Security.NONE,
              requires=lambda c: (CheckId.PORT,) if c.security is Security.TLS else (CheckId.SMTP_GREETING,)),
    CheckSpec(CheckId.AUTH_MECHANISMS, "SMTP AUTH offered", check_auth_mechanisms,
              applies=lambda c: c.auth is not AuthMethod.NONE, requires=_secure),
    CheckSpec(CheckId.OAUTH_TENANT, "Tenant ID and tenant discovery", check_tenant,
              applies=lambda c: c.auth in OAUTH),
    CheckSpec(CheckId.OAUTH_CLIENT, "Client ID and client secret", check_client,
              applies=lambda c: c.auth in OAUTH, requires=lambda c: (CheckId.OAUTH_TENANT,)),
    CheckSpec(CheckId.OAUTH_SECRET_EXPIRY, "Client secret expiry", check_secret_expiry,
              applies=lambda c: c.auth in OAUTH, after=lambda c: (CheckId.OAUTH_CLIENT,)),
    CheckSpec(CheckId.OAUTH_TOKEN, "Access token for SMTP", check_token,
              applies=lambda c: c.auth in OAUTH, requires=lambda c: (CheckId.OAUTH_CLIENT,)),
    CheckSpec(CheckId.OAUTH_SCOPES, "Token permissions (scopes)", check_scopes,
              applies=lambda c: c.auth in OAUTH, requires=lambda c: (CheckId.OAUTH_TOKEN,)),
    CheckSpec(CheckId.AUTH_CREDENTIALS, "SMTP sign-in", check_credentials,
              applies=lambda c: c.auth is not AuthMethod.NONE,
              requires=lambda c: (CheckId.AUTH_MECHANISMS,) + ((CheckId.OAUTH_TOKEN,) if c.auth in OAUTH else ())),
    CheckSpec(CheckId.SENDER, "Sender address allowed", check_sender,
              applies=lambda c: c.sender_domain is not None,
              requires=lambda c: (CheckId.OAUTH_TOKEN,) if c.auth in OAUTH
              else ((CheckId.AUTH_CREDENTIALS,) if c.auth is not AuthMethod.NONE else _secure(c)),
              after=lambda c: (CheckId.AUTH_CREDENTIALS,) if c.auth in OAUTH else ()),
    CheckSpec(CheckId.SEND_TEST, "Test message accepted", check_send_test,
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
