"""dns.host and dns.mx against the lab DNS server on loopback (UDP and TCP), through a real CheckContext."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterator

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.resolver
import pytest

from checks.dns.host import check_host
from checks.dns.lookup import make_resolver
from checks.dns.mx import check_mx, mx_provider
from checks.domain.spf import check_spf
from checks.knowledge.guide import GuideSection
from checks.model import CheckId, Status
from checks.run_state import CheckContext, Deadline, Dependencies
from checks.runner import run_checklist
from checks.settings.loading import config_from_values
from lab.dns import LAB_ZONE, Record, RunningDns, start_dns


@pytest.fixture
def lab_dns() -> Iterator[RunningDns]:
    with start_dns() as server:
        yield server


@pytest.fixture
def dns_factory() -> Iterator:
    started: list[RunningDns] = []

    def start(records=LAB_ZONE, **options) -> RunningDns:
        server = start_dns(records, **options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def make_config(nameserver: str | None = None, **values):
    values.setdefault("profile", "custom")
    if values["profile"] == "custom":
        values.setdefault("auth", "none")
        values.setdefault("host", "smtp.lab.test")
    else:
        values.setdefault("password", "not-a-real-password")
    if nameserver is not None:
        values["nameserver"] = nameserver
    return config_from_values(values, environ={})


def run(check, config, resolver=None):
    ctx = CheckContext(config, deps=Dependencies(resolver=resolver), deadline=Deadline.after(config.deadline),
                       run_id="test-dns")
    return check(ctx)


# --- the lab server itself ------------------------------------------------------------------------------


def test_given_the_lab_zone_when_reading_its_addresses_then_all_are_loopback():
    addresses = [r.value for r in LAB_ZONE if r.rtype in ("A", "AAAA")]
    assert addresses and all(ipaddress.ip_address(a).is_loopback for a in addresses)


def test_given_the_lab_server_when_asked_over_tcp_then_it_answers_on_the_same_port(lab_dns):
    query = dns.message.make_query("contoso.example.", "MX")
    udp = dns.query.udp(query, lab_dns.host, port=lab_dns.port, timeout=2)
    tcp = dns.query.tcp(query, lab_dns.host, port=lab_dns.port, timeout=2)
    assert udp.answer == tcp.answer
    assert "contoso-example.mail.protection.outlook.com." in tcp.answer[0].to_text()


def test_given_a_known_name_without_the_type_when_asked_then_noerror_nodata_not_nxdomain(lab_dns):
    response = dns.query.udp(dns.message.make_query("nomx.example.", "MX"), lab_dns.host, port=lab_dns.port,
                             timeout=2)
    assert response.rcode() == dns.rcode.NOERROR and response.answer == []
    unknown = dns.query.udp(dns.message.make_query("nothing.example.", "A"), lab_dns.host, port=lab_dns.port,
                            timeout=2)
    assert unknown.rcode() == dns.rcode.NXDOMAIN


# --- dns.host -------------------------------------------------------------------------------------------


def test_given_a_cname_chain_when_checking_the_host_then_addresses_ttl_and_chain_are_reported(lab_dns):
    config = make_config(lab_dns.nameserver, profile="m365-basic", username="a@contoso.example")

    finding = run(check_host, config)

    assert finding.status is Status.PASS
    assert finding.facts.addresses == ("127.0.0.1",)
    assert finding.facts.canonical_name == "smtp.office365.com.lab-edge.test"
    assert finding.facts.cname_chain == ("smtp.office365.com.lab-edge.test",)
    assert finding.facts.resolver == lab_dns.nameserver
    assert "CNAME smtp.office365.com -> smtp.office365.com.lab-edge.test (TTL 300 s)" in finding.details
    assert "A 127.0.0.1 (TTL 300 s)" in finding.details
    assert "chosen explicitly" in finding.details  # loopback for a provider host is only noted in the lab
    assert finding.guide_section == GuideSection.NETWORK


def test_given_a_host_with_ipv4_and_ipv6_when_checking_then_ipv4_comes_first(lab_dns):
    finding = run(check_host, make_config(lab_dns.nameserver, host="smtp.lab.test"))

    assert finding.status is Status.PASS
    assert finding.facts.addresses == ("127.0.0.1", "::1")
    assert "AAAA ::1 (TTL 300 s)" in finding.details


def test_given_an_ip_literal_when_checking_the_host_then_it_passes_without_a_lookup(dns_factory):
    silent = dns_factory(delay=5.0)  # would stall any lookup
    config = make_config(silent.nameserver, host="127.0.0.1", timeout=3)

    started = time.monotonic()
    finding = run(check_host, config)

    assert time.monotonic() - started < 0.5
    assert finding.status is Status.PASS
    assert finding.facts.addresses == ("127.0.0.1",)
    assert "certificate must then name that address" in finding.details


def test_given_a_misspelt_host_when_checking_then_fail_names_nxdomain_and_the_spelling(lab_dns):
    finding = run(check_host, make_config(lab_dns.nameserver, host="smtp.office356.com"))

    assert finding.status is Status.FAIL
    assert "does not exist" in finding.summary
    assert "smtp.office365.com / smtp.gmail.com" in finding.remediation
    assert finding.facts.addresses == ()


def test_given_a_name_without_addresses_when_checking_the_host_then_fail(lab_dns):
    finding = run(check_host, make_config(lab_dns.nameserver, host="contoso.example"))  # MX and TXT only

    assert finding.status is Status.FAIL
    assert "no IPv4 (A) or IPv6 (AAAA) address" in finding.summary


def test_given_a_silent_nameserver_when_checking_the_host_then_fail_within_the_timeout(lab_dns):
    config = make_config(lab_dns.nameserver, host="silent.lab.test", timeout=1)

    started = time.monotonic()
    finding = run(check_host, config)
    elapsed = time.monotonic() - started

    assert elapsed < 1 + 1
    assert finding.status is Status.FAIL
    assert lab_dns.nameserver in finding.summary and "1 s" in finding.summary
    assert "port 53" in finding.remediation


def test_given_a_lost_udp_packet_when_checking_the_host_then_the_query_is_asked_again_within_the_step(dns_factory):
    # Given a nameserver whose first answer for the relay host is lost on the way, and a 6 s step timeout
    lossy = dns_factory(lose_first=["smtp.lab.test"])
    config = make_config(lossy.nameserver, host="smtp.lab.test", timeout=6)
    # When dns.host runs
    started = time.monotonic()
    finding = run(check_host, config)
    elapsed = time.monotonic() - started
    # Then the query is asked again after one try's share of the step, and the host resolves
    assert finding.status is Status.PASS, finding.summary
    assert "127.0.0.1" in finding.facts.addresses
    assert elapsed < 6 * 2 / 3


def test_given_a_slow_nameserver_within_the_timeout_when_checking_then_it_still_passes(dns_factory):
    slow = dns_factory(delay=0.3)

    finding = run(check_host, make_config(slow.nameserver, host="smtp.lab.test", timeout=2))

    assert finding.status is Status.PASS


def test_given_the_system_resolver_redirects_a_provider_when_checking_then_warn(lab_dns):
    # The injected resolver stands in for the system's: no nameserver was chosen in the settings.
    injected = dns.resolver.Resolver(configure=False)
    injected.nameservers = [lab_dns.host]
    injected.port = lab_dns.port
    config = make_config(profile="gmail", username="a@gmail.com")

    finding = run(check_host, config, resolver=injected)

    assert finding.status is Status.WARN
    assert "private/loopback" in finding.summary
    assert "split-horizon" in finding.remediation and "TLS-inspecting" in finding.remediation
    assert finding.facts.addresses == ("127.0.0.1",)


def test_given_connect_to_when_the_host_does_not_resolve_then_only_warn(lab_dns):
    config = make_config(lab_dns.nameserver, host="smtp.office356.com", connect_to="127.0.0.1:2525")

    finding = run(check_host, config)

    assert finding.status is Status.WARN
    assert finding.facts.connect_to == "127.0.0.1:2525"


# --- dns.mx ---------------------------------------------------------------------------------------------


def test_given_a_gmail_sender_on_the_gmail_relay_when_checking_mx_then_pass_google(lab_dns):
    finding = run(check_mx, make_config(lab_dns.nameserver, profile="gmail", username="a@gmail.com"))

    assert finding.status is Status.PASS
    assert finding.facts.provider == "google"
    assert finding.facts.mx == ("gmail-smtp-in.l.google.com",)
    assert finding.facts.spf == "v=spf1 include:_spf.google.com ~all"
    assert "MX 5 gmail-smtp-in.l.google.com (TTL 300 s)" in finding.details


def test_given_an_m365_domain_on_the_m365_relay_when_checking_mx_then_pass_microsoft(lab_dns):
    config = make_config(lab_dns.nameserver, profile="m365-basic", username="a@contoso.example")

    finding = run(check_mx, config)

    assert finding.status is Status.PASS
    assert finding.facts.provider == "microsoft"
    assert finding.facts.mx == ("contoso-example.mail.protection.outlook.com",)


def test_given_a_google_domain_on_the_m365_relay_when_checking_mx_then_warn_mismatch(lab_dns):
    config = make_config(lab_dns.nameserver, profile="m365-basic", username="a@fabrikam.example")

    finding = run(check_mx, config)

    assert finding.status is Status.WARN
    assert "hosted by Google" in finding.summary and "relay is Microsoft 365" in finding.summary
    assert "SPF/DMARC" in finding.summary
    assert "include:spf.protection.outlook.com" in finding.remediation
    assert finding.facts.provider == "google"


def test_given_spf_without_the_relay_provider_when_checking_mx_then_dns_mx_leaves_spf_to_domain_spf(lab_dns):
    config = make_config(lab_dns.nameserver, profile="gmail", username="a@fabrikam.example")

    finding = run(check_mx, config)

    assert finding.status is Status.PASS  # Google MX + Google relay: no mismatch; SPF is domain.spf's to judge
    assert finding.facts.spf == "v=spf1 include:spf.protection.outlook.com -all"


def test_given_a_custom_relay_when_the_domain_is_google_then_no_mismatch_warning(lab_dns):
    config = make_config(lab_dns.nameserver, host="smtp.lab.test", sender="a@fabrikam.example")

    finding = run(check_mx, config)

    assert finding.status is Status.PASS
    assert finding.facts.provider == "google"


def test_given_a_domain_without_spf_when_checking_the_domain_then_domain_spf_warns(dns_factory):
    server = dns_factory([Record("nospf.example", "MX", "10 nospf-example.mail.protection.outlook.com.")])
    config = make_config(server.nameserver, profile="m365-basic", username="a@nospf.example")

    mx, spf = run(check_mx, config), run(check_spf, config)

    assert mx.status is Status.PASS and mx.facts.spf == ""
    assert spf.status is Status.WARN
    assert "no SPF record" in spf.summary
    assert "v=spf1 include:spf.protection.outlook.com -all" in spf.remediation


def test_given_a_dod_tenant_without_spf_when_checking_the_domain_then_the_fix_names_its_clouds_include(dns_factory):
    # Given a US Government (DoD) domain received by Microsoft's GCC High / DoD MX and without SPF
    server = dns_factory([Record("army.example", "MX", "10 army-example.mail.protection.office365.us.")])
    config = make_config(server.nameserver, profile="m365-basic", cloud="usgov", host="outlook-dod.office365.us",
                         username="a@army.example")
    # When the sender domain is checked
    mx, spf = run(check_mx, config), run(check_spf, config)
    # Then its mail is Microsoft's, and the SPF fix names the US Government include, not the worldwide one
    assert mx.facts.provider == "microsoft"
    assert "v=spf1 include:spf.protection.office365.us -all" in spf.remediation


def test_given_a_domain_without_mx_when_checking_mx_then_warn_receivers_may_reject(lab_dns):
    finding = run(check_mx, make_config(lab_dns.nameserver, sender="a@nomx.example"))

    assert finding.status is Status.WARN
    assert "cannot receive mail" in finding.summary
    assert finding.facts.mx == () and finding.facts.provider == ""


def test_given_a_sender_domain_that_does_not_exist_when_checking_mx_then_fail(lab_dns):
    finding = run(check_mx, make_config(lab_dns.nameserver, sender="a@no-such-domain.example"))

    assert finding.status is Status.FAIL
    assert "does not exist" in finding.summary


def test_given_a_silent_nameserver_when_checking_mx_then_fail_within_the_timeout(lab_dns):
    config = make_config(lab_dns.nameserver, sender="a@silent.lab.test", timeout=1)

    started = time.monotonic()
    finding = run(check_mx, config)

    assert time.monotonic() - started < 1 + 1
    assert finding.status is Status.FAIL
    assert "port 53" in finding.remediation


def test_given_an_spf_too_big_for_udp_when_checking_mx_then_the_answer_comes_over_tcp(dns_factory):
    long_spf = "v=spf1 " + " ".join(f"ip4:192.0.2.{i}" for i in range(1, 60)) + " include:_spf.google.com -all"
    server = dns_factory([Record("big.example", "MX", "1 aspmx.l.google.com."),
                          Record("big.example", "TXT", long_spf)])
    plain = dns.query.udp(dns.message.make_query("big.example.", "TXT"), server.host, port=server.port, timeout=2)
    assert plain.flags & dns.flags.TC  # truncated over UDP: the resolver must retry over TCP

    finding = run(check_mx, make_config(server.nameserver, profile="gmail", username="a@big.example"))

    assert finding.status is Status.PASS
    assert finding.facts.spf == long_spf


def test_given_mx_host_names_when_classifying_then_google_microsoft_or_other():
    assert mx_provider("aspmx.l.google.com.") == "google"
    assert mx_provider("alt1.gmail-smtp-in.l.google.com") == "google"
    assert mx_provider("x.googlemail.com") == "google"
    assert mx_provider("contoso-com.mail.protection.outlook.com") == "microsoft"
    assert mx_provider("eu-smtp-inbound-1.mimecast.com") == ""


# --- resolver building and the runner -------------------------------------------------------------------


def test_given_a_nameserver_setting_when_making_the_resolver_then_it_asks_only_that_server():
    config = make_config("127.0.0.1:5353", host="smtp.lab.test")

    resolver = make_resolver(config, timeout=3)

    assert resolver.nameservers == ["127.0.0.1"] and resolver.port == 5353 and resolver.lifetime == 3
    injected = object()
    assert make_resolver(config, injected=injected, timeout=3) is injected


def test_given_the_runner_when_running_the_dns_checks_then_both_appear_in_the_report(lab_dns):
    config = make_config(lab_dns.nameserver, profile="m365-basic", username="a@fabrikam.example")

    report = run_checklist(config, only=["dns.host", "dns.mx"])

    assert [r.check_id for r in report.results] == [CheckId.DNS_HOST, CheckId.DNS_MX]
    assert report.result("dns.host").status is Status.PASS
    assert report.result("dns.host").facts.addresses == ("127.0.0.1",)
    assert report.result("dns.mx").status is Status.WARN
    assert report.result("dns.mx").guide_section == GuideSection.NETWORK.value


def test_given_no_resolver_configuration_when_checking_the_host_then_the_os_answers_without_ttl(monkeypatch):
    def no_configuration(*args, **kwargs):
        raise dns.resolver.NoResolverConfiguration("no /etc/resolv.conf")

    monkeypatch.setattr(dns.resolver, "Resolver", no_configuration)  # as on a host without /etc/resolv.conf
    config = make_config(host="localhost", timeout=2)

    host_finding = run(check_host, config)
    mx_finding = run(check_mx, make_config(host="localhost", sender="a@lab.test", timeout=2))

    assert host_finding.status is Status.PASS
    assert "TTL unknown" in host_finding.details and host_finding.facts.resolver == "system"
    assert host_finding.facts.addresses
    assert mx_finding.status is Status.SKIP and "--nameserver" in mx_finding.remediation


def test_given_the_system_resolver_when_the_host_is_in_the_hosts_file_then_it_resolves_as_the_app_would():
    # Given no --nameserver: the system resolver, and "localhost" (a hosts-file name on every machine)
    config = make_config(host="localhost", timeout=2)
    # When the host check runs
    finding = run(check_host, config)
    # Then it resolves like the application would (getaddrinfo), and says the hosts file answered
    assert finding.status is Status.PASS and "127.0.0.1" in finding.facts.addresses
    assert "Answered by the hosts file (/etc/hosts)" in finding.details and finding.facts.resolver == "system"
