"""What the OAuth2 checks found, as typed facts later checks read (the tenant, the client's AADSTS code...)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from checks.model import Facts


@dataclass(frozen=True)
class TenantFacts(Facts):
    """oauth.tenant: the Directory (tenant) ID found, its cloud, and the tenant that owns the sender's domain."""

    tenant_guid: str = ""
    cloud_instance: str = ""
    sender_domain_tenant: str = ""
    tenant_cloud: str = ""  # set when the tenant lives in another cloud than the settings say


@dataclass(frozen=True)
class ClientFacts(Facts):
    """oauth.client: the app-only token's roles, or the AADSTS code Entra ID refused the client with."""

    app_roles: tuple[str, ...] = ()
    aadsts: int | None = None


@dataclass(frozen=True)
class SecretExpiryFacts(Facts):
    """oauth.secret_expiry: the secret's end date as Entra ID reports it and as entered (ISO dates)."""

    entra_end_date: str | None = None
    entered: str | None = None


@dataclass(frozen=True)
class TokenFacts(Facts):
    """oauth.token: whom the SMTP token acts for and its claims worth showing (never the token)."""

    user: str
    claims: Mapping[str, Any]


@dataclass(frozen=True)
class ScopeFacts(Facts):
    """oauth.scopes: the visible claims of the SMTP token and of the Graph token minted to check permissions."""

    smtp_token: Mapping[str, Any]
    graph_token: Mapping[str, Any] | None = None
    offline_access: bool | None = None


@dataclass(frozen=True)
class SenderFacts(Facts):
    """sender (OAuth2): the sender, the token's user, and what Graph says the mailbox is."""

    sender: str
    token_user: str | None = None
    primary: str | None = None
    user_purpose: str | None = None  # Exchange's mailbox type: 'user', 'shared', ...
