"""What the lab SMTP servers say: provider personalities, scenarios and the table of their replies."""

from __future__ import annotations

import datetime as dt
import email.utils
import secrets
import string
from dataclasses import dataclass
from enum import StrEnum


class Personality(StrEnum):
    GMAIL = "gmail"
    M365 = "m365"
    GENERIC = "generic"


class Scenario(StrEnum):
    WORKING = "working"
    APP_PASSWORD_REQUIRED = "app-password-required"
    BAD_CREDENTIALS = "bad-credentials"
    SMTP_AUTH_DISABLED_TENANT = "smtp-auth-disabled-tenant"
    SMTP_AUTH_DISABLED_MAILBOX = "smtp-auth-disabled-mailbox"
    BASIC_AUTH_DISABLED = "basic-auth-disabled"
    SECURITY_DEFAULTS = "security-defaults"
    NO_STARTTLS = "no-starttls"
    NO_AUTH = "no-auth"
    EXPIRED_CERT = "expired-cert"
    WRONG_NAME_CERT = "wrong-name-cert"
    UNTRUSTED_CERT = "untrusted-cert"
    SILENT = "silent"
    NOT_SMTP = "not-smtp"
    SEND_AS_DENIED = "send-as-denied"
    DAILY_LIMIT = "daily-limit"
    THROTTLED = "throttled"
    LEGACY_TLS = "legacy-tls"  # offers only TLS 1.0 / 1.1, like an old appliance or gateway


class Stage(StrEnum):
    """Where in the conversation a scenario's reply replaces the normal one."""

    AUTH = "auth"  # every password AUTH (LOGIN/PLAIN), whatever the credentials
    MAIL = "mail"  # MAIL FROM after a successful AUTH
    DATA = "data"  # the end of DATA
    FOREIGN_SENDER = "foreign-sender"  # the end of DATA when MAIL FROM is not the signed-in user


# (username, password) the lab accepts; the Gmail one is a 16-letter app password.
LAB_ACCOUNTS: dict[Personality, tuple[str, str]] = {
    Personality.GMAIL: ("relay.lab@gmail.com", "abcdefghijklmnop"),
    Personality.M365: ("relay@contoso.example", "Lab-Passw0rd!"),
    Personality.GENERIC: ("relay@lab.test", "Lab-Passw0rd!"),
}

NO_AUTH_SCENARIOS = frozenset({Scenario.NO_STARTTLS, Scenario.NO_AUTH})  # AUTH never advertised
OAUTH_BLOCKED_SCENARIOS = frozenset({Scenario.SMTP_AUTH_DISABLED_TENANT, Scenario.SMTP_AUTH_DISABLED_MAILBOX})
RAW_SCENARIOS = frozenset({Scenario.SILENT, Scenario.NOT_SMTP})  # not served by aiosmtpd

M365_DIAG = "[{diag_host} {stamp} {diag_id}]"  # Exchange Online's trailing diagnostic part
GSMTP = "{gid} - gsmtp"  # Gmail's trailing session id


@dataclass(frozen=True)
class Persona:
    """How one provider's server talks: its names, EHLO keywords and everyday replies (templates)."""

    server_name: str
    ident: str  # greeting text after the server name
    ehlo_hello: str  # text after the server name on the first EHLO line
    ehlo_keywords: tuple[str, ...]  # "STARTTLS" marks the slot where AUTH appears once TLS is up
    auth_mechanisms: tuple[str, ...]  # advertised after TLS (XOAUTH2 is added for GENERIC with a validator)
    size_limit: int
    starttls_ready: str
    auth_ok: str
    bad_credentials: str
    auth_before_tls: str
    auth_unavailable: str
    unknown_mechanism: str
    not_authenticated: str | None  # reply to MAIL FROM before AUTH; None: AUTH is optional
    foreign_sender: str | None  # reply at the end of DATA when MAIL FROM is not the signed-in user
    mail_ok: str
    rcpt_ok: str
    data_start: str
    data_ok: str
    quit: str
    oauth_failure_challenge: bool = False  # Gmail sends a 334 JSON challenge before a failed XOAUTH2


