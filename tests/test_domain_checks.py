"""domain.spf, domain.dkim and domain.dmarc against the lab DNS server, and agreement with checkdmarc's own CLI."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from checks.model import CheckId, Status
from checks.runner import run_checklist
from checks.settings.loading import config_from_values
from lab.dns import LAB_ZONE, start_dns

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_CHECKS = ("domain.spf", "domain.dkim", "domain.dmarc")


def domain_report(nameserver: str, sender: str, profile: str = "m365-basic", **values):
    settings = {"profile": profile, "username": sender, "password": "not-used", "nameserver": nameserver,
                "timeout": 2, "deadline": 20, **values}
    return run_checklist(config_from_values(settings, environ={}), only=DOMAIN_CHECKS + ("dns.mx",))


def test_a_domain_set_up_as_the_guide_says_passes_all_three(lab_dns):
    report = domain_report(lab_dns.nameserver, "relay@contoso.example")
    assert {c: report.result(c).status for c in DOMAIN_CHECKS} == dict.fromkeys(DOMAIN_CHECKS, Status.PASS)
    assert "include:spf.protection.outlook.com" in report.result("domain.spf").summary
    assert "aligns through SPF and DKIM" in report.result("domain.dmarc").summary


@pytest.mark.parametrize(("sender", "check", "status", "words"), [
    ("a@spf-nested.example", "domain.spf", Status.PASS,
     "via include:_spf.spf-nested.example -> include:spf.protection.outlook.com"),
    ("a@spf-redirect.example", "domain.spf", Status.PASS,
     "via redirect=_spf.spf-nested.example -> include:spf.protection.outlook.com"),
    ("a@spf-11-lookups.example", "domain.spf", Status.WARN, "needs 11 DNS lookups"),
    ("a@dmarc-missing.example", "domain.dmarc", Status.WARN, "has no DMARC record"),
    ("a@dmarc-none.example", "domain.dmarc", Status.WARN, "p=none"),
    ("a@dkim-missing.example", "domain.dkim", Status.WARN, "selector1._domainkey.dkim-missing.example"),
])
def test_each_sender_domain_case_gets_its_own_warning_or_pass(lab_dns, sender, check, status, words):
    result = domain_report(lab_dns.nameserver, sender).result(check)
    assert result.status is status, (result.summary, result.details)
    assert words in result.summary
    assert status is Status.PASS or result.remediation


def test_a_question_an_earlier_check_asked_is_answered_from_the_runs_own_cache(lab_dns):
    # Given a sender domain whose MX both dns.mx and, later, DMARC (for its report addresses) look up
    with start_dns(LAB_ZONE) as dns_server:
        # When the checklist's DNS part runs twice
        domain_report(dns_server.nameserver, "relay@contoso.example")
        first_run = dns_server.asked
        domain_report(dns_server.nameserver, "relay@contoso.example")
        second_run = dns_server.asked[len(first_run):]
    # Then each run asked for that MX once: DMARC reused dns.mx's answer, and no answer outlived its run
    assert first_run.count(("contoso.example", "MX")) == 1
    assert second_run.count(("contoso.example", "MX")) == 1


def test_missing_dkim_points_to_where_signing_is_turned_on(lab_dns):
    result = domain_report(lab_dns.nameserver, "a@dkim-missing.example").result("domain.dkim")
    assert "Defender" in result.remediation and "selector2._domainkey" in result.remediation


def test_an_spf_that_never_reaches_the_relay_provider_is_named(lab_dns):
    result = domain_report(lab_dns.nameserver, "a@fabrikam.example", profile="gmail").result("domain.spf")
    assert result.status is Status.WARN
    assert "does not authorise Google" in result.summary and "include:_spf.google.com" in result.remediation


def test_nested_includes_and_redirect_no_longer_warn_in_dns_mx(lab_dns):
    # Given domains that reach Microsoft 365 only through an include chain or redirect=
    for sender in ("a@spf-nested.example", "a@spf-redirect.example"):
        report = domain_report(lab_dns.nameserver, sender)
        # Then dns.mx does not warn about the provider being missing from SPF
        assert report.result("dns.mx").status is Status.PASS, report.result("dns.mx").summary


def test_domain_checks_only_warn_never_fail(lab_dns):
    for sender in ("a@no-such-domain.example", "a@spf-11-lookups.example", "a@nomx.example"):
        report = domain_report(lab_dns.nameserver, sender)
        assert {report.result(c).status for c in DOMAIN_CHECKS} <= {Status.PASS, Status.WARN}, sender


def test_a_silent_dns_server_ends_within_the_timeout_as_a_warning(lab_dns):
    started = time.monotonic()
    report = domain_report(lab_dns.nameserver, "a@silent.lab.test", timeout=1)
    assert time.monotonic() - started < 6
    result = report.result("domain.spf")
    assert result.status is Status.WARN and "did not answer in time" in result.summary


def test_the_run_deadline_bounds_the_domain_checks(lab_dns):
    started = time.monotonic()
    domain_report(lab_dns.nameserver, "a@silent.lab.test", timeout=5, deadline=1.5)
    assert time.monotonic() - started < 4


def test_provider_consumer_domains_are_not_checked(lab_dns):
    report = domain_report(lab_dns.nameserver, "someone@gmail.com", profile="gmail")
    assert not [r for r in report.results if r.check_id.value.startswith("domain.")]
    assert report.result(CheckId.DNS_MX) is not None


@pytest.fixture(scope="module")
def port_53_dns():
    """The lab zone on port 53 of a random loopback address: checkdmarc's CLI cannot be given another port."""
    host = f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"
    try:
        server = start_dns(LAB_ZONE, host=host, port=53)
    except OSError as exc:
        pytest.skip(f"cannot listen on {host}:53 ({exc}); the comparison with checkdmarc's CLI needs it")
    yield server
    server.stop()


@pytest.mark.parametrize("domain", ["contoso.example", "spf-nested.example", "spf-redirect.example",
                                    "spf-11-lookups.example", "dmarc-missing.example", "dmarc-none.example",
                                    "fabrikam.example"])
def test_spf_and_dmarc_agree_with_checkdmarcs_own_command_line(port_53_dns, domain):
    # Given checkdmarc's command line asked about a lab domain through the same DNS server
    cli = subprocess.run([sys.executable, "-m", "checkdmarc._cli", domain, "-n", port_53_dns.host, "-t", "2"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert cli.returncode == 0, cli.stderr
    theirs = json.loads(cli.stdout)
    # When the checklist evaluates the same domain
    report = domain_report(port_53_dns.nameserver, f"a@{domain}")
    spf, dmarc = report.result("domain.spf").facts, report.result("domain.dmarc").facts
    # Then record, lookup count, validity and error agree for SPF, and record, policy and validity for DMARC
    assert (spf.record, spf.dns_lookups, spf.valid, spf.error) == (
        theirs["spf"]["record"], theirs["spf"].get("dns_lookups"), theirs["spf"]["valid"], theirs["spf"].get("error"))
    their_policy = (theirs["dmarc"].get("tags") or {}).get("p", {}).get("value")
    assert (dmarc.record, dmarc.p, dmarc.valid) == (
        theirs["dmarc"]["record"], their_policy, theirs["dmarc"]["valid"])
