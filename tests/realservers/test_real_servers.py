"""The CLI against real servers: Postfix + Dovecot SASL, dnsmasq for DNS, socat for a silent port (all on loopback)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lab.real_servers import (
    GOOGLE_DOMAIN,
    MICROSOFT_DOMAIN,
    NO_MX_DOMAIN,
    OTHER_SENDER,
    RELAY_DOMAIN,
    RELAY_HOST,
    SECOND_LOOPBACK,
    SMTPS_HOST,
    USERNAME,
    Listener,
    RealServers,
)

pytestmark = pytest.mark.realservers

ROOT = Path(__file__).resolve().parents[2]
PASSWORD_ENV = "REALSERVERS_PASSWORD"
APP_PASSWORD = "abcdefghijklmnop"  # the shape of a Google app password (settings check stays quiet)
STEP_TIMEOUT = 5  # Dovecot delays a failed sign-in by 2 s (auth_failure_delay): leave room for it
SILENT_TIMEOUT = 2
CLI_LIMIT_SECONDS = 60
FULL_CHECKLIST = ["settings", "dns.host", "dns.mx", "domain.spf", "domain.dmarc", "port", "smtp.greeting", "tls",
                  "auth.mechanisms", "auth.credentials", "sender"]


@dataclass(frozen=True)
class Outcome:
    """One CLI run: exit code, the parsed JSON report, wall time and what went to standard error."""

    code: int
    report: dict[str, Any]
    stdout: str
    stderr: str
    seconds: float

    @property
    def verdict(self) -> str:
        return self.report["run"]["verdict"]

    @property
    def failing(self) -> list[str]:
        return [r["check_id"] for r in self.report["results"] if r["status"] in ("fail", "error")]

    @property
    def statuses(self) -> dict[str, str]:
        return {r["check_id"]: r["status"] for r in self.report["results"]}

    @property
    def run_seconds(self) -> float:
        run = self.report["run"]
        return (dt.datetime.fromisoformat(run["finished_at"]) - dt.datetime.fromisoformat(run["started_at"])
                ).total_seconds()

    def result(self, check_id: str) -> dict[str, Any]:
        return next(r for r in self.report["results"] if r["check_id"] == check_id)

    def explain(self) -> str:
        return json.dumps(self.report, indent=1)[:6000] + "\n" + self.stderr[-2000:]


def cli(servers: RealServers, *args: str, password: str | None = None, profile: str = "custom",
        host: str = RELAY_HOST, username: str = USERNAME, timeout: float = STEP_TIMEOUT) -> Outcome:
    """Run `python -m checks run ... --format json` as a user would, the password in an environment variable."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    environment[PASSWORD_ENV] = servers.password if password is None else password
    argv = [sys.executable, "-m", "checks", "run", "--profile", profile, "--host", host, "--username", username,
            "--password-env", PASSWORD_ENV, "--ca-file", str(servers.ca_file), "--nameserver", servers.nameserver,
            "--timeout", f"{timeout:g}", "--format", "json", *args]
    started = time.monotonic()
    done = subprocess.run(argv, cwd=ROOT, env=environment, capture_output=True, text=True,
                          timeout=CLI_LIMIT_SECONDS)
    seconds = time.monotonic() - started
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"no JSON report (exit {done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return Outcome(done.returncode, report, done.stdout, done.stderr, seconds)


def port(servers: RealServers, listener: Listener) -> str:
    return str(servers.ports[listener])


def assert_problem(outcome: Outcome, check_id: str, *words: str) -> dict[str, Any]:
    """The run failed at `check_id` only, and its summary says `words`; everything that depended on it is skipped."""
    assert outcome.code == 1, outcome.explain()
    assert outcome.verdict == "problems", outcome.explain()
    assert outcome.failing == [check_id], outcome.explain()
    result = outcome.result(check_id)
    for word in words:
        assert word in result["summary"], outcome.explain()
    later = FULL_CHECKLIST[FULL_CHECKLIST.index(check_id) + 1:] if check_id in FULL_CHECKLIST else []
    assert all(outcome.statuses.get(c, "skip") == "skip" for c in later if c != "dns.mx"), outcome.explain()
    return result


