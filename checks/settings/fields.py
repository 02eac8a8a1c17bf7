"""The one table of settings: for each RelayConfig field its type, CLI flag, file key, secret reference, form text
and which setups show it. The CLI options, the TOML / batch keys, the loader's conversions and the console form
are all built from this table; defaults come from RelayConfig itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any

from checks.settings.config import AuthMethod, Cloud, ProfileId, RelayConfig, Security
from checks.settings.providers import PROVIDERS, Provider


class Kind(StrEnum):
    """How a value is written and converted (also the form's widget)."""

    TEXT = "text"
    SECRET = "secret"
    INT = "int"
    FLOAT = "float"
    CHOICE = "select"
    DATE = "date"
    PATH = "path"


class Shown(StrEnum):
    """Which setups the console form shows a field for."""

    ALWAYS = "always"
    PICKER = "picker"  # its own control above the form (the profile picker)
    CUSTOM = "custom"  # the custom server profile only
    PASSWORD = "password"  # a password sign-in: the password profiles, or custom unless auth is 'none'
    OAUTH2 = "oauth2"  # the OAuth2 profile
    NEVER = "never"  # not on the form


@dataclass(frozen=True)
class FormText:
    label: str
    help: str = ""
    placeholder: str = ""


@dataclass(frozen=True)
class SecretSource:
    """How a secret is referenced: never by value in a file or on the command line."""

    env_help: str  # help of --NAME-env VAR; the file key is NAME_env
    stdin_help: str = ""  # non-empty: also --NAME-stdin reads it from standard input


@dataclass(frozen=True)
class SettingField:
    """One setting: a RelayConfig field with everything needed to read it from a flag, a file or the form."""

    name: str  # the RelayConfig field
    kind: Kind
    metavar: str = ""
    cli_help: str | None = None
    choices: type[StrEnum] | None = None  # Kind.CHOICE: the enum of valid values
    number_hint: str = ""  # Kind.INT / FLOAT: what the parse error says the value must be
    secret: SecretSource | None = None
    form: FormText | None = None
    form_by: Mapping[Provider | str, FormText] = field(default_factory=dict)  # per provider, or "oauth2"
    shown: Shown = Shown.ALWAYS
    form_rank: int = 0  # position on the form
    advanced: bool = False  # on the form: inside 'Advanced'
    form_choices: tuple[str, ...] = ()  # the form offers only these of `choices`
    exposed: bool = True  # False: set by code only (no flag, file key or form field)
    local_only: bool = False  # overrides where to connect or what to trust: refused on a hosted console

    @property
    def key(self) -> str:
        """The TOML key, batch column and CLI dest (a secret's is the name of its environment reference)."""
        return f"{self.name}_env" if self.secret else self.name

    @property
    def flag(self) -> str:
        return "--" + self.key.replace("_", "-")

    @property
    def stdin_flag(self) -> str:
        return f"--{self.name.replace('_', '-')}-stdin"

    @property
    def cli_metavar(self) -> str:
        if self.choices is not None:
            return "{" + ",".join(m.value for m in self.choices) + "}"
        return self.metavar

    @property
    def options(self) -> tuple[str, ...]:
        """The values the form's select offers."""
        return self.form_choices or tuple(m.value for m in self.choices or ())

    def form_text(self, provider: Provider | None, *, oauth2: bool) -> FormText:
        """Label and help for this field on a profile of `provider` (the OAuth2 profile may have its own)."""
        if oauth2 and "oauth2" in self.form_by:
            return self.form_by["oauth2"]
        return (self.form_by.get(provider) if provider else None) or self.form or FormText(self.name)

    def shows(self, *, profile: ProfileId, oauth2: bool, auth: str) -> bool:
        """Does the form show this field for the profile (`oauth2`: its sign-in is OAuth2) and chosen auth?"""
        custom = profile is ProfileId.CUSTOM
        return {
            Shown.ALWAYS: True,
            Shown.CUSTOM: custom,
            Shown.PASSWORD: not oauth2 and not (custom and auth == AuthMethod.NONE.value),
            Shown.OAUTH2: oauth2,
        }.get(self.shown, False)


_GOOGLE, _MICROSOFT = PROVIDERS[Provider.GOOGLE], PROVIDERS[Provider.MICROSOFT]
_DOD_HOST = next(t.smtp_hosts[0] for t in _MICROSOFT.service(Cloud.USGOV).tenancies if t.name == "DoD")
_GUID = "00000000-0000-0000-0000-000000000000"
_SECURITY_HELP = ("STARTTLS on 587 is what the guide calls 'Security: TLS'. "
                  "'tls' is implicit TLS (usually port 465); 'none' sends in clear text.")

SETTING_FIELDS: tuple[SettingField, ...] = (
    SettingField("profile", Kind.CHOICE, cli_help="preset from the setup guide", choices=ProfileId,
                 form=FormText("Setup to check"), shown=Shown.PICKER),
    SettingField("host", Kind.TEXT, "H", "relay host name", form=FormText(
        "SMTP server", "The relay's host name, from your mail provider or mail administrator.", "smtp.example.com"),
        form_by={
            Provider.GOOGLE: FormText("SMTP server", f"Guide: SMTP Server = {_GOOGLE.guide_host()}.",
                                      "smtp.example.com"),
            Provider.MICROSOFT: FormText("SMTP server", f"Guide: SMTP server = {_MICROSOFT.guide_host()} "
                                         f"(US Government: {_MICROSOFT.guide_host(Cloud.USGOV)}; DoD: {_DOD_HOST}).",
                                         "smtp.example.com"),
        }, form_rank=1),
    SettingField("port", Kind.INT, "N", "relay port (587 STARTTLS, 465 implicit TLS)",
                 number_hint="a whole number from 1 to 65535",
                 form=FormText("Port", "Guide: 587. Use 465 only with implicit TLS."), form_rank=2),
    SettingField("security", Kind.CHOICE, choices=Security, form=FormText("Security", _SECURITY_HELP), form_rank=3),
    SettingField("auth", Kind.CHOICE, cli_help="how to sign in", choices=AuthMethod, form=FormText(
        "Authentication", "'password': the server asks for a username and password. 'none': an open relay "
        "(for example one that trusts your IP address)."), shown=Shown.CUSTOM, form_rank=10,
        form_choices=(AuthMethod.PASSWORD.value, AuthMethod.NONE.value)),
    SettingField("username", Kind.TEXT, "U", "sign-in address", form=FormText(
        "Username", "The mailbox or account the relay signs in with.", "name@example.com"), form_by={
            Provider.GOOGLE: FormText("Username", "Your full Gmail or Google Workspace address.", "name@gmail.com"),
            Provider.MICROSOFT: FormText("Username", "Your Microsoft 365 address (the mailbox that sends).",
                                         "name@contoso.com"),
        }, shown=Shown.PASSWORD, form_rank=11),
    SettingField("sender", Kind.TEXT, "ADDR", "From address the relay will use", form=FormText(
        "Sender", "The From address your application uses.", "name@example.com"), form_by={
            Provider.GOOGLE: FormText("Sender", "Guide: your Gmail or G Suite address (the username).",
                                      "name@gmail.com"),
            Provider.MICROSOFT: FormText("Sender", "Guide: your Office 365 address (the username).",
                                         "name@contoso.com"),
            "oauth2": FormText("Sender", "The primary address of the user who signs in (myaccount.microsoft.com > "
                               "Overview). No alias, no shared mailbox.", "name@contoso.com"),
        }, form_rank=24),
    SettingField("password", Kind.SECRET, "VAR", secret=SecretSource(
        "read the password from environment variable VAR", stdin_help="read the password from standard input"),
        form=FormText("Password", "The password of that account."), form_by={
            Provider.GOOGLE: FormText("App password", "The 16-letter app password: "
                                      "myaccount.google.com/apppasswords (Google Account > Security > 2-Step "
                                      "Verification > App passwords). Not your account password."),
            Provider.MICROSOFT: FormText("Password", "The password of that Microsoft 365 account."),
        }, shown=Shown.PASSWORD, form_rank=12),
    SettingField("ca_file", Kind.PATH, "PEM", "extra CA to trust for every TLS connection of the run",
                 form=FormText("Extra CA file", "A PEM file with a CA to trust (a private CA or a TLS-inspecting "
                               "proxy's CA), as a path on the console's machine."), form_rank=42, advanced=True,
                 local_only=True),
    SettingField("nameserver", Kind.TEXT, "IP[:PORT]", "DNS server to ask instead of the system's",
                 form=FormText("DNS server", "Ask this DNS server instead of the system's (IP[:PORT]). The practice "
                               "lab sets its own."), form_rank=40, advanced=True, local_only=True),
    SettingField("connect_to", Kind.TEXT, "HOST[:PORT]",
                 "connect there instead of the resolved address (the host name is still used for TLS)",
                 form=FormText("Connect to", "Open the SMTP connection to this address instead of the host's "
                               "(HOST[:PORT]); the certificate is still checked for the host name."),
                 form_rank=41, advanced=True, local_only=True),
    SettingField("timeout", Kind.FLOAT, "SECONDS", "per network step", number_hint="a number of seconds",
                 form=FormText("Timeout per step (s)", "Seconds each network step may take."), form_rank=43,
                 advanced=True),
    SettingField("deadline", Kind.FLOAT, "SECONDS", "for the whole run", number_hint="a number of seconds",
                 form=FormText("Deadline for the run (s)", "Seconds the whole run may take."), form_rank=44,
                 advanced=True),
    SettingField("tenant_id", Kind.TEXT, "T", form=FormText(
        "Tenant ID", "Entra ID > App registrations > your app > Overview > Directory (tenant) ID.", _GUID),
        shown=Shown.OAUTH2, form_rank=20),
    SettingField("client_id", Kind.TEXT, "C", form=FormText(
        "Client ID", "Entra ID > App registrations > your app > Overview > Application (client) ID.", _GUID),
        shown=Shown.OAUTH2, form_rank=21),
    SettingField("client_secret", Kind.SECRET, "VAR", secret=SecretSource(
        "read the client secret from environment VAR"), form=FormText(
        "Client secret (Value)", "Your app > Certificates & secrets > Client secrets > the Value column. It is shown "
        "only once, right after 'New client secret'; the Secret ID is not the secret."),
        shown=Shown.OAUTH2, form_rank=22),
    SettingField("secret_expires", Kind.DATE, "YYYY-MM-DD", "client secret expiry date", form=FormText(
        "Client secret expires on", "Your app > Certificates & secrets > Client secrets > Expires."),
        shown=Shown.OAUTH2, form_rank=23),
    SettingField("refresh_token", Kind.SECRET, "VAR", secret=SecretSource(
        "read the refresh token from environment VAR"), form=FormText(
        "Refresh token (optional)", "Filled in for you by Tools > Sign in with Microsoft. Leave empty to test only "
        "the app registration (tenant, client, secret)."), shown=Shown.OAUTH2, form_rank=50, advanced=True),
    SettingField("cloud", Kind.CHOICE, choices=Cloud, form=FormText(
        "Microsoft cloud", "'global' for almost everyone; 'usgov' for GCC High / DoD; 'china' for 21Vianet. DoD "
        f"tenants set the SMTP server to {_DOD_HOST}; Graph then follows."),
        shown=Shown.OAUTH2, form_rank=25),
    SettingField("login_url", Kind.TEXT, "URL", "Entra ID login endpoint (https)", form=FormText(
        "Login URL", "Only for a private or test Entra endpoint (https://...). Leave empty for Microsoft's."),
        shown=Shown.OAUTH2, form_rank=51, advanced=True, local_only=True),
    SettingField("graph_url", Kind.TEXT, "URL", "Microsoft Graph endpoint (https)", form=FormText(
        "Graph URL", "Only for a private or test Graph endpoint (https://...). Leave empty for Microsoft's."),
        shown=Shown.OAUTH2, form_rank=52, advanced=True, local_only=True),
    SettingField("send_test_to", Kind.TEXT, "ADDR", "send a test message to this address", form=FormText(
        "Send a test message to (optional)", "An address that should receive a real test message. Leave empty to "
        "stop before sending anything.", "you@example.com"), form_rank=30),
    SettingField("ehlo_name", Kind.TEXT, exposed=False, shown=Shown.NEVER),
)

FIELDS: dict[str, SettingField] = {f.name: f for f in SETTING_FIELDS}
EXPOSED = tuple(f for f in SETTING_FIELDS if f.exposed)
SETTING_KEYS = tuple(f.key for f in EXPOSED)  # what a settings file or batch row may hold, and the CLI dests
ENV_REFERENCES = {f.key: f.name for f in EXPOSED if f.secret}  # password_env -> password ...
FORM_FIELDS = tuple(f for f in SETTING_FIELDS if f.shown is not Shown.NEVER)


def default(name: str) -> Any:
    """RelayConfig's default for a field as a plain value (None when it has none): the form starts from it."""
    spec = next(f for f in dataclasses.fields(RelayConfig) if f.name == name)
    value = spec.default if spec.default is not dataclasses.MISSING else None
    return value.value if isinstance(value, Enum) else value
