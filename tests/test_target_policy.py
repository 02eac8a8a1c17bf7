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
    assert report.result(CheckId.DNS_HOST).facts.addresses == ("127.0.0.1",)
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


# Every form below reaches a host no hosted console may reach; the comment names the range or the embedding.
REFUSED_FORMS = (
    "10.0.0.5", "172.16.0.1", "192.168.1.1", "127.0.0.1", "0.0.0.0", "169.254.169.254",  # RFC 1918, loopback...
    "100.64.0.1",  # shared address space (CGNAT)
    "192.0.0.9", "192.0.0.171",  # IETF protocol assignments 192.0.0.0/24
    "192.0.2.1", "198.51.100.1", "203.0.113.1",  # documentation
    "192.88.99.1",  # deprecated 6to4 relay anycast
    "198.18.0.1",  # benchmarking
    "224.0.0.1", "240.0.0.1", "255.255.255.255",  # multicast, reserved, broadcast
    "::", "::1", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1",  # unspecified, loopback, link/unique local, mcast
    "fec0::1",  # site-local (deprecated, still routed internally)
    "100::1",  # discard-only
    "2001:db8::1", "3fff::1",  # documentation
    "5f00::1",  # SRv6 SIDs
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "64:ff9b::10.0.0.5", "64:ff9b::127.0.0.1",  # NAT64 well-known prefix with a private IPv4 inside
    "64:ff9b:1:a00:5::", "64:ff9b:1::1",  # local-use NAT64 64:ff9b:1::/48
    "::10.0.0.5", "::127.0.0.1",  # IPv4-compatible
    "::ffff:10.0.0.5", "::ffff:127.0.0.1", "[::ffff:169.254.169.254]",  # IPv4-mapped
    "::ffff:0:10.0.0.5", "::ffff:0:a00:5",  # IPv4-translated (SIIT)
    "2002:a00:5::1", "2002:7f00:1::",  # 6to4 of a private / loopback IPv4
)
ALLOWED_FORMS = ("8.8.8.8", "142.250.102.108", "2a00:1450:400c:c06::6c", "64:ff9b::8.8.8.8", "::ffff:8.8.8.8",
                 "2002:808:808::1", "2603:1026:c02::2")


@pytest.mark.parametrize("address", REFUSED_FORMS)
def test_every_non_global_address_form_is_refused(address):
    refusal = TargetPolicy(restricted=True).address_refusal(address)
    assert refusal is not None and "does not reach" in refusal


@pytest.mark.parametrize("address", ALLOWED_FORMS)
def test_public_addresses_and_their_embeddings_are_allowed(address):
    assert TargetPolicy(restricted=True).address_refusal(address) is None


def test_an_allowed_network_covers_its_addresses_inside_ipv6_forms():
    policy = TargetPolicy.from_environment({**HOSTED, "RELAY_CONSOLE_ALLOWED_NETWORKS": "10.0.0.0/8"})
    assert policy.address_refusal("64:ff9b::10.0.0.5") is None and policy.address_refusal("::ffff:10.1.1.1") is None
    assert "carries 10.0.0.5" in TargetPolicy(restricted=True).address_refusal("64:ff9b::10.0.0.5")
