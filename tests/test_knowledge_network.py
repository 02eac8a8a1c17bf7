"""Network and TLS failures are knowledge shared by the live checks and the decoder: same entry, same commands."""

from __future__ import annotations

import pytest

from checks.knowledge.catalog import entry, net_entries
from checks.knowledge.network import LIVE_FAILURES, live_commands
from checks.knowledge.reader import explain_all
from checks.model import CheckId, Status
from checks.runner import run_checklist
from lab.blackhole import closed_port


@pytest.mark.parametrize(("failure", "entry_id"), sorted(LIVE_FAILURES.items()))
def test_every_live_failure_names_a_network_entry_of_the_same_check(failure, entry_id):
    found = entry(entry_id)
    assert found is not None and found in net_entries()
    assert failure.startswith(found.check + "."), (failure, found.check)
    assert live_commands(failure, "smtp.example.com", 587), f"{entry_id} has no copy-ready command"


@pytest.mark.parametrize(("failure", "paste"), [
    ("port.timeout", "Error: connect ETIMEDOUT 40.99.10.2:587"),
    ("port.refused", "Error: connect ECONNREFUSED 127.0.0.1:587"),
    ("dns.host.not_found", "Error: getaddrinfo ENOTFOUND smtp.office365.con"),
    ("tls.cert_untrusted", "javax.net.ssl.SSLHandshakeException: PKIX path building failed"),
    ("tls.cert_name", "Error: Hostname/IP does not match certificate's altnames"),
    ("tls.old_protocol", "javax.net.ssl.SSLHandshakeException: No appropriate protocol (protocol is disabled or "
                         "cipher suites are inappropriate)"),
    ("tls.wrong_mode", "ssl.SSLError: [SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)"),
    ("auth.mechanisms.none_offered", "smtplib.SMTPNotSupportedError: SMTP AUTH extension not supported by server."),
])
def test_the_decoder_explains_the_pasted_error_like_the_live_check(failure, paste):
    # Given the error a client prints for the failure a live check finds
    values = {"host": "smtp.office365.com", "port": "587"}
    # When the decoder reads it with the same host and port
    first = explain_all(paste, values=values)[0]
    # Then it names the same check and hands out the live check's commands (then the client's own, if any)
    assert first.check == entry(LIVE_FAILURES[failure]).check
    live = live_commands(failure, "smtp.office365.com", 587)
    assert first.commands[:len(live)] == live


def test_live_refused_port_carries_the_decoders_commands(lab_settings, smtp_lab):
    from checks.settings.loading import config_from_values

    # Given a relay whose port refuses connections
    port_number = closed_port()
    config = config_from_values(lab_settings(smtp_lab(), connect_to=f"127.0.0.1:{port_number}"))
    # When the checklist runs
    port = run_checklist(config).result(CheckId.PORT)
    # Then the failure carries the copy-ready reachability test, filled with this run's host and port
    assert port.status is Status.FAIL
    assert port.finding.commands == live_commands("port.refused", config.host, port_number)
    assert any(f"{config.host} -Port {port_number}" in c.code for c in port.finding.commands)


def test_live_untrusted_certificate_carries_the_decoders_commands(lab_settings, smtp_lab):
    from checks.settings.loading import config_from_values

    # Given a relay whose certificate this machine does not trust (no lab CA given)
    values = lab_settings(smtp_lab())
    values.pop("ca_file")
    config = config_from_values(values)
    # When the checklist runs
    tls = run_checklist(config).result(CheckId.TLS)
    # Then the TLS failure carries the same certificate command as the decoder's PKIX explanation
    assert tls.status is Status.FAIL, tls
    assert tls.finding.commands == live_commands("tls.cert_untrusted", config.host, config.port)
    pasted = explain_all("PKIX path building failed", values={"host": config.host, "port": str(config.port)})
    assert pasted[0].commands[:len(tls.finding.commands)] == tls.finding.commands


def test_live_relay_without_auth_carries_the_command_that_shows_what_is_offered(smtp_lab, lab_config):
    from lab.smtp import Scenario

    # Given a relay that offers no AUTH after STARTTLS
    config = lab_config(smtp_lab(Scenario.NO_AUTH))
    # When the checklist runs
    mechanisms = run_checklist(config).result(CheckId.AUTH_MECHANISMS)
    # Then the failure carries the command that lists what the server offers after STARTTLS, as the decoder does
    # for smtplib's "SMTP AUTH extension not supported by server"
    assert mechanisms.status is Status.FAIL, mechanisms
    assert mechanisms.finding.commands == live_commands("auth.mechanisms.none_offered", config.host, config.port)
    assert "openssl s_client -starttls smtp" in mechanisms.finding.commands[0].code
    pasted = explain_all("smtplib.SMTPNotSupportedError: SMTP AUTH extension not supported by server.",
                         values={"host": config.host, "port": str(config.port)})
    assert pasted[0].commands[:1] == mechanisms.finding.commands
