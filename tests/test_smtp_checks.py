"""The SMTP conversation checks against real lab servers: what a user sees for each provider scenario."""

from __future__ import annotations

import ipaddress
import socket
import time
from datetime import UTC, datetime, timedelta

import pytest

from checks.model import CheckId, Status, Verdict
from checks.runner import run_checklist
from lab.blackhole import closed_port, start_blackhole
from lab.smtp import Personality, Scenario


def statuses(report) -> dict[str, str]:
    return {r.check_id.value: r.status.value for r in report.results}


def test_working_gmail_setup_is_ready_for_go_live(smtp_lab, lab_config):
    # Given a Gmail-like relay and the guide's settings with a 16-letter app password
    server = smtp_lab(personality=Personality.GMAIL)
    # When the whole checklist runs
    report = run_checklist(lab_config(server))
    # Then every step passes and the verdict is "ready"
    assert report.verdict is Verdict.READY
    assert set(statuses(report).values()) == {"pass"}, statuses(report)
    assert list(statuses(report)) == ["settings", "dns.host", "dns.mx", "port", "smtp.greeting", "tls",
                                      "auth.mechanisms", "auth.credentials", "sender"]
    tls = report.result(CheckId.TLS)
    assert tls.facts.tls_version in ("TLSv1.2", "TLSv1.3")
    assert "Signed in as relay.lab@gmail.com" in report.result(CheckId.AUTH_CREDENTIALS).summary


def test_working_m365_basic_auth_passes_with_the_basic_auth_deadline_warning(smtp_lab, lab_config):
    # Given a Microsoft 365-like relay with basic auth
    server = smtp_lab(personality=Personality.M365)
    # When the checklist runs
    report = run_checklist(lab_config(server))
    # Then it is ready, but the settings step warns that Microsoft disables Basic auth at the end of December 2026
    assert report.verdict is Verdict.READY
    settings = report.result(CheckId.SETTINGS)
    assert settings.status is Status.WARN
    assert "end of December 2026" in settings.summary + settings.details
    assert "OAuth2" in settings.remediation


@pytest.mark.parametrize(("personality", "scenario", "reply_start", "words_in_fix"), [
    (Personality.GMAIL, Scenario.APP_PASSWORD_REQUIRED, "534", "app password"),
    (Personality.GMAIL, Scenario.BAD_CREDENTIALS, "535", "app password"),
    (Personality.M365, Scenario.BAD_CREDENTIALS, "535", "password"),
    (Personality.M365, Scenario.SMTP_AUTH_DISABLED_TENANT, "535", "Set-TransportConfig"),
    (Personality.M365, Scenario.SMTP_AUTH_DISABLED_MAILBOX, "535", "Set-CASMailbox"),
    (Personality.M365, Scenario.BASIC_AUTH_DISABLED, "535", "OAuth2"),
    (Personality.M365, Scenario.SECURITY_DEFAULTS, "535", "Security Defaults"),
])
def test_refused_sign_in_shows_the_server_reply_and_the_fix(smtp_lab, lab_config, personality, scenario,
                                                            reply_start, words_in_fix):
    # Given a relay that refuses the sign-in the way the provider does
    server = smtp_lab(scenario, personality=personality)
    # When the checklist runs
    report = run_checklist(lab_config(server))
    # Then the sign-in fails with the server's exact words, a plain cause and the fix; the sender step is skipped
    credentials = report.result(CheckId.AUTH_CREDENTIALS)
    assert credentials.status is Status.FAIL
    assert credentials.reply.startswith(reply_start)
    assert words_in_fix.lower() in credentials.remediation.lower()
    assert "Cause:" in credentials.details
    assert report.result(CheckId.SENDER).status is Status.SKIP
    assert report.verdict is Verdict.PROBLEMS


