"""The relay form: which fields each profile needs, where to find each value, and form values <-> settings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from checks.settings.config import SECRET_FIELDS, AuthMethod, FieldError, InvalidSettings, ProfileId, RelayConfig
from checks.settings.loading import SETTING_KEYS, config_from_values, parse_toml, to_toml
from checks.settings.profiles import PROFILES, profile
from checks.settings.providers import Provider
from checks.target_policy import TargetPolicy

FORM_PREFIX = "form."


@dataclass(frozen=True)
class FieldSpec:
    """One input of the relay form."""

    key: str  # a config_from_values key
    label: str
    kind: str  # text, secret, int, float, select, date
    help: str = ""
    options: tuple[str, ...] = ()
    placeholder: str = ""
    advanced: bool = False


def _spec(key: str, label: str, kind: str = "text", help: str = "", **more: Any) -> FieldSpec:
    return FieldSpec(key, label, kind, help, **more)


HOST = {
    Provider.GOOGLE: "Guide: SMTP Server = smtp.gmail.com.",
    Provider.MICROSOFT: "Guide: SMTP server = smtp.office365.com (US Government: smtp.office365.us).",
    None: "The relay's host name, from your mail provider or mail administrator.",
}
_SECURITY_HELP = ("STARTTLS on 587 is what the guide calls 'Security: TLS'. "
                  "'tls' is implicit TLS (usually port 465); 'none' sends in clear text.")

_FIELDS: dict[str, FieldSpec] = {
    "port": _spec("port", "Port", "int", "Guide: 587. Use 465 only with implicit TLS."),
    "security": _spec("security", "Security", "select", _SECURITY_HELP, options=("starttls", "tls", "none")),
    "auth": _spec("auth", "Authentication", "select",
                  "'password': the server asks for a username and password. 'none': an open relay "
                  "(for example one that trusts your IP address).", options=("password", "none")),
    "tenant_id": _spec("tenant_id", "Tenant ID", help="Entra ID > App registrations > your app > "
                       "Overview > Directory (tenant) ID.",
                       placeholder="00000000-0000-0000-0000-000000000000"),
    "client_id": _spec("client_id", "Client ID", help="Entra ID > App registrations > your app > "
                       "Overview > Application (client) ID.",
                       placeholder="00000000-0000-0000-0000-000000000000"),
    "client_secret": _spec("client_secret", "Client secret (Value)", "secret",
                           "Your app > Certificates & secrets > Client secrets > the Value column. It is shown "
                           "only once, right after 'New client secret'; the Secret ID is not the secret."),
    "secret_expires": _spec("secret_expires", "Client secret expires on", "date",
                            "Your app > Certificates & secrets > Client secrets > Expires."),
    "cloud": _spec("cloud", "Microsoft cloud", "select",
                   "'global' for almost everyone; 'usgov' for GCC High / DoD; 'china' for 21Vianet.",
                   options=("global", "usgov", "china")),
    "refresh_token": _spec("refresh_token", "Refresh token (optional)", "secret",
                           "Filled in for you by Tools > Sign in with Microsoft. Leave empty to test only the "
                           "app registration (tenant, client, secret).", advanced=True),
    "send_test_to": _spec("send_test_to", "Send a test message to (optional)",
                          help="An address that should receive a real test message. Leave empty to stop before "
                          "sending anything.", placeholder="you@example.com"),
    "nameserver": _spec("nameserver", "DNS server", help="Ask this DNS server instead of the system's "
                        "(IP[:PORT]). The practice lab sets its own.", advanced=True),
    "connect_to": _spec("connect_to", "Connect to", help="Open the SMTP connection to this address instead of "
                        "the host's (HOST[:PORT]); the certificate is still checked for the host name.",
                        advanced=True),
    "ca_file": _spec("ca_file", "Extra CA file", help="A PEM file with a CA to trust (a private CA or a "
                     "TLS-inspecting proxy's CA), as a path on the console's machine.", advanced=True),
    "timeout": _spec("timeout", "Timeout per step (s)", "float", "Seconds each network step may take.",
                     advanced=True),
    "deadline": _spec("deadline", "Deadline for the run (s)", "float", "Seconds the whole run may take.",
                      advanced=True),
    "login_url": _spec("login_url", "Login URL", help="Only for a private or test Entra endpoint "
                       "(https://...). Leave empty for Microsoft's.", advanced=True),
    "graph_url": _spec("graph_url", "Graph URL", help="Only for a private or test Graph endpoint "
                       "(https://...). Leave empty for Microsoft's.", advanced=True),
}

_PER_PROVIDER: dict[Provider | str | None, dict[str, FieldSpec]] = {
    Provider.GOOGLE: {
        "username": _spec("username", "Username", help="Your full Gmail or Google Workspace address.",
                          placeholder="name@gmail.com"),
        "password": _spec("password", "App password", "secret",
                          "The 16-letter app password: myaccount.google.com/apppasswords (Google Account > "
                          "Security > 2-Step Verification > App passwords). Not your account password."),
        "sender": _spec("sender", "Sender", help="Guide: your Gmail or G Suite address (the username).",
                        placeholder="name@gmail.com"),
    },
    Provider.MICROSOFT: {
        "username": _spec("username", "Username", help="Your Microsoft 365 address (the mailbox that sends).",
                          placeholder="name@contoso.com"),
        "password": _spec("password", "Password", "secret", "The password of that Microsoft 365 account."),
        "sender": _spec("sender", "Sender", help="Guide: your Office 365 address (the username).",
                        placeholder="name@contoso.com"),
    },
    "oauth": {
        "sender": _spec("sender", "Sender", help="The primary address of the user who signs in "
                        "(myaccount.microsoft.com > Overview). No alias, no shared mailbox.",
                        placeholder="name@contoso.com"),
    },
    None: {
        "username": _spec("username", "Username", help="The mailbox or account the relay signs in with.",
                          placeholder="name@example.com"),
        "password": _spec("password", "Password", "secret", "The password of that account."),
        "sender": _spec("sender", "Sender", help="The From address your application uses.",
                        placeholder="name@example.com"),
    },
}

SELECT_OPTIONS = {"profile": tuple(p.value for p in ProfileId), "security": ("starttls", "tls", "none"),
                  "auth": ("password", "none"), "cloud": ("global", "usgov", "china")}
ALL_KEYS = tuple(dict.fromkeys(("profile", *SETTING_KEYS, *SECRET_FIELDS)))
FORM_KEYS = tuple(k for k in ALL_KEYS if not k.endswith("_env"))


def host_spec(profile_id: str) -> FieldSpec:
    return _spec("host", "SMTP server", help=HOST[profile(profile_id).provider], placeholder="smtp.example.com")


def fields_for(profile_id: str, *, auth: str = "password") -> tuple[FieldSpec, ...]:
    """The inputs the profile needs, in screen order (advanced ones flagged)."""
    preset = profile(profile_id)
    server = (host_spec(profile_id), _FIELDS["port"], _FIELDS["security"])
    if preset.auth is AuthMethod.OAUTH2:
        own = _PER_PROVIDER["oauth"]
        main = (_FIELDS["tenant_id"], _FIELDS["client_id"], _FIELDS["client_secret"], _FIELDS["secret_expires"],
                own["sender"], _FIELDS["cloud"])
        extra = (_FIELDS["refresh_token"], _FIELDS["login_url"], _FIELDS["graph_url"])
    else:
        own = _PER_PROVIDER[preset.provider]
        if preset.id is ProfileId.CUSTOM:
            account = (_FIELDS["auth"],) + ((own["username"], own["password"]) if auth != "none" else ())
        else:
            account = (own["username"], own["password"])
        main = (*account, own["sender"])
        extra = ()
    advanced = tuple(_FIELDS[k] for k in ("nameserver", "connect_to", "ca_file", "timeout", "deadline"))
    return (*server, *main, _FIELDS["send_test_to"], *advanced, *extra)


def preset_values(profile_id: str) -> dict[str, Any]:
    """The guide's values for a profile (what the form shows after picking it)."""
    preset = profile(profile_id)
    return {"profile": preset.id.value, "host": preset.host, "port": preset.port,
            "security": preset.security.value, "auth": "password", "cloud": "global", "timeout": 10.0,
            "deadline": 60.0}


