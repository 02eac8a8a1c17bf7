"""The validated settings of one relay setup (RelayConfig), its enums, and the per-field validation rules."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from dataclasses import dataclass, fields, replace
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any

from checks.settings.secret import Secret

CA_FILE_PROBLEM = "is not a readable PEM file of CA certificates on this machine"
MAX_CA_FILE_BYTES = 1024 * 1024


class Security(StrEnum):
    STARTTLS = "starttls"
    TLS = "tls"
    NONE = "none"


class AuthMethod(StrEnum):
    PASSWORD = "password"
    OAUTH2 = "oauth2"  # delegated: refresh token from an admin sign-in (the guide's setup)
    OAUTH2_APP = "oauth2-app"  # app-only: client credentials + SMTP.SendAsApp
    NONE = "none"


class ProfileId(StrEnum):
    GMAIL = "gmail"
    WORKSPACE = "workspace"
    M365_BASIC = "m365-basic"
    M365_OAUTH2 = "m365-oauth2"
    CUSTOM = "custom"


class Cloud(StrEnum):
    GLOBAL = "global"
    USGOV = "usgov"
    CHINA = "china"


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class InvalidSettings(ValueError):
    """Raised when settings do not validate; carries one message per offending field."""

    def __init__(self, errors: list[FieldError] | tuple[FieldError, ...]) -> None:
        self.errors = tuple(errors)
        super().__init__("; ".join(str(e) for e in self.errors))


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")


_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")


_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def has_control_chars(text: str) -> bool:
    return bool(_CONTROL.search(text))


def host_error(host: str) -> str | None:
    """Why `host` is not a DNS name or IP literal, or None when it is one."""
    if not host:
        return "is required (e.g. smtp.office365.com)"
    if has_control_chars(host) or " " in host:
        return "must not contain spaces or control characters"
    candidate = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        ipaddress.ip_address(candidate)
        return None
    except ValueError:
        pass
    name = host.rstrip(".")
    if len(name) > 253 or not all(_HOST_LABEL.match(label) for label in name.split(".")):
        return "is not a valid host name or IP address (letters, digits, '-' and '.' only)"
    return None


def address_error(address: str) -> str | None:
    """Why `address` is not an RFC 5321 mailbox (local@domain), or None when it is one."""
    if has_control_chars(address):
        return "must not contain line breaks or control characters"
    if len(address) > 254:
        return "is longer than the 254 characters SMTP allows"
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        return "must be a full e-mail address such as name@example.com"
    if len(local) > 64 or not _LOCAL_PART.match(local):
        return "has characters SMTP does not accept before the '@'"
    if domain.startswith("[") or host_error(domain) or "." not in domain:
        return "must end in a domain name such as example.com"
    return None


def is_guid(text: str) -> bool:
    return bool(_GUID.match(text))


@dataclass(frozen=True)
class RelayConfig:
    """Validated settings of one relay setup; secret fields hold `Secret`s and never print."""

    profile: ProfileId
    host: str
    port: int
    security: Security
    auth: AuthMethod
    username: str | None = None
    sender: str | None = None
    password: Secret | None = None
    ca_file: Path | None = None
    nameserver: str | None = None
    connect_to: str | None = None
    timeout: float = 10.0
    deadline: float = 60.0
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: Secret | None = None
    secret_expires: dt.date | None = None
    refresh_token: Secret | None = None
    cloud: Cloud = Cloud.GLOBAL
    login_url: str | None = None
    graph_url: str | None = None
    send_test_to: str | None = None
    ehlo_name: str = "relay-console.invalid"

    def __post_init__(self) -> None:
        errors = validation_errors(self)
        if errors:
            raise InvalidSettings(errors)

    @property
    def sender_domain(self) -> str | None:
        address = self.sender or self.username
        if address and "@" in address:
            return address.rpartition("@")[2].lower()
        return None

    @property
    def nameserver_address(self) -> tuple[str, int] | None:
        return split_host_port(self.nameserver, default_port=53) if self.nameserver else None

    @property
    def connect_address(self) -> tuple[str, int] | None:
        return split_host_port(self.connect_to, default_port=self.port) if self.connect_to else None

    def with_changes(self, **changes: Any) -> RelayConfig:
        return replace(self, **changes)

    def public_settings(self) -> dict[str, Any]:
        """The settings as plain values, secrets left out (safe for reports, TOML export, logs)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name in SECRET_FIELDS:
                continue
            value = getattr(self, f.name)
            if value is None:
                continue
            if isinstance(value, Enum):
                value = value.value
            elif isinstance(value, (Path, dt.date)):
                value = str(value)
            out[f.name] = value
        return out