def test_no_starttls_fails_tls_and_never_sends_the_password(smtp_lab, lab_config):
    # Given a server that offers neither STARTTLS nor AUTH (a firewall stripped it)
    server = smtp_lab(Scenario.NO_STARTTLS)
    # When the checklist runs
    report = run_checklist(lab_config(server))
    # Then tls fails naming the cause and no AUTH was ever attempted
    assert report.result(CheckId.TLS).status is Status.FAIL
    assert "STARTTLS is not offered" in report.result(CheckId.TLS).summary
    assert "inspection" in report.result(CheckId.TLS).details
    assert report.result(CheckId.AUTH_CREDENTIALS).status is Status.SKIP
    assert not any("AUTH" in line for r in report.results for line in r.transcript if line.startswith("C:"))


def test_starttls_without_auth_fails_auth_mechanisms(smtp_lab, lab_config):
    server = smtp_lab(Scenario.NO_AUTH)
    report = run_checklist(lab_config(server))
    assert report.result(CheckId.TLS).status is Status.PASS
    assert report.result(CheckId.AUTH_MECHANISMS).status is Status.FAIL
    assert "no SMTP AUTH" in report.result(CheckId.AUTH_MECHANISMS).summary


@pytest.mark.parametrize(("scenario", "summary_words"), [
    (Scenario.EXPIRED_CERT, "has expired"),
    (Scenario.WRONG_NAME_CERT, "not valid for smtp.office365.com: it names wrong.lab.test"),
    (Scenario.UNTRUSTED_CERT, "TLS is intercepted"),
])
def test_certificate_problems_are_named(smtp_lab, lab_config, scenario, summary_words):
    # Given a server whose certificate is expired / for another name / from an unknown issuer
    server = smtp_lab(scenario)
    # When the checklist runs
    report = run_checklist(lab_config(server))
    # Then tls fails and says which, and credentials are never sent over the unverified channel
    tls = report.result(CheckId.TLS)
    assert tls.status is Status.FAIL
    assert summary_words in tls.summary
    assert report.result(CheckId.AUTH_CREDENTIALS).status is Status.SKIP


def test_untrusted_issuer_on_a_custom_server_suggests_its_ca_file(smtp_lab, lab_config):
    server = smtp_lab(Scenario.UNTRUSTED_CERT, personality=Personality.GENERIC)
    report = run_checklist(lab_config(server))
    tls = report.result(CheckId.TLS)
    assert "untrusted authority" in tls.summary
    assert "--ca-file" in tls.remediation


def test_implicit_tls_on_465_works(smtp_lab, lab_config):
    server = smtp_lab(personality=Personality.GMAIL, implicit_tls=True)
    report = run_checklist(lab_config(server))
    assert report.verdict is Verdict.READY, [(r.check_id.value, r.summary) for r in report.problems]
    assert report.result(CheckId.TLS).summary.startswith("Implicit TLS negotiated")


def test_silent_server_gets_a_verdict_within_the_timeout_plus_a_second(smtp_lab, lab_config):
    # Given a server that accepts the connection and never greets, and a 2 s step timeout
    server = smtp_lab(Scenario.SILENT)
    started = time.monotonic()
    # When the checklist runs
    report = run_checklist(lab_config(server, timeout=2))
    elapsed = time.monotonic() - started
    # Then the greeting fails plainly, and the whole run ends within the timeout plus a second
    assert report.result(CheckId.SMTP_GREETING).status is Status.FAIL
    assert "No 220 greeting within 2 s" in report.result(CheckId.SMTP_GREETING).summary
    assert elapsed < 3.0


def test_web_server_on_the_port_is_recognised(smtp_lab, lab_config):
    server = smtp_lab(Scenario.NOT_SMTP)
    report = run_checklist(lab_config(server))
    greeting = report.result(CheckId.SMTP_GREETING)
    assert greeting.status is Status.FAIL
    assert "web (HTTP) server, not SMTP" in greeting.summary