# ------------------------------------------------------------------------------------------ the good relay


def test_working_relay_is_ready(real_servers: RealServers):
    # Given Postfix submission with STARTTLS and Dovecot SASL, a certificate from the CA given with --ca-file
    # When the CLI checks it with the right password
    outcome = cli(real_servers, "--port", port(real_servers, Listener.SUBMISSION))
    # Then every check passes, from DNS (dnsmasq) to MAIL FROM, and the password appears nowhere
    assert outcome.code == 0, outcome.explain()
    assert outcome.verdict == "ready"
    assert outcome.statuses == dict.fromkeys(FULL_CHECKLIST, "pass"), outcome.explain()
    assert f"{RELAY_HOST} resolves to 127.0.0.1" in outcome.result("dns.host")["summary"]
    assert "Postfix" in outcome.result("smtp.greeting")["summary"]
    assert "STARTTLS negotiated" in outcome.result("tls")["summary"]
    assert "PLAIN" in outcome.result("auth.mechanisms")["summary"]
    assert outcome.result("auth.credentials")["summary"] == f"Signed in as {USERNAME} with AUTH PLAIN."
    assert f"accepts {USERNAME} as sender" in outcome.result("sender")["summary"]
    assert real_servers.password not in outcome.stdout + outcome.stderr


def test_implicit_tls_on_a_custom_port_is_ready(real_servers: RealServers):
    # Given Postfix smtps (wrapper mode) on a custom port
    # When the CLI checks it with implicit TLS
    outcome = cli(real_servers, "--port", port(real_servers, Listener.SMTPS), "--security", "tls")
    # Then the TLS check reports implicit TLS and the relay is ready
    assert outcome.code == 0, outcome.explain()
    assert outcome.verdict == "ready"
    assert "Implicit TLS negotiated" in outcome.result("tls")["summary"]
    assert outcome.result("auth.credentials")["status"] == "pass"


def smtps_465(servers: RealServers) -> None:
    if Listener.SMTPS_465 not in servers.ports:
        pytest.skip(f"{SECOND_LOOPBACK} port 465 or 587 was taken when the servers started")


def test_implicit_tls_on_port_465_is_ready(real_servers: RealServers):
    # Given Postfix smtps on the real port 465 of 127.0.0.2, named smtps.relay.test in the DNS server
    smtps_465(real_servers)
    # When the CLI checks port 465 with implicit TLS
    outcome = cli(real_servers, "--host", SMTPS_HOST, "--port", "465", "--security", "tls")
    # Then the settings are standard and the relay is ready
    assert outcome.code == 0, outcome.explain()
    assert outcome.statuses == dict.fromkeys(FULL_CHECKLIST, "pass"), outcome.explain()
    assert "Port 465 with tls is a standard pair" in outcome.result("settings")["details"]
    assert "Implicit TLS negotiated" in outcome.result("tls")["summary"]


def test_starttls_on_port_465_is_named_as_the_mistake(real_servers: RealServers):
    # Given the smtps service on port 465, which waits for a TLS handshake before it greets
    smtps_465(real_servers)
    # When the CLI is told to use STARTTLS there
    outcome = cli(real_servers, "--host", SMTPS_HOST, "--port", "465", "--security", "starttls",
                  timeout=SILENT_TIMEOUT)
    # Then the settings check names the mismatch and the greeting check names the silence as implicit TLS
    assert outcome.code == 1, outcome.explain()
    assert outcome.failing == ["settings", "smtp.greeting"], outcome.explain()
    assert "Port 465 uses implicit TLS, not STARTTLS" in outcome.result("settings")["summary"]
    greeting = outcome.result("smtp.greeting")
    assert "Port 465 uses implicit TLS: the server waits for a TLS handshake" in greeting["summary"], outcome.explain()