def profile_label(profile_id: str) -> str:
    return PROFILES[ProfileId(profile_id)].label


def _clean(spec: FieldSpec, value: Any) -> Any:
    if value is None:
        return None
    if spec.kind == "date":
        return value.isoformat() if isinstance(value, dt.date) else (str(value).strip() or None)
    if isinstance(value, str):
        return value.strip() if spec.kind != "secret" else value
    return value


def settings_values(form: Mapping[str, Any], *, extra_secrets: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The form's visible fields as config_from_values() input (empty fields left out)."""
    profile_id = str(form.get("profile") or ProfileId.CUSTOM.value)
    values: dict[str, Any] = {"profile": profile_id}
    for spec in fields_for(profile_id, auth=str(form.get("auth") or "password")):
        value = _clean(spec, form.get(spec.key))
        if value in (None, ""):
            continue
        if spec.key == "auth" and profile(profile_id).id is not ProfileId.CUSTOM:
            continue
        values[spec.key] = value
    shown = {spec.key for spec in fields_for(profile_id, auth=str(form.get("auth") or "password"))}
    for key, secret in (extra_secrets or {}).items():
        if secret and key in shown and not values.get(key):
            values[key] = secret
    return values


def build_config(values: Mapping[str, Any]) -> tuple[RelayConfig | None, tuple[FieldError, ...]]:
    """config_from_values() and the hosting policy, without raising: (config, ()) or (None, errors by field)."""
    try:
        policy = TargetPolicy.from_environment()
        policy.screen(values)
        config = config_from_values(values, environ={})
        policy.enforce(config)
        return config, ()
    except InvalidSettings as exc:
        return None, exc.errors


def errors_by_field(errors: tuple[FieldError, ...]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for error in errors:
        out.setdefault(error.field, []).append(error.message)
    return out


def settings_toml(values: Mapping[str, Any]) -> tuple[str | None, tuple[FieldError, ...]]:
    """The form's settings as TOML without secrets (to_toml); secrets not typed yet do not block saving."""
    merged = dict(values)
    for key in ("password", "client_secret"):  # stand-ins never written: to_toml leaves every secret out
        merged[key] = merged.get(key) or "not-saved"
    config, errors = build_config(merged)
    if config is None:
        return None, errors
    return to_toml(config), ()


def parse_settings_file(data: bytes) -> tuple[dict[str, Any], tuple[FieldError, ...]]:
    """An uploaded settings TOML -> form values; the engine's parse_toml refuses inline secrets."""
    try:
        loaded = parse_toml(data)
    except InvalidSettings as exc:
        return {}, exc.errors
    bad = [FieldError(k, f"must be one of {', '.join(SELECT_OPTIONS[k])}") for k in SELECT_OPTIONS
           if k in loaded and str(loaded[k]).strip().lower() not in SELECT_OPTIONS[k]]
    if bad:
        return {}, tuple(bad)
    try:  # the engine's own validation names absurd values (port "abc", inf, 99999) by field
        TargetPolicy.from_environment().screen(loaded)
        config_from_values(loaded, environ={})
    except InvalidSettings as exc:
        bad = [e for e in exc.errors if e.field in loaded and not e.field.endswith("_env")]
        if bad:
            return {}, tuple(bad)
    return {k: v for k, v in loaded.items() if k in FORM_KEYS}, ()


def form_values_for(values: Mapping[str, Any]) -> dict[str, Any]:
    """Loose settings (a TOML file, the practice lab) -> values the form widgets accept."""
    profile_id = str(values.get("profile") or ProfileId.CUSTOM.value)
    out = preset_values(profile_id)
    for key, value in values.items():
        if key not in FORM_KEYS or key in SECRET_FIELDS or value is None:
            continue
        if key in ("port", "timeout", "deadline"):
            number = _number_or_none(value, int if key == "port" else float)
            if number is not None:
                out[key] = number
        elif key == "secret_expires":
            out[key] = value if isinstance(value, dt.date) else _date_or_none(str(value))
        elif key in SELECT_OPTIONS:
            text = str(value).strip().lower()
            if text in SELECT_OPTIONS[key]:
                out[key] = text
        else:
            out[key] = str(value)
    return out


def _number_or_none(value: Any, kind: type) -> Any:
    try:
        return kind(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _date_or_none(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return None
