"""A console hosted for a team refuses targets outside its allow-list, private addresses included after DNS."""

from __future__ import annotations

import pytest

from checks.model import CheckId, Status
from checks.run_state import Dependencies
from checks.runner import run_checklist
from checks.settings.loading import config_from_values
from checks.target_policy import TargetPolicy, TargetRefused

HOSTED = {"RELAY_CONSOLE_RESTRICT_TARGETS": "1"}


def test_policy_is_off_unless_the_environment_turns_it_on():
    assert not TargetPolicy.from_environment({}).restricted
    policy = TargetPolicy.from_environment(HOSTED)
    assert policy.restricted and 587 in policy.ports and "smtp.office365.com" in policy.hosts


def test_hosted_console_refuses_hosts_ports_and_overrides_with_field_names():
    # Given a hosted console and settings aimed at an internal host with a private DNS server
    policy = TargetPolicy.from_environment(HOSTED)
    config = config_from_values({"profile": "custom", "host": "intranet.corp", "port": 2525,
                                 "nameserver": "10.0.0.53", "username": "a@corp.example", "password": "x" * 8})
    # When the run is asked for
    with pytest.raises(TargetRefused) as refused:
        run_checklist(config, deps=Dependencies(policy=policy))
    # Then nothing runs, and each refused field is named
    assert {e.field for e in refused.value.errors} == {"host", "port", "nameserver"}


def test_a_provider_name_that_resolves_to_a_private_address_is_refused_after_dns(lab_dns):
    # Given a hosted console that allows the lab DNS override only for this test, and smtp.gmail.com -> 127.0.0.1
    policy = TargetPolicy(restricted=True)
    config = config_from_values({"profile": "gmail", "username": "a@gmail.com", "password": "abcdefghijklmnop",
                                 "nameserver": lab_dns.nameserver, "timeout": 2})
    report = run_checklist(config, deps=Dependencies(policy=TargetPolicy()), only=["dns.host"])
    assert report.result(CheckId.DNS_HOST).facts["addresses"] == ["127.0.0.1"]
    # When the port check runs under the policy
    from checks.run_state import CheckContext, Deadline
    from checks.smtp.port import check_port

    ctx = CheckContext(config, deps=Dependencies(policy=policy), deadline=Deadline.after(5), run_id="t")
    ctx.record(report.result(CheckId.DNS_HOST))
    finding = check_port(ctx)
    # Then it refuses to connect and says why
    assert finding.status is Status.FAIL
    assert "private, loopback or reserved" in finding.summary


def test_allowed_networks_let_an_internal_relay_through():
    policy = TargetPolicy.from_environment({**HOSTED, "RELAY_CONSOLE_ALLOWED_NETWORKS": "127.0.0.0/8"})
    assert policy.address_refusal("127.0.0.1") is None
    assert policy.address_refusal("10.1.2.3") is not None
    assert policy.address_refusal("8.8.8.8") is None


def test_cli_reports_a_refused_target_as_invalid_settings(capsys):
    from checks.cli.main import main

    code = main(["run", "--profile", "custom", "--host", "intranet.corp", "--port", "25", "--auth", "none",
                 "--only", "settings"], environ=HOSTED)
    assert code == 2
    assert "error: host: this console may only test" in capsys.readouterr().err