def test_blocked_587_points_to_the_open_465(real_servers: RealServers):
    # Given a host where only port 465 (smtps) listens
    smtps_465(real_servers)
    # When the CLI checks port 587 on it
    outcome = cli(real_servers, "--host", SMTPS_HOST, "--port", "587")
    # Then the port is refused and the fix says 465 with implicit TLS answers
    result = assert_problem(outcome, "port", f"Connection refused by {SECOND_LOOPBACK} port 587")
    assert "Port 465 on the same host answers" in result["remediation"], outcome.explain()
    assert "implicit TLS" in result["remediation"]


# ------------------------------------------------------------------------------------ what the server lacks


def test_no_starttls(real_servers: RealServers):
    # Given a Postfix listener without TLS
    listener_port = port(real_servers, Listener.NO_STARTTLS)
    # When the CLI checks it with STARTTLS
    outcome = cli(real_servers, "--port", listener_port)
    # Then TLS fails because STARTTLS is not offered, and nothing is attempted in clear text
    result = assert_problem(outcome, "tls", f"STARTTLS is not offered on port {listener_port}")
    assert "clear text" in result["details"]
    assert "STARTTLS" not in outcome.result("smtp.greeting")["details"].split("EHLO capabilities:")[1]


def test_no_encryption_means_no_auth(real_servers: RealServers):
    # Given the same listener without TLS
    # When the CLI is told to use no encryption at all
    outcome = cli(real_servers, "--port", port(real_servers, Listener.NO_STARTTLS), "--security", "none")
    # Then the settings warn, and AUTH is reported missing with the advice to use STARTTLS
    result = assert_problem(outcome, "auth.mechanisms", "offers no SMTP AUTH")
    assert outcome.result("settings")["status"] == "warn"
    assert "only over TLS" in result["remediation"]


def test_starttls_but_no_auth(real_servers: RealServers):
    # Given a Postfix listener with STARTTLS but SASL turned off
    # When the CLI checks it
    outcome = cli(real_servers, "--port", port(real_servers, Listener.NO_AUTH))
    # Then TLS passes and the AUTH check fails: sign-in is impossible
    result = assert_problem(outcome, "auth.mechanisms", "offers no SMTP AUTH on this port")
    assert outcome.result("tls")["status"] == "pass"
    assert "Enable SMTP AUTH" in result["remediation"]


# ------------------------------------------------------------------------------------------- certificates


def test_expired_certificate(real_servers: RealServers):
    # Given STARTTLS with a certificate that expired yesterday
    # When the CLI checks it
    outcome = cli(real_servers, "--port", port(real_servers, Listener.EXPIRED))
    # Then TLS fails with the expiry date, read from the certificate itself
    expired_on = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).date()
    result = assert_problem(outcome, "tls", "The server certificate has expired")
    assert str(expired_on) in result["summary"] or str(expired_on + dt.timedelta(days=1)) in result["summary"]
    assert "renew" in result["remediation"]


def test_wrong_name_certificate(real_servers: RealServers):
    # Given STARTTLS with a certificate for mail.elsewhere.test
    # When the CLI checks smtp.relay.test
    outcome = cli(real_servers, "--port", port(real_servers, Listener.WRONG_NAME))
    # Then TLS fails naming both the host asked for and the name in the certificate
    assert_problem(outcome, "tls", f"not valid for {RELAY_HOST}", "mail.elsewhere.test")


def test_untrusted_certificate(real_servers: RealServers):
    # Given STARTTLS with a certificate from a CA that was not given with --ca-file
    # When the CLI checks it
    outcome = cli(real_servers, "--port", port(real_servers, Listener.UNTRUSTED))
    # Then TLS fails naming the untrusted issuer and the --ca-file fix
    result = assert_problem(outcome, "tls", "untrusted authority", "Rogue Test CA")
    assert "--ca-file" in result["remediation"]