def test_closed_port_is_refused(lab_settings, smtp_lab):
    from checks.settings.loading import config_from_values

    values = lab_settings(smtp_lab(), connect_to=f"127.0.0.1:{closed_port()}")
    report = run_checklist(config_from_values(values))
    port = report.result(CheckId.PORT)
    assert port.status is Status.FAIL
    assert port.summary.startswith("Connection refused")
    assert report.result(CheckId.SMTP_GREETING).status is Status.SKIP


def test_dropped_connection_is_called_a_blocked_port(lab_settings, smtp_lab):
    from checks.settings.loading import config_from_values

    with start_blackhole() as hole:
        values = lab_settings(smtp_lab(), connect_to=f"127.0.0.1:{hole.port}", timeout=1)
        report = run_checklist(config_from_values(values))
    port = report.result(CheckId.PORT)
    assert port.status is Status.FAIL
    assert "silently dropped" in port.summary
    assert "firewall" in port.details.lower()


def test_blocked_port_does_not_suggest_an_alternative_port_that_only_accepts_tcp():
    # Given a relay whose port is silently dropped while port 465 on the same host accepts TCP but speaks no TLS
    from checks.settings.loading import config_from_values

    alternative = socket.socket()
    try:
        alternative.bind(("127.0.0.1", 465))
    except OSError:
        pytest.skip("binding port 465 needs root (CI runs as root)")
    alternative.listen(1)
    with alternative, start_blackhole() as hole:
        config = config_from_values({"profile": "custom", "host": "127.0.0.1", "port": hole.port,
                                     "username": "relay@lab.test", "password": "x" * 12, "timeout": 1})
        # When the port check runs
        report = run_checklist(config, only=["port"])
    # Then it fails as blocked and does not claim that implicit TLS on 465 should work
    port = report.result(CheckId.PORT)
    assert port.status is Status.FAIL
    assert "Alternative port 465: no mail service answers there either" in port.details
    assert "should work" not in port.remediation


def test_the_alternative_port_is_proven_by_a_tls_handshake_or_a_greeting(smtp_lab, pki):
    # Given an implicit-TLS relay, a STARTTLS relay, and a port that accepts TCP and stays silent
    from checks.settings.config import Security
    from checks.smtp.port import alternative_answers
    from lab.hostile import HostileKind, start_hostile

    tls, starttls = smtp_lab(implicit_tls=True), smtp_lab()
    with start_hostile(HostileKind.SILENT, pki=pki) as silent:
        # Then only a completed handshake or a 220 greeting counts as "answers"
        assert alternative_answers(tls.host, tls.port, Security.TLS, timeout=2, server_name="smtp.lab.test")
        assert alternative_answers(starttls.host, starttls.port, Security.STARTTLS, timeout=2, server_name="x")
        assert not alternative_answers(silent.host, silent.port, Security.TLS, timeout=0.5, server_name="x")
        assert not alternative_answers(silent.host, silent.port, Security.STARTTLS, timeout=0.5, server_name="x")