PERSONAS: dict[Personality, Persona] = {
    Personality.M365: Persona(
        server_name="SN4PR0601CA0012.outlook.office365.com",
        ident="Microsoft ESMTP MAIL Service ready at {date}",
        ehlo_hello="Hello [{peer}]",
        ehlo_keywords=("SIZE 157286400", "PIPELINING", "DSN", "ENHANCEDSTATUSCODES", "STARTTLS", "8BITMIME",
                       "BINARYMIME", "CHUNKING", "SMTPUTF8"),
        auth_mechanisms=("LOGIN", "XOAUTH2"),
        size_limit=157286400,
        starttls_ready="220 2.0.0 SMTP server ready",
        auth_ok="235 2.7.0 Authentication successful",
        bad_credentials="535 5.7.3 Authentication unsuccessful " + M365_DIAG,
        auth_before_tls="504 5.7.4 Unrecognized authentication type " + M365_DIAG,
        auth_unavailable="504 5.7.4 Unrecognized authentication type " + M365_DIAG,
        unknown_mechanism="504 5.7.4 Unrecognized authentication type " + M365_DIAG,
        not_authenticated="530 5.7.57 Client not authenticated to send mail. " + M365_DIAG,
        foreign_sender="550 5.7.60 SMTP; Client does not have permissions to send as this sender " + M365_DIAG,
        mail_ok="250 2.1.0 Sender OK",
        rcpt_ok="250 2.1.5 Recipient OK",
        data_start="354 Start mail input; end with <CRLF>.<CRLF>",
        data_ok="250 2.0.0 OK <{message_id}> [Hostname={mailbox_host}]",
        quit="221 2.0.0 Service closing transmission channel",
    ),
    Personality.GMAIL: Persona(
        server_name="smtp.gmail.com",
        ident="ESMTP " + GSMTP,
        ehlo_hello="at your service, [{peer}]",
        ehlo_keywords=("SIZE 35882577", "8BITMIME", "STARTTLS", "ENHANCEDSTATUSCODES", "PIPELINING", "CHUNKING",
                       "SMTPUTF8"),
        auth_mechanisms=("LOGIN", "PLAIN", "XOAUTH2", "PLAIN-CLIENTTOKEN", "OAUTHBEARER", "XOAUTH"),
        size_limit=35882577,
        starttls_ready="220 2.0.0 Ready to start TLS",
        auth_ok="235 2.7.0 Accepted",
        bad_credentials=(
            "535-5.7.8 Username and Password not accepted. For more information, go to\r\n"
            "535 5.7.8  https://support.google.com/mail/?p=BadCredentials " + GSMTP
        ),
        auth_before_tls="530 5.7.0 Must issue a STARTTLS command first. " + GSMTP,
        auth_unavailable="502 5.5.1 Unrecognized command. " + GSMTP,
        unknown_mechanism="504 5.7.4 Unrecognized authentication type. " + GSMTP,
        not_authenticated=(
            "530-5.7.0 Authentication Required. For more information, go to\r\n"
            "530 5.7.0  https://support.google.com/mail/?p=WantAuthError " + GSMTP
        ),
        foreign_sender=None,  # Gmail rewrites the From instead of refusing
        mail_ok="250 2.1.0 OK " + GSMTP,
        rcpt_ok="250 2.1.5 OK " + GSMTP,
        data_start="354  Go ahead " + GSMTP,
        data_ok="250 2.0.0 OK  {epoch} " + GSMTP,
        quit="221 2.0.0 closing connection " + GSMTP,
        oauth_failure_challenge=True,
    ),
    Personality.GENERIC: Persona(
        server_name="smtp.lab.test",
        ident="ESMTP Relay Lab",
        ehlo_hello="Hello [{peer}]",
        ehlo_keywords=("PIPELINING", "SIZE 36700160", "STARTTLS", "ENHANCEDSTATUSCODES", "8BITMIME", "SMTPUTF8"),
        auth_mechanisms=("PLAIN", "LOGIN"),
        size_limit=36700160,
        starttls_ready="220 2.0.0 Ready to start TLS",
        auth_ok="235 2.7.0 Authentication successful",
        bad_credentials="535 5.7.8 Error: authentication failed: authentication failure",
        auth_before_tls="538 5.7.11 Encryption required for requested authentication mechanism",
        auth_unavailable="503 5.5.1 Error: authentication not enabled",
        unknown_mechanism="504 5.5.4 Unrecognized authentication type",
        not_authenticated=None,
        foreign_sender=None,
        mail_ok="250 2.1.0 Ok",
        rcpt_ok="250 2.1.5 Ok",
        data_start="354 End data with <CR><LF>.<CR><LF>",
        data_ok="250 2.0.0 Ok: queued as {queue_id}",
        quit="221 2.0.0 Bye",
    ),
}

_M365_139 = "535 5.7.139 Authentication unsuccessful, "