# ------------------------------------------------------------------------------------------------ network


def test_closed_port(real_servers: RealServers):
    # Given a loopback port where nothing listens
    # When the CLI checks it
    outcome = cli(real_servers, "--port", str(real_servers.closed_port))
    # Then the port check says the connection was refused, at once
    assert_problem(outcome, "port", f"Connection refused by 127.0.0.1 port {real_servers.closed_port}")
    assert outcome.run_seconds < SILENT_TIMEOUT, outcome.explain()


def test_silent_port_gives_a_verdict_within_the_timeout(real_servers: RealServers):
    # Given a port where socat accepts connections and never says a word
    # When the CLI checks it with a 2 s timeout
    outcome = cli(real_servers, "--port", str(real_servers.silent_port), timeout=SILENT_TIMEOUT)
    # Then the greeting check fails within the timeout plus a second (the run; the process adds its start-up)
    assert_problem(outcome, "smtp.greeting", f"No 220 greeting within {SILENT_TIMEOUT} s")
    assert outcome.run_seconds <= SILENT_TIMEOUT + 1, outcome.explain()
    assert outcome.seconds <= SILENT_TIMEOUT + 3, outcome.explain()


def test_silent_port_with_implicit_tls(real_servers: RealServers):
    # Given the silent port
    # When the CLI expects implicit TLS there
    outcome = cli(real_servers, "--port", str(real_servers.silent_port), "--security", "tls",
                  timeout=SILENT_TIMEOUT)
    # Then the TLS check fails waiting for the handshake, within the timeout plus a second
    assert_problem(outcome, "tls", f"No TLS handshake within {SILENT_TIMEOUT} s")
    assert outcome.run_seconds <= SILENT_TIMEOUT + 1, outcome.explain()


# -------------------------------------------------------------------------------------------------- sign-in


def test_wrong_password(real_servers: RealServers):
    # Given the working submission service
    wrong = "Not-The-Password-42"
    # When the CLI signs in with a wrong password
    outcome = cli(real_servers, "--port", port(real_servers, Listener.SUBMISSION), password=wrong)
    # Then sign-in fails with Postfix's 535 5.7.8 reply, the sender check is skipped, and no password is shown
    result = assert_problem(outcome, "auth.credentials", f"Sign-in as {USERNAME} refused", "535 5.7.8")
    assert "authentication failed" in (result["details"] + result["summary"]).lower(), outcome.explain()
    assert "password" in result["remediation"]
    assert outcome.result("sender")["status"] == "skip"
    assert wrong not in outcome.stdout + outcome.stderr
    assert real_servers.password not in outcome.stdout + outcome.stderr


def test_sender_not_owned_fails_the_sender_check_before_any_message(real_servers: RealServers):
    # Given Postfix with reject_sender_login_mismatch (alice may send only as herself); Postfix applies it at RCPT
    # When the CLI signs in as alice with another sender, and also asks for a test message
    outcome = cli(real_servers, "--port", port(real_servers, Listener.SUBMISSION), "--sender", OTHER_SENDER,
                  "--send-test-to", f"nobody@{RELAY_DOMAIN}")
    # Then the sender check fails with Postfix's words and the cause, and no message is attempted
    assert outcome.code == 1, outcome.explain()
    assert outcome.failing == ["sender"], outcome.explain()
    result = outcome.result("sender")
    assert "553" in result["summary"] and "Sender not owned" in result["summary"], outcome.explain()
    assert "Sender address rejected: not owned by user" in result["reply"], outcome.explain()
    assert outcome.statuses["send.test"] == "skip"