SECRET_FIELDS = tuple(f.name for f in fields(RelayConfig) if f.type == "Secret | None")  # never printed or saved


def split_host_port(text: str, *, default_port: int) -> tuple[str, int]:
    """'1.2.3.4', '1.2.3.4:5353', '[::1]:53' or '::1' -> (host, port); raises ValueError."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    else:
        host, port_text = text, ""
    port = int(port_text) if port_text else default_port
    if not 1 <= port <= 65535:
        raise ValueError("port out of range")
    return host, port


def _is_file(path: Path | str) -> bool:
    try:
        return Path(path).is_file()
    except (OSError, ValueError):  # too long, NUL byte, no permission: not a usable file either way
        return False


def validation_errors(config: RelayConfig) -> list[FieldError]:
    """Every problem with `config`, each naming its field and what is expected."""
    errors: list[FieldError] = []

    def check(name: str, problem: str | None) -> None:
        if problem:
            errors.append(FieldError(name, problem))

    check("host", host_error(config.host))
    if isinstance(config.port, bool) or not isinstance(config.port, int) or not 1 <= config.port <= 65535:
        check("port", "must be a whole number from 1 to 65535 (587 for STARTTLS, 465 for implicit TLS)")
    for name in ("username", "sender", "send_test_to"):
        value = getattr(config, name)
        if value is not None:
            check(name, address_error(value))
    if config.auth is AuthMethod.PASSWORD:
        if not config.username:
            check("username", "is required for password authentication (the full mailbox address)")
        if not config.password:
            check("password", "is required for password authentication")
    if config.password is not None and has_control_chars(config.password.reveal()):
        check("password", "must not contain line breaks or control characters")
    for name in ("client_secret", "refresh_token"):
        secret = getattr(config, name)
        if secret is not None and has_control_chars(secret.reveal()):
            check(name, "must not contain line breaks or control characters")
    for name in ("tenant_id", "client_id"):
        value = getattr(config, name)
        if value is not None and (has_control_chars(value) or " " in value.strip() or not value.strip()):
            check(name, "must be a single value without spaces or control characters")
    if config.auth in (AuthMethod.OAUTH2, AuthMethod.OAUTH2_APP):
        if not config.tenant_id:
            check("tenant_id", "is required for OAuth2 (Overview > Directory (tenant) ID)")
        if not config.client_id:
            check("client_id", "is required for OAuth2 (Overview > Application (client) ID)")
        if not config.client_secret:
            check("client_secret", "is required for OAuth2 (Certificates & secrets > the secret's Value)")
    if config.auth is AuthMethod.OAUTH2_APP and not (config.username or config.sender):
        check("sender", "is required for app-only OAuth2 (the mailbox to send as)")
    for name in ("timeout", "deadline"):
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 600:
            check(name, "must be a number of seconds above 0 and at most 600")
    for name in ("nameserver", "connect_to"):
        value = getattr(config, name)
        if value is None:
            continue
        try:
            host, _ = split_host_port(value, default_port=1)
        except ValueError:
            check(name, "must be HOST or HOST:PORT with a port from 1 to 65535")
            continue
        if name == "nameserver":
            try:
                ipaddress.ip_address(host)
            except ValueError:
                check(name, "must be an IP address, optionally with :PORT (e.g. 192.0.2.53:53)")
        else:
            check(name, host_error(host))
    for name in ("login_url", "graph_url"):
        value = getattr(config, name)
        if value is not None and (not value.startswith("https://") or has_control_chars(value) or " " in value):
            check(name, "must be an https:// URL")
    if config.ca_file is not None and not _is_file(config.ca_file):
        check("ca_file", CA_FILE_PROBLEM)
    if has_control_chars(config.ehlo_name) or host_error(config.ehlo_name):
        check("ehlo_name", "must be a host name")
    return errors