def test_a_hosted_console_never_probes_a_port_it_may_not_test(lab_dns):
    # Given a hosted console allowing only the (closed) relay port, and the lab DNS naming 127.0.0.1
    import dns.resolver

    from checks.run_state import Dependencies
    from checks.settings.loading import config_from_values
    from checks.target_policy import TargetPolicy

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    ip, port = lab_dns.nameserver.rsplit(":", 1)
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers, resolver.port = [ip], int(port)
    policy = TargetPolicy(restricted=True, hosts=frozenset({"smtp.lab.test"}), ports=frozenset({closed}),
                          networks=(ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")))
    config = config_from_values({"profile": "custom", "host": "smtp.lab.test", "port": closed, "auth": "none",
                                 "timeout": 1})
    # When the port check finds the relay port closed
    port_result = run_checklist(config, only=["port"], deps=Dependencies(policy=policy, resolver=resolver)
                                ).result(CheckId.PORT)
    # Then the alternative port (465) is not tried
    assert port_result.status is Status.FAIL
    assert "Alternative port 465: not tried (this hosted console may not test it)" in port_result.details


def test_send_test_delivers_a_tagged_message(smtp_lab, lab_config):
    server = smtp_lab(personality=Personality.M365)
    report = run_checklist(lab_config(server, send_test_to="someone@contoso.example"))
    send = report.result(CheckId.SEND_TEST)
    assert send.status is Status.PASS, send
    assert report.run_id in send.summary
    assert len(server.messages) == 1
    assert report.run_id.encode() in server.messages[0][2]


def test_send_as_denied_is_decoded(smtp_lab, lab_config):
    server = smtp_lab(Scenario.SEND_AS_DENIED, personality=Personality.M365)
    report = run_checklist(lab_config(server, sender="shared@contoso.example", send_test_to="x@contoso.example"))
    assert report.result(CheckId.SENDER).status is Status.WARN
    send = report.result(CheckId.SEND_TEST)
    assert send.status is Status.FAIL
    assert "SendAs" in send.remediation


def test_gmail_daily_limit_is_decoded(smtp_lab, lab_config):
    server = smtp_lab(Scenario.DAILY_LIMIT, personality=Personality.GMAIL)
    report = run_checklist(lab_config(server, send_test_to="x@gmail.com"))
    send = report.result(CheckId.SEND_TEST)
    assert send.status is Status.FAIL
    assert send.reply.startswith("550")
    assert "24" in send.remediation


def test_transcript_masks_the_credentials(smtp_lab, lab_config):
    server = smtp_lab(personality=Personality.M365)
    report = run_checklist(lab_config(server))
    transcript = "\n".join(report.result(CheckId.AUTH_CREDENTIALS).transcript)
    assert "AUTH" in transcript
    assert "<hidden: credentials>" in transcript
    assert "Lab-Passw0rd!" not in transcript


def test_server_offering_only_old_tls_is_named(smtp_lab, lab_config):
    # Given a server that offers only TLS 1.0 / 1.1 (an old appliance)
    server = smtp_lab(Scenario.LEGACY_TLS)
    # When the checklist runs
    report = run_checklist(lab_config(server))
    # Then tls fails saying so, and nothing is sent over it
    tls = report.result(CheckId.TLS)
    assert tls.status is Status.FAIL
    assert "only TLS older than 1.2" in tls.summary
    assert report.result(CheckId.AUTH_CREDENTIALS).status is Status.SKIP


def test_certificate_expiring_within_30_days_warns(smtp_lab, lab_config):
    # Given a working server, and a clock set to 10 days before its certificate expires
    from checks.run_state import Dependencies

    server = smtp_lab()
    days_left = run_checklist(lab_config(server), only=["tls"]).result(CheckId.TLS).facts.days_left
    later = datetime.now(UTC) + timedelta(days=days_left - 10)
    # When the checklist runs at that time
    report = run_checklist(lab_config(server), only=["tls"], deps=Dependencies(now=lambda: later))
    # Then tls still works but warns with the days left
    tls = report.result(CheckId.TLS)
    assert tls.status is Status.WARN
    assert "expires in 9 days" in tls.summary or "expires in 10 days" in tls.summary


def test_implicit_tls_on_a_non_465_port_is_named_when_starttls_was_chosen(smtp_lab, lab_config):
    # Given an implicit-TLS relay on port 2465, set up as STARTTLS
    server = smtp_lab(implicit_tls=True)
    config = lab_config(server, security="starttls", port=2465)
    # When the checklist runs
    report = run_checklist(config, only=["smtp.greeting"])
    greeting = report.result(CheckId.SMTP_GREETING)
    # Then the greeting check says the port speaks implicit TLS and how to set it
    assert greeting.status is Status.FAIL
    assert "Port 2465 uses implicit TLS" in greeting.summary
    assert "Set security to tls (implicit TLS) for port 2465" in greeting.remediation