def test_sender_not_owned_is_a_problem_without_a_test_message(real_servers: RealServers):
    # Given Postfix with reject_sender_login_mismatch
    # When the CLI signs in as alice with another sender and no test message
    outcome = cli(real_servers, "--port", port(real_servers, Listener.SUBMISSION), "--sender", OTHER_SENDER)
    # Then the sender check fails: every message from that sender would be refused
    assert outcome.failing == ["sender"], outcome.explain()


# ---------------------------------------------------------------------------------- provider from DNS (MX)


@pytest.mark.parametrize(
    ("profile", "domain", "status", "words"),
    [
        ("gmail", GOOGLE_DOMAIN, "pass", "_spf.google.com"),
        ("m365-basic", MICROSOFT_DOMAIN, "pass", "spf.protection.outlook.com"),
        ("gmail", MICROSOFT_DOMAIN, "warn", "_spf.google.com"),
    ],
)
def test_spf_through_real_dns_names_the_include_the_relay_needs(real_servers: RealServers, profile, domain, status,
                                                                 words):
    # Given dnsmasq serving the domains' SPF TXT records
    # When the CLI evaluates the sender domain's SPF through it (checkdmarc, the run's resolver)
    host = {"gmail": "smtp.gmail.com", "m365-basic": "smtp.office365.com"}[profile]
    outcome = cli(real_servers, "--only", "domain.spf", profile=profile, host=host, username=f"bob@{domain}",
                  password=APP_PASSWORD)
    # Then a domain that authorises the relay's provider passes, one that does not warns, naming the include
    result = outcome.result("domain.spf")
    assert result["status"] == status, outcome.explain()
    assert words in result["summary"] + result["details"] + result["remediation"], outcome.explain()


@pytest.mark.parametrize(
    ("profile", "domain", "status", "words", "received_by"),
    [
        ("gmail", GOOGLE_DOMAIN, "pass", "hosted by Google (Gmail/Workspace)", "Google"),
        ("m365-basic", MICROSOFT_DOMAIN, "pass", "hosted by Microsoft 365", "Microsoft 365"),
        ("gmail", MICROSOFT_DOMAIN, "warn", "hosted by Microsoft 365 but the relay is Google", "Microsoft 365"),
        ("custom", GOOGLE_DOMAIN, "pass", "hosted by Google (Gmail/Workspace)", "Google"),
        ("custom", NO_MX_DOMAIN, "warn", "has no MX record", None),
    ],
)
def test_provider_from_the_domains_mx(real_servers: RealServers, profile, domain, status, words, received_by):
    # Given dnsmasq serving MX (aspmx.l.google.com / *.mail.protection.outlook.com) and SPF TXT records
    # When the CLI looks up the sender domain's mail provider through it
    host = {"gmail": "smtp.gmail.com", "m365-basic": "smtp.office365.com"}.get(profile, RELAY_HOST)
    outcome = cli(real_servers, "--only", "dns.mx", profile=profile, host=host, username=f"bob@{domain}",
                  password=APP_PASSWORD)
    # Then the provider is named from the MX records and held against the relay's (SPF is domain.spf's)
    assert [r["check_id"] for r in outcome.report["results"]] == ["dns.mx"], outcome.explain()
    result = outcome.result("dns.mx")
    assert result["status"] == status, outcome.explain()
    assert words in result["summary"], outcome.explain()
    assert f"Resolver: {real_servers.nameserver}" in result["details"]
    if received_by:
        assert f"Mail for {domain} is received by {received_by}" in result["details"], outcome.explain()
    else:
        assert "No MX record" in result["details"], outcome.explain()
    assert outcome.code == 0


def test_sender_domain_that_does_not_exist(real_servers: RealServers):
    # Given the DNS server, authoritative for .test, without the domain
    # When the CLI looks up a sender in it
    outcome = cli(real_servers, "--only", "dns.mx", username="bob@nonexistent.test")
    # Then the sender domain is reported as not existing
    assert_problem(outcome, "dns.mx", "nonexistent.test does not exist (NXDOMAIN)")