# (personality, scenario) -> (where the reply comes, reply template). A scenario a personality lacks falls back to
# the provider it comes from (see `scenario_reply`).
SCENARIO_REPLIES: dict[tuple[Personality, Scenario], tuple[Stage, str]] = {
    (Personality.M365, Scenario.BAD_CREDENTIALS): (Stage.AUTH, PERSONAS[Personality.M365].bad_credentials),
    (Personality.GMAIL, Scenario.BAD_CREDENTIALS): (Stage.AUTH, PERSONAS[Personality.GMAIL].bad_credentials),
    (Personality.GENERIC, Scenario.BAD_CREDENTIALS): (Stage.AUTH, PERSONAS[Personality.GENERIC].bad_credentials),
    (Personality.M365, Scenario.SMTP_AUTH_DISABLED_TENANT): (
        Stage.AUTH,
        _M365_139 + "SmtpClientAuthentication is disabled for the Tenant. "
        "Visit https://aka.ms/smtp_auth_disabled for more information. " + M365_DIAG,
    ),
    (Personality.M365, Scenario.SMTP_AUTH_DISABLED_MAILBOX): (
        Stage.AUTH,
        _M365_139 + "SmtpClientAuthentication is disabled for the Mailbox. "
        "Visit https://aka.ms/smtp_auth_disabled for more information. " + M365_DIAG,
    ),
    (Personality.M365, Scenario.BASIC_AUTH_DISABLED): (
        Stage.AUTH,
        _M365_139 + "basic authentication is disabled. " + M365_DIAG,
    ),
    (Personality.M365, Scenario.SECURITY_DEFAULTS): (
        Stage.AUTH,
        _M365_139 + "user is locked by your organization's security defaults policy. "
        "Contact your administrator. " + M365_DIAG,
    ),
    (Personality.GMAIL, Scenario.APP_PASSWORD_REQUIRED): (
        Stage.AUTH,
        "534-5.7.9 Application-specific password required. For more information, go to\r\n"
        "534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor " + GSMTP,
    ),
    (Personality.M365, Scenario.SEND_AS_DENIED): (
        Stage.FOREIGN_SENDER,
        "554 5.2.0 STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; "
        "Failed to process message due to a permanent exception with message [BeginDiagnosticData]"
        "Cannot submit message. 0.35250:0A009184, 1.36674:0A000000, 1.61250:00000000, 1.45378:02000000, "
        "1.44866:1F0D0000, 1.36674:0A000000, 1.61250:00000000, 1.45378:240D0000, 1.44866:E4200000"
        "[EndDiagnosticData] [Hostname={mailbox_host}]",
    ),
    (Personality.M365, Scenario.THROTTLED): (
        Stage.MAIL,
        "550 5.2.252 SendAsDenied; {user} not allowed to send as {sender}; the sender has exceeded the limit "
        "of SendAsDenied errors and is blocked from sending for a while. " + M365_DIAG,
    ),
    (Personality.GMAIL, Scenario.DAILY_LIMIT): (
        Stage.DATA,
        "550-5.4.5 Daily user sending limit exceeded. For more information on Gmail\r\n"
        "550-5.4.5 sending limits go to\r\n"
        "550 5.4.5  https://support.google.com/a/answer/166852 " + GSMTP,
    ),
}

_M365_MAILBOX_HOST = "SN4PR0601MB3728.namprd06.prod.outlook.com"
_FALLBACK_ORDER = (Personality.M365, Personality.GMAIL)


def scenario_reply(personality: Personality, scenario: Scenario) -> tuple[Stage, str] | None:
    """Return where and what a scenario answers for a personality (borrowing the origin provider's wording)."""
    for who in (personality, *_FALLBACK_ORDER):
        if (who, scenario) in SCENARIO_REPLIES:
            return SCENARIO_REPLIES[(who, scenario)]
    return None


def _gmail_id() -> str:
    """Return a session id shaped like Gmail's (`5b1f17b1804b1-43cd0f6d9d3sm12345678f8f.12`)."""
    alnum = string.ascii_lowercase + string.digits
    head, middle, tail = (secrets.token_hex(7)[:13], "".join(secrets.choice(alnum) for _ in range(11)),
                          "".join(secrets.choice(alnum) for _ in range(3)))
    return f"{head}-{middle}sm{secrets.randbelow(10**8):08d}{tail}.{secrets.randbelow(100)}"


def render(template: str, **fields: str) -> str:
    """Fill a reply template with fresh ids and timestamps (plus `fields`, e.g. peer, user, sender)."""
    now = dt.datetime.now(dt.UTC)
    values = {
        "date": email.utils.format_datetime(now),
        "stamp": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        "epoch": str(int(now.timestamp())),
        "diag_host": "SN4PR0601CA0012.namprd06.prod.outlook.com",
        "mailbox_host": _M365_MAILBOX_HOST,
        "diag_id": "08DD" + secrets.token_hex(6).upper(),
        "gid": _gmail_id(),
        "message_id": f"{secrets.token_hex(16)}@{_M365_MAILBOX_HOST}",
        "queue_id": secrets.token_hex(5).upper(),
        "peer": "127.0.0.1",
        "user": "",
        "sender": "",
    }
    values.update(fields)
    return template.format_map(values)
