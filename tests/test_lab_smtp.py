"""The lab SMTP servers, driven with Python's real smtplib over loopback, answer like the providers."""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from lab.pki import LabPKI
from lab.smtp import LAB_ACCOUNTS, Personality, RunningSmtp, Scenario, start_smtp

TIMEOUT = 5
CLIENT_NAME = "client.lab.test"
M365_DIAG = r"\[SN4PR0601CA0012\.namprd06\.prod\.outlook\.com \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z 08DD[0-9A-F]{12}\]"
GSMTP = r"[0-9a-f]{13}-[0-9a-z]{11}sm\d{8}[0-9a-z]{3}\.\d{1,2} - gsmtp"
MESSAGE = b"Subject: lab\r\n\r\nhello\r\n"
GOOD_TOKEN = "good-token"
OTHER_SENDER = "someone.else@contoso.example"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> LabPKI:
    return LabPKI(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def serve(pki: LabPKI) -> Iterator[Callable[..., RunningSmtp]]:
    """Factory: start a lab server, stopped at teardown."""
    started: list[RunningSmtp] = []

    def start(scenario: Scenario = Scenario.WORKING, **kwargs: object) -> RunningSmtp:
        server = start_smtp(scenario, pki=pki, **kwargs)  # type: ignore[arg-type]
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


class GreetedSMTP(smtplib.SMTP):
    """smtplib.SMTP that keeps the greeting line."""

    greeting = ""

    def connect(self, host: str = "localhost", port: int = 0, source_address: object = None) -> tuple[int, bytes]:
        code, message = super().connect(host, port, source_address)  # type: ignore[arg-type]
        self.greeting = f"{code} {message.decode()}"
        return code, message


def connect(server: RunningSmtp) -> tuple[smtplib.SMTP, str]:
    """Connect with smtplib; return the client and the greeting line."""
    client = GreetedSMTP(server.host, server.port, local_hostname=CLIENT_NAME, timeout=TIMEOUT)
    return client, client.greeting


def secured(server: RunningSmtp, pki: LabPKI) -> smtplib.SMTP:
    """Connect, EHLO, STARTTLS with a verifying context, EHLO again."""
    client, _ = connect(server)
    client.ehlo()
    client.starttls(context=pki.client_context())
    client.ehlo()
    return client


def xoauth2(user: str, token: str) -> Callable[..., str]:
    """An smtplib auth object: the XOAUTH2 string first, then an empty answer to a challenge."""
    return lambda challenge=None: "" if challenge else f"user={user}\x01auth=Bearer {token}\x01\x01"


def accept_good_token(user: str, token: str) -> str | None:
    return None if token == GOOD_TOKEN else "535 5.7.3 Authentication unsuccessful [lab: token rejected]"


def login_refusal(client: smtplib.SMTP, personality: Personality) -> tuple[int, str]:
    with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
        client.login(*LAB_ACCOUNTS[personality])
    return refused.value.smtp_code, refused.value.smtp_error.decode()


# Greeting and EHLO


def test_m365_greets_and_advertises_like_exchange_online(serve: Callable[..., RunningSmtp], pki: LabPKI) -> None:
    # Given a Microsoft 365 lab server
    server = serve(personality=Personality.M365)
    # When a client connects and says EHLO before and after STARTTLS
    client, greeting = connect(server)
    _, hello = client.ehlo()
    before = dict(client.esmtp_features)
    client.starttls(context=pki.client_context())
    client.ehlo()
    # Then greeting, keywords and AUTH mechanisms are Exchange Online's, and AUTH comes only after TLS
    assert re.fullmatch(r"220 SN4PR0601CA0012\.outlook\.office365\.com Microsoft ESMTP MAIL Service ready at "
                        r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000", greeting)
    assert hello.decode().startswith("SN4PR0601CA0012.outlook.office365.com Hello [127.0.0.1]")
    assert list(before) == ["size", "pipelining", "dsn", "enhancedstatuscodes", "starttls", "8bitmime",
                            "binarymime", "chunking", "smtputf8"]
    assert client.esmtp_features["auth"] == " LOGIN XOAUTH2"
    assert "starttls" not in client.esmtp_features
    client.quit()


def test_gmail_greets_and_advertises_like_gmail(serve: Callable[..., RunningSmtp], pki: LabPKI) -> None:
    # Given a Gmail lab server
    server = serve(personality=Personality.GMAIL)
    # When a client connects and says EHLO before and after STARTTLS
    client, greeting = connect(server)
    client.ehlo()
    before = dict(client.esmtp_features)
    client.starttls(context=pki.client_context())
    client.ehlo()
    # Then the greeting carries a gsmtp id and AUTH lists Gmail's mechanisms only after TLS
    assert re.fullmatch(r"220 smtp\.gmail\.com ESMTP " + GSMTP, greeting)
    assert "starttls" in before and "auth" not in before
    assert client.esmtp_features["auth"] == " LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH"
    client.quit()


@pytest.mark.parametrize(
    ("personality", "expected"),
    [
        (Personality.GMAIL, r"530 5\.7\.0 Must issue a STARTTLS command first\. " + GSMTP),
        (Personality.M365, r"504 5\.7\.4 Unrecognized authentication type " + M365_DIAG),
        (Personality.GENERIC, r"538 5\.7\.11 Encryption required for requested authentication mechanism"),
    ],
)
def test_auth_before_starttls_is_refused(
    serve: Callable[..., RunningSmtp], personality: Personality, expected: str
) -> None:
    # Given a working server of a provider
    client, _ = connect(serve(personality=personality))
    client.ehlo()
    # When the client tries AUTH before STARTTLS
    code, reply = client.docmd("AUTH", "LOGIN")
    # Then the provider's refusal comes back
    assert re.fullmatch(expected, f"{code} {reply.decode()}")
    client.quit()


# Working servers


@pytest.mark.parametrize(
    ("personality", "accepted"),
    [
        (Personality.GMAIL, "2.7.0 Accepted"),
        (Personality.M365, "2.7.0 Authentication successful"),
        (Personality.GENERIC, "2.7.0 Authentication successful"),
    ],
)
def test_working_server_accepts_the_lab_account_and_keeps_the_message(
    serve: Callable[..., RunningSmtp], pki: LabPKI, personality: Personality, accepted: str
) -> None:
    # Given a working server
    server = serve(personality=personality)
    user, password = LAB_ACCOUNTS[personality]
    client = secured(server, pki)
    # When the client logs in with the lab account and sends a message
    code, reply = client.login(user, password)
    refused = client.sendmail(user, ["to@example.com"], MESSAGE)
    client.quit()
    # Then AUTH succeeds with the provider's wording and the message is kept in memory
    assert (code, reply.decode()) == (235, accepted)
    assert refused == {}
    assert server.messages == [(user, ["to@example.com"], MESSAGE)]
    assert server.account == (user, password)


@pytest.mark.parametrize(
    ("personality", "expected"),
    [
        (Personality.GMAIL, r"535 5\.7\.8 Username and Password not accepted\. For more information, go to\n"
                            r"5\.7\.8  https://support\.google\.com/mail/\?p=BadCredentials " + GSMTP),
        (Personality.M365, r"535 5\.7\.3 Authentication unsuccessful " + M365_DIAG),
        (Personality.GENERIC, r"535 5\.7\.8 Error: authentication failed: authentication failure"),
    ],
)
def test_working_server_refuses_a_wrong_password(
    serve: Callable[..., RunningSmtp], pki: LabPKI, personality: Personality, expected: str
) -> None:
    # Given a working server
    client = secured(serve(personality=personality), pki)
    # When the client logs in with a wrong password
    with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
        client.login(LAB_ACCOUNTS[personality][0], "not-the-password")
    # Then the provider's bad-credentials reply comes back
    assert re.fullmatch(expected, f"{refused.value.smtp_code} {refused.value.smtp_error.decode()}")
    client.quit()


@pytest.mark.parametrize(
    ("personality", "mechanism", "code"),
    [
        (Personality.GMAIL, "PLAIN", 235),
        (Personality.GMAIL, "LOGIN", 235),
        (Personality.GENERIC, "PLAIN", 235),
        (Personality.GENERIC, "LOGIN", 235),
        (Personality.M365, "LOGIN", 235),
        (Personality.M365, "PLAIN", 504),  # not advertised by Exchange Online
    ],
)
def test_password_mechanisms_follow_what_is_advertised(
    serve: Callable[..., RunningSmtp], pki: LabPKI, personality: Personality, mechanism: str, code: int
) -> None:
    # Given a working server, signed in with a chosen mechanism
    client = secured(serve(personality=personality), pki)
    client.user, client.password = LAB_ACCOUNTS[personality]
    auth_object = client.auth_plain if mechanism == "PLAIN" else client.auth_login
    # When the client authenticates with that mechanism
    try:
        got = client.auth(mechanism, auth_object)[0]
    except smtplib.SMTPAuthenticationError as error:
        got = error.smtp_code
    # Then it works where advertised and is refused elsewhere
    assert got == code
    client.quit()


# Scenarios that refuse every password


@pytest.mark.parametrize(
    ("personality", "scenario", "expected"),
    [
        (Personality.GMAIL, Scenario.APP_PASSWORD_REQUIRED,
         r"534 5\.7\.9 Application-specific password required\. For more information, go to\n"
         r"5\.7\.9  https://support\.google\.com/mail/\?p=InvalidSecondFactor " + GSMTP),
        (Personality.GMAIL, Scenario.BAD_CREDENTIALS,
         r"535 5\.7\.8 Username and Password not accepted\. .*\?p=BadCredentials " + GSMTP),
        (Personality.M365, Scenario.BAD_CREDENTIALS, r"535 5\.7\.3 Authentication unsuccessful " + M365_DIAG),
        (Personality.M365, Scenario.SMTP_AUTH_DISABLED_TENANT,
         r"535 5\.7\.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant\. "
         r"Visit https://aka\.ms/smtp_auth_disabled for more information\. " + M365_DIAG),
        (Personality.M365, Scenario.SMTP_AUTH_DISABLED_MAILBOX,
         r"535 5\.7\.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox\. "
         r"Visit https://aka\.ms/smtp_auth_disabled for more information\. " + M365_DIAG),
        (Personality.M365, Scenario.BASIC_AUTH_DISABLED,
         r"535 5\.7\.139 Authentication unsuccessful, basic authentication is disabled\. " + M365_DIAG),
        (Personality.M365, Scenario.SECURITY_DEFAULTS,
         r"535 5\.7\.139 Authentication unsuccessful, user is locked by your organization's security defaults "
         r"policy\. Contact your administrator\. " + M365_DIAG),
    ],
)
def test_auth_scenario_refuses_even_the_right_password(
    serve: Callable[..., RunningSmtp], pki: LabPKI, personality: Personality, scenario: Scenario, expected: str
) -> None:
    # Given a server playing an auth scenario
    client = secured(serve(scenario, personality=personality), pki)
    # When the client logs in with the lab account
    code, reply = login_refusal(client, personality)
    # Then the scenario's exact reply comes back
    assert re.fullmatch(expected, f"{code} {reply}", flags=re.DOTALL)
    client.quit()


# XOAUTH2


@pytest.mark.parametrize(
    ("scenario", "token", "expected"),
    [
        (Scenario.WORKING, GOOD_TOKEN, r"235 2\.7\.0 Authentication successful"),
        (Scenario.WORKING, "bad-token", r"535 5\.7\.3 Authentication unsuccessful \[lab: token rejected\]"),
        (Scenario.BASIC_AUTH_DISABLED, GOOD_TOKEN, r"235 2\.7\.0 Authentication successful"),
        (Scenario.SECURITY_DEFAULTS, GOOD_TOKEN, r"235 2\.7\.0 Authentication successful"),
        (Scenario.SMTP_AUTH_DISABLED_TENANT, GOOD_TOKEN, r"535 5\.7\.139 .*for the Tenant\. .*" + M365_DIAG),
    ],
)
def test_m365_xoauth2_goes_to_the_validator_unless_smtp_auth_is_off(
    serve: Callable[..., RunningSmtp], pki: LabPKI, scenario: Scenario, token: str, expected: str
) -> None:
    # Given an M365 server with an XOAUTH2 validator
    calls: list[tuple[str, str]] = []

    def recording_validator(user: str, token: str) -> str | None:
        calls.append((user, token))
        return accept_good_token(user, token)

    client = secured(serve(scenario, personality=Personality.M365, xoauth2_validator=recording_validator), pki)
    user = LAB_ACCOUNTS[Personality.M365][0]
    # When the client authenticates with XOAUTH2
    try:
        code, reply = client.auth("XOAUTH2", xoauth2(user, token))
    except smtplib.SMTPAuthenticationError as error:
        code, reply = error.smtp_code, error.smtp_error
    # Then the validator decides, except where SMTP AUTH itself is off
    assert re.fullmatch(expected, f"{code} {reply.decode()}")
    assert calls == ([] if scenario is Scenario.SMTP_AUTH_DISABLED_TENANT else [(user, token)])
    client.quit()


def test_m365_xoauth2_without_validator_is_refused(serve: Callable[..., RunningSmtp], pki: LabPKI) -> None:
    # Given an M365 server without a validator
    client = secured(serve(personality=Personality.M365), pki)
    # When the client authenticates with XOAUTH2
    with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
        client.auth("XOAUTH2", xoauth2(LAB_ACCOUNTS[Personality.M365][0], GOOD_TOKEN))
    # Then the token is refused with 535 5.7.3
    assert re.fullmatch(r"5\.7\.3 Authentication unsuccessful " + M365_DIAG, refused.value.smtp_error.decode())
    client.quit()


def test_gmail_xoauth2_failure_sends_a_json_challenge_first(serve: Callable[..., RunningSmtp], pki: LabPKI) -> None:
    # Given a Gmail server whose validator refuses the token
    server = serve(personality=Personality.GMAIL, xoauth2_validator=lambda user, token: "535-5.7.8 lab\r\n535 5.7.8 no")
    client = secured(server, pki)
    challenges: list[bytes | None] = []

    def auth_object(challenge: bytes | None = None) -> str:
        challenges.append(challenge)
        return "" if challenge else f"user={LAB_ACCOUNTS[Personality.GMAIL][0]}\x01auth=Bearer x\x01\x01"

    # When the client authenticates with XOAUTH2
    with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
        client.auth("XOAUTH2", auth_object)
    # Then it first gets a 334 JSON challenge, and after an empty answer the validator's reply
    assert challenges[1] == b'{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}'
    assert refused.value.smtp_code == 535
    assert refused.value.smtp_error == b"5.7.8 lab\n5.7.8 no"
    client.quit()


# Sending


@pytest.mark.parametrize(
    ("personality", "expected"),
    [
        (Personality.M365, r"530 5\.7\.57 Client not authenticated to send mail\. " + M365_DIAG),
        (Personality.GMAIL, r"530 5\.7\.0 Authentication Required\. For more information, go to\n"
                            r"5\.7\.0  https://support\.google\.com/mail/\?p=WantAuthError " + GSMTP),
        (Personality.GENERIC, r"250 2\.1\.0 Ok"),
    ],
)
def test_mail_from_without_auth(
    serve: Callable[..., RunningSmtp], pki: LabPKI, personality: Personality, expected: str
) -> None:
    # Given a working server and a client that skipped AUTH
    client = secured(serve(personality=personality), pki)
    # When it sends MAIL FROM
    code, reply = client.mail(LAB_ACCOUNTS[personality][0])
    # Then the providers refuse it and a plain server lets it through
    assert re.fullmatch(expected, f"{code} {reply.decode()}")
    client.quit()


def test_m365_refuses_a_foreign_sender_at_the_end_of_data(serve: Callable[..., RunningSmtp], pki: LabPKI) -> None:
    # Given a working M365 server and a signed-in client
    server = serve(personality=Personality.M365)
    client = secured(server, pki)
    client.login(*LAB_ACCOUNTS[Personality.M365])
    # When it sends as another address
    with pytest.raises(smtplib.SMTPDataError) as refused:
        client.sendmail(OTHER_SENDER, ["to@example.com"], MESSAGE)
    # Then the end of DATA answers 550 5.7.60 and nothing is kept
    assert refused.value.smtp_code == 550
    assert re.fullmatch(r"5\.7\.60 SMTP; Client does not have permissions to send as this sender " + M365_DIAG,
                        refused.value.smtp_error.decode())
    assert server.messages == []
    client.quit()


def test_send_as_denied_answers_storedrv_for_a_foreign_sender(
    serve: Callable[..., RunningSmtp], pki: LabPKI
) -> None:
    # Given an M365 server playing send-as-denied and a signed-in client
    server = serve(Scenario.SEND_AS_DENIED, personality=Personality.M365)
    client = secured(server, pki)
    client.login(*LAB_ACCOUNTS[Personality.M365])
    # When it sends as another address
    code, _ = client.mail(OTHER_SENDER)
    client.rcpt("to@example.com")
    code_data, reply = client.data(MESSAGE)
    client.quit()
    # Then MAIL FROM is accepted and the end of DATA answers 554 5.2.0 SendAsDenied
    assert code == 250
    assert code_data == 554
    assert reply.decode().startswith(
        "5.2.0 STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process "
        "message due to a permanent exception with message [BeginDiagnosticData]Cannot submit message. ")
    assert server.messages == []


def test_daily_limit_refuses_at_the_end_of_data(serve: Callable[..., RunningSmtp], pki: LabPKI) -> None:
    # Given a Gmail server over its daily limit and a signed-in client
    server = serve(Scenario.DAILY_LIMIT, personality=Personality.GMAIL)
    client = secured(server, pki)
    client.login(*LAB_ACCOUNTS[Personality.GMAIL])
    # When it sends a message from its own address
    with pytest.raises(smtplib.SMTPDataError) as refused:
        client.sendmail(LAB_ACCOUNTS[Personality.GMAIL][0], ["to@example.com"], MESSAGE)
    # Then Gmail's multi-line 550 5.4.5 comes back
    assert refused.value.smtp_code == 550
    assert re.fullmatch(r"5\.4\.5 Daily user sending limit exceeded\. For more information on Gmail\n"
                        r"5\.4\.5 sending limits go to\n5\.4\.5  https://support\.google\.com/a/answer/166852 "
                        + GSMTP, refused.value.smtp_error.decode())
    assert server.messages == []
    client.quit()


def test_throttled_refuses_mail_from(serve: Callable[..., RunningSmtp], pki: LabPKI) -> None:
    # Given a throttled M365 mailbox and a signed-in client
    client = secured(serve(Scenario.THROTTLED, personality=Personality.M365), pki)
    user = LAB_ACCOUNTS[Personality.M365][0]
    client.login(*LAB_ACCOUNTS[Personality.M365])
    # When it sends MAIL FROM
    code, reply = client.mail(user)
    # Then 550 5.2.252 names the limit
    assert code == 550
    assert reply.decode().startswith(f"5.2.252 SendAsDenied; {user} not allowed to send as {user}; ")
    assert "exceeded the limit" in reply.decode()
    client.quit()


# Servers without STARTTLS or AUTH


def test_no_starttls_offers_neither_tls_nor_auth(serve: Callable[..., RunningSmtp]) -> None:
    # Given a server playing no-starttls
    client, _ = connect(serve(Scenario.NO_STARTTLS, personality=Personality.M365))
    client.ehlo()
    # When the client looks for STARTTLS and tries AUTH anyway
    features = dict(client.esmtp_features)
    with pytest.raises(smtplib.SMTPNotSupportedError):
        client.starttls()
    code, reply = client.docmd("AUTH", "LOGIN")
    # Then neither is there
    assert "starttls" not in features and "auth" not in features
    assert code == 504 and reply.decode().startswith("5.7.4 Unrecognized authentication type")
    client.quit()


def test_no_auth_offers_tls_but_no_auth(serve: Callable[..., RunningSmtp], pki: LabPKI) -> None:
    # Given a server playing no-auth
    client = secured(serve(Scenario.NO_AUTH, personality=Personality.GMAIL), pki)
    # When the client tries to log in after STARTTLS
    with pytest.raises(smtplib.SMTPNotSupportedError):
        client.login(*LAB_ACCOUNTS[Personality.GMAIL])
    # Then TLS was up but AUTH was never advertised
    assert client.sock is not None and isinstance(client.sock, ssl.SSLSocket)
    assert "auth" not in client.esmtp_features
    client.quit()


# Certificates


@pytest.mark.parametrize(
    ("scenario", "reason"),
    [
        (Scenario.EXPIRED_CERT, "certificate has expired"),
        (Scenario.WRONG_NAME_CERT, "IP address mismatch"),
        (Scenario.UNTRUSTED_CERT, "unable to get local issuer certificate"),
    ],
)
def test_certificate_scenarios_fail_verification_but_otherwise_work(
    serve: Callable[..., RunningSmtp], pki: LabPKI, scenario: Scenario, reason: str
) -> None:
    # Given a server with a bad certificate
    server = serve(scenario, personality=Personality.M365)
    client, _ = connect(server)
    client.ehlo()
    # When a verifying client starts TLS
    with pytest.raises(ssl.SSLCertVerificationError) as refused:
        client.starttls(context=pki.client_context())
    client.close()
    # Then verification fails for that reason, and without verification the server works
    assert reason in refused.value.verify_message
    lenient = ssl.create_default_context()
    lenient.check_hostname, lenient.verify_mode = False, ssl.CERT_NONE  # the explicit second look only
    client, _ = connect(server)
    client.starttls(context=lenient)
    assert client.login(*LAB_ACCOUNTS[Personality.M365])[0] == 235
    client.quit()


def test_wrong_name_certificate_names_only_wrong_lab_test(serve: Callable[..., RunningSmtp], pki: LabPKI) -> None:
    # Given a server playing wrong-name-cert
    server = serve(Scenario.WRONG_NAME_CERT)
    context = pki.client_context()
    context.check_hostname = False
    # When a client that trusts the lab CA reads the certificate
    client, _ = connect(server)
    client.starttls(context=context)
    names = client.sock.getpeercert()["subjectAltName"]  # type: ignore[union-attr]
    client.quit()
    # Then it is valid but names only wrong.lab.test
    assert names == (("DNS", "wrong.lab.test"),)


# Implicit TLS


@pytest.mark.parametrize("personality", list(Personality))
def test_implicit_tls_server_offers_auth_at_once(
    serve: Callable[..., RunningSmtp], pki: LabPKI, personality: Personality
) -> None:
    # Given a server with implicit TLS (port 465 style)
    server = serve(personality=personality, implicit_tls=True)
    user, password = LAB_ACCOUNTS[personality]
    # When a client connects with TLS from the first byte
    client = smtplib.SMTP_SSL(server.host, server.port, local_hostname=CLIENT_NAME, timeout=TIMEOUT,
                              context=pki.client_context())
    client.ehlo()
    # Then AUTH is advertised without STARTTLS, and logging in and sending work
    assert "auth" in client.esmtp_features and "starttls" not in client.esmtp_features
    client.login(user, password)
    client.sendmail(user, ["to@example.com"], MESSAGE)
    client.quit()
    assert server.implicit_tls and len(server.messages) == 1


def test_implicit_tls_with_expired_certificate_fails_the_handshake(
    serve: Callable[..., RunningSmtp], pki: LabPKI
) -> None:
    # Given an implicit-TLS server with an expired certificate
    server = serve(Scenario.EXPIRED_CERT, implicit_tls=True)
    # When a verifying client connects
    with pytest.raises(ssl.SSLCertVerificationError) as refused:
        smtplib.SMTP_SSL(server.host, server.port, local_hostname=CLIENT_NAME, timeout=TIMEOUT,
                         context=pki.client_context())
    # Then the handshake fails on the expiry
    assert "certificate has expired" in refused.value.verify_message


# Servers that do not speak SMTP


def test_silent_server_accepts_the_connection_and_says_nothing(serve: Callable[..., RunningSmtp]) -> None:
    # Given a silent server
    server = serve(Scenario.SILENT)
    # When a client connects and waits for a banner
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as sock:
        sock.settimeout(0.5)
        # Then the connection is up but nothing arrives within 0.5 s
        with pytest.raises(TimeoutError):
            sock.recv(1024)
        sock.sendall(b"EHLO client.lab.test\r\n")
        with pytest.raises(TimeoutError):
            sock.recv(1024)


def test_not_smtp_server_answers_like_a_web_server(serve: Callable[..., RunningSmtp]) -> None:
    # Given a web server on the SMTP port
    server = serve(Scenario.NOT_SMTP)
    # When smtplib connects
    with pytest.raises(smtplib.SMTPConnectError) as refused:
        smtplib.SMTP(server.host, server.port, local_hostname=CLIENT_NAME, timeout=TIMEOUT)
    # Then the "greeting" is an HTTP 400 and the server closes the connection
    assert refused.value.smtp_code == -1
    assert refused.value.smtp_error == b"/1.1 400 Bad Request"  # smtplib cuts the first four characters
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as sock:
        received = b""
        while chunk := sock.recv(4096):
            received += chunk
    assert received.startswith(b"HTTP/1.1 400 Bad Request\r\n") and received.endswith(b"</html>\r\n")


# Reply delay, many servers, stopping


def test_reply_delay_delays_each_reply_once(serve: Callable[..., RunningSmtp]) -> None:
    # Given a server that delays every reply by 0.1 s
    delay = 0.1
    server = serve(personality=Personality.M365, reply_delay=delay)
    # When a client connects and sends EHLO (a ten-line reply) and NOOP
    started = time.monotonic()
    client, _ = connect(server)
    greeted = time.monotonic()
    client.ehlo()
    ehlo_done = time.monotonic()
    client.noop()
    noop_done = time.monotonic()
    client.quit()
    # Then each reply takes at least the delay, and a multi-line reply is delayed once, not per line
    assert greeted - started >= delay
    assert delay <= ehlo_done - greeted < 5 * delay
    assert noop_done - ehlo_done >= delay


def test_thirty_servers_start_and_stop_quickly(pki: LabPKI) -> None:
    # Given the threads running before
    threads_before = threading.active_count()
    scenarios = [Scenario.WORKING, Scenario.BAD_CREDENTIALS, Scenario.EXPIRED_CERT, Scenario.SILENT, Scenario.NOT_SMTP]
    # When 30 servers start, each answers, and all stop
    started = time.monotonic()
    servers = [start_smtp(scenarios[i % len(scenarios)], personality=list(Personality)[i % 3], pki=pki)
               for i in range(30)]
    start_time = time.monotonic() - started
    try:
        assert len({server.port for server in servers}) == 30
        for server in servers:
            if server.scenario not in (Scenario.SILENT, Scenario.NOT_SMTP):
                client, _ = connect(server)
                client.quit()
    finally:
        stopping = time.monotonic()
        for server in servers:
            server.stop()
        stop_time = time.monotonic() - stopping
    # Then starting took well under 100 ms a server, and every port and thread is freed
    assert start_time < 30 * 0.1
    assert stop_time < 3
    assert threading.active_count() == threads_before
    for server in servers:  # no listener is left (TIME_WAIT of closed conversations aside)
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((server.host, server.port))
            sock.listen()


def test_stop_closes_open_connections_and_is_idempotent(pki: LabPKI) -> None:
    # Given a server with a connected client
    with start_smtp(pki=pki) as server:
        client, _ = connect(server)
        client.ehlo()
        # When the server stops (twice)
        server.stop()
    # Then the client is disconnected and the port refuses new connections
    with pytest.raises(smtplib.SMTPServerDisconnected):
        client.noop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((server.host, server.port), timeout=TIMEOUT)


# PKI


def test_pki_caches_contexts_and_client_trusts_only_the_lab_ca(pki: LabPKI) -> None:
    # Given the lab PKI
    # When contexts are asked for twice
    first, second = pki.server_context(), pki.server_context()
    client = pki.client_context()
    # Then the server context is reused, ca.pem exists, and the client trusts one CA and verifies names
    assert first is second
    assert pki.ca_file.read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert len(client.get_ca_certs()) == 1
    assert client.verify_mode == ssl.CERT_REQUIRED and client.check_hostname
    assert pki.server_context(expired=True) is not first


def test_pki_limits_tls_versions(pki: LabPKI) -> None:
    # Given a server context limited to TLS 1.2
    context = pki.server_context(tls_versions=(ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2))
    # Then its bounds are set
    assert (context.minimum_version, context.maximum_version) == (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2)
