"""Hostile servers and the run deadline: every hostile server gets a plain `fail`, in time, in bounded memory.

The scenarios run the real checklist against real servers on 127.0.0.1 (lab/hostile.py). The module prints
"hostile scenarios survived: N/M" with each verdict, its time and its memory peak in pytest's output.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import logging
import re
import time
import tracemalloc

import pytest

from checks.model import CheckId, RunReport, Status
from checks.report.export import FORMULA_TRIGGERS, to_csv, to_json, to_markdown
from checks.report.reader import read_report
from checks.report.table import render_table
from checks.runner import run_checklist
from checks.settings.loading import config_from_values
from lab.blackhole import start_blackhole
from lab.dns import start_dns
from lab.hostile import HOSTILE_REPLY, HostileKind, start_hostile
from lab.smtp import Personality

TIMEOUT = 2.0
DEADLINE = 10.0
MEMORY_LIMIT = 20 * 1024 * 1024
DEADLINE_MARGIN = 1.0  # the runner's own grace (0.5 s) plus closing the conversation
CANARY = "Canary-Pw-7f3a9c2e"
SURVIVED: dict[str, str] = {}  # kind -> "status check_id in N s, peak M MB"

# kind -> (the check that fails, words of its plain summary)
EXPECTED = {
    HostileKind.SILENT: (CheckId.SMTP_GREETING, "No 220 greeting within 2 s"),
    HostileKind.DRIP: (CheckId.SMTP_GREETING, "The 220 greeting did not arrive complete within 2 s"),
    HostileKind.ENDLESS_LINE: (CheckId.SMTP_GREETING, "a line longer than 4096 bytes"),
    HostileKind.HTTP: (CheckId.SMTP_GREETING, "it is a web (HTTP) server, not SMTP"),
    HostileKind.SSH: (CheckId.SMTP_GREETING, "it is an SSH server, not SMTP"),
    HostileKind.TLS_GARBAGE: (CheckId.TLS, "The TLS handshake failed"),
    HostileKind.STARTTLS_RESET: (CheckId.TLS, "cut in the middle of the TLS handshake"),
    HostileKind.STARTTLS_REFUSED: (CheckId.TLS, "STARTTLS is advertised but refused"),
    HostileKind.REFUSED_421: (CheckId.SMTP_GREETING, "The server refused the session"),
    HostileKind.EHLO_FLOOD: (CheckId.SMTP_GREETING, "a reply ran over 500 lines"),
    HostileKind.CONTROL_CHARACTERS: (CheckId.TLS, "STARTTLS is not offered"),
    HostileKind.AUTH_ECHO: (CheckId.AUTH_CREDENTIALS, "Sign-in as relay@lab.test refused"),
    HostileKind.AUTH_ECHO_TRANSFORMED: (CheckId.AUTH_CREDENTIALS, "Sign-in as relay@lab.test refused"),
    HostileKind.MARKDOWN_BANNER: (CheckId.TLS, "STARTTLS is not offered"),
    HostileKind.AUTH_SILENT: (CheckId.AUTH_CREDENTIALS, "No reply to AUTH within 2 s, although the greeting, TLS "
                                                        "and EHLO worked"),
    HostileKind.AUTH_CHALLENGE_LOOP: (CheckId.AUTH_CREDENTIALS, "more than 5 challenges"),
    HostileKind.TLS_STALL: (CheckId.TLS, "No TLS handshake within 2 s"),
}
TECHNICAL = re.compile(r"Traceback|Errno|\b[A-Z]\w*(Error|Exception)\b|check itself broke")


@pytest.fixture(scope="module", autouse=True)
def report_survivors(request):
    yield
    if not SURVIVED:  # the scenario tests were deselected
        return
    lines = [f"hostile scenarios survived: {len(SURVIVED)}/{len(HostileKind)}"]
    lines += [f"  {kind:<20} {outcome}" for kind, outcome in SURVIVED.items()]
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if capture is None:  # pragma: no cover - run with -p no:capture
        print("\n".join(lines))
        return
    with capture.global_and_fixture_disabled():
        print("\n" + "\n".join(lines))


@pytest.fixture
def hostile(pki):
    """Start hostile servers on demand; all are stopped (threads ended, ports freed) after the test."""
    started = []

    def start(kind: HostileKind):
        server = start_hostile(kind, pki=pki)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def every_output(report: RunReport) -> str:
    texts = [to_csv(report), to_json(report), to_markdown(report), render_table(report, verbose=True)]
    texts += [repr(r) for r in report.results] + [line for r in report.results for line in r.transcript]
    return "\n".join(texts)


def measured_run(config) -> tuple[RunReport, float, int]:
    tracemalloc.start()
    started = time.monotonic()
    try:
        report = run_checklist(config)
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return report, elapsed, peak


@pytest.mark.parametrize("kind", list(HostileKind))
def test_a_hostile_server_gets_a_plain_fail_in_time_and_in_bounded_memory(hostile, lab_settings, kind):
    # Given a hostile server and settings a user would enter for it (2 s per step, 10 s for the run)
    server = hostile(kind)
    config = config_from_values(lab_settings(server, timeout=TIMEOUT, deadline=DEADLINE))
    # When the whole checklist runs against it
    report, elapsed, peak = measured_run(config)
    # Then the expected check fails with a plain reason, and nothing is reported as broken
    check_id, words = EXPECTED[kind]
    failed = report.result(check_id)
    assert failed is not None and failed.status is Status.FAIL, [(r.check_id.value, r.status.value, r.summary)
                                                                for r in report.results]
    assert words in failed.summary, failed.summary
    assert not TECHNICAL.search(failed.summary), failed.summary
    assert failed.remediation or failed.details
    assert not any(r.status is Status.ERROR for r in report.results), report.problems
    assert "Traceback" not in every_output(report) and "check itself broke" not in every_output(report)
    # And the run ends within the deadline (a silent server within the step timeout and its 0.5 s probe)
    assert elapsed < DEADLINE
    if kind in (HostileKind.SILENT, HostileKind.DRIP, HostileKind.TLS_STALL, HostileKind.AUTH_SILENT):
        assert elapsed < TIMEOUT + 1.0
    else:
        assert elapsed < TIMEOUT
    # And memory stays bounded, even against megabytes of one line
    assert peak < MEMORY_LIMIT
    SURVIVED[kind.value] = (f"{failed.status.value} {check_id.value:<16} {elapsed:5.2f} s  peak "
                            f"{peak / 1024 / 1024:4.1f} MB  {failed.summary}")


def test_control_characters_and_formulas_are_defused_in_every_output(hostile, lab_settings):
    # Given a server whose greeting holds terminal escapes, control characters and spreadsheet formulas
    server = hostile(HostileKind.CONTROL_CHARACTERS)
    report = run_checklist(config_from_values(lab_settings(server, timeout=TIMEOUT, deadline=DEADLINE)))
    greeting = report.result(CheckId.SMTP_GREETING)
    assert "=HYPERLINK(" in greeting.reply and "@SUM(" in greeting.reply
    # When the report is rendered as a terminal table, CSV, JSON and Markdown
    table = render_table(report, verbose=True)
    csv_text = to_csv(report)
    # Then no escape or other control character is left to act (only line breaks), the table shows them as \xNN
    for text in (table, csv_text.replace("\r\n", "\n"), to_markdown(report), greeting.reply, greeting.summary):
        assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", text), repr(text)
    assert "\\x1b[2J" in table
    assert "\x1b" not in json.loads(to_json(report))["results"][4]["reply"]
    # And every CSV cell a spreadsheet would run as a formula is neutralised with a leading apostrophe
    cells = [cell for row in csv.reader(io.StringIO(csv_text)) for cell in row]
    assert any("=HYPERLINK(" in cell for cell in cells)
    assert not [cell for cell in cells if cell[:1] in FORMULA_TRIGGERS], "a formula cell was left live"
    # And the CSV reads back to the same text (the apostrophes are removed again)
    again = read_report(csv_text)
    assert [r.details for r in again.results] == [r.details for r in report.results]


def test_a_formula_at_the_start_of_a_cell_is_neutralised(hostile, lab_settings):
    # Given the hostile greeting's formula lines placed at the very start of result cells
    from dataclasses import replace

    server = hostile(HostileKind.CONTROL_CHARACTERS)
    report = run_checklist(config_from_values(lab_settings(server, timeout=TIMEOUT, deadline=DEADLINE)))
    lines = report.result(CheckId.SMTP_GREETING).reply.split("\n")
    formulas = [line[4:] for line in lines if line[4:5] in ("=", "+", "-", "@")]
    assert len(formulas) == 4
    results = tuple(replace(r, finding=replace(r.finding, summary=formulas[i % 4], details=formulas[(i + 1) % 4]))
                    for i, r in enumerate(report.results))
    poisoned = replace(report, results=results)
    # When it is written as CSV
    cells = [cell for row in csv.reader(io.StringIO(to_csv(poisoned))) for cell in row]
    # Then each such cell starts with an apostrophe, and reading the CSV back restores the text
    assert {cell for cell in cells if cell.startswith("'")} >= {"'" + f for f in formulas}
    assert [r.summary for r in read_report(to_csv(poisoned)).results] == [r.summary for r in results]
    assert HOSTILE_REPLY[0] in formulas


def test_a_server_echoing_the_auth_payload_never_shows_the_password(hostile, lab_settings, caplog):
    # Given a server that echoes the AUTH payload and the password it decodes in its 535 reply, placed so the
    # password straddles the point where a transcript line is cut short; debug logging is on
    caplog.set_level(logging.DEBUG)
    server = hostile(HostileKind.AUTH_ECHO)
    config = config_from_values(lab_settings(server, password=CANARY, timeout=TIMEOUT, deadline=DEADLINE))
    # When the checklist runs
    report = run_checklist(config)
    credentials = report.result(CheckId.AUTH_CREDENTIALS)
    assert credentials.status is Status.FAIL
    # Then no output, transcript or log line holds the password, its base64 form, or any 8 characters of it
    text = every_output(report) + caplog.text
    pieces = {CANARY[i:i + 8] for i in range(len(CANARY) - 7)}
    assert not [piece for piece in pieces if piece in text]
    assert "relay@lab.test" in credentials.summary  # the user name is not a secret and stays readable
    assert "C: AUTH PLAIN <hidden: credentials>" in credentials.transcript
    assert any("********" in line for line in credentials.transcript if line.startswith("S: 535"))


def leaks(secret: str, text: str) -> list[str]:
    """Every revealing form of `secret` found in `text` (exact, reversed, hex, any 8 characters in a row)."""
    forms = {secret, secret[::-1], secret.encode().hex(), secret.encode().hex().upper()}
    forms |= {secret[i:i + 8] for i in range(len(secret) - 7)}
    forms |= {f for offset in (1, 2, 3) for f in [base64.b64encode(b"#" * offset + secret.encode()).decode()[4:-4]]}
    return sorted(f for f in forms if f and f in text)


def test_a_server_echoing_the_password_transformed_never_shows_it(hostile, lab_settings, caplog):
    # Given a server that answers AUTH with the password reversed, in hex, split in two and re-encoded at
    # every offset of a longer base64 text
    caplog.set_level(logging.DEBUG)
    server = hostile(HostileKind.AUTH_ECHO_TRANSFORMED)
    config = config_from_values(lab_settings(server, password=CANARY, timeout=TIMEOUT, deadline=DEADLINE))
    # When the checklist runs
    report = run_checklist(config)
    echoed = [line for line in report.result(CheckId.AUTH_CREDENTIALS).transcript if "You sent" in line]
    # Then every echo was masked, and no output or log holds any form of the password
    assert len(echoed) == 8 and all("********" in line for line in echoed)
    text = every_output(report) + caplog.text
    print(f"\ncanary leaks across every transformed echo: {len(leaks(CANARY, text))}")
    assert leaks(CANARY, text) == []


def test_a_short_password_is_masked_in_echoes_but_not_in_our_own_words(hostile, lab_settings):
    # Given the password "relay", which our own EHLO name (relay-console.invalid) contains, and an echoing server
    server = hostile(HostileKind.AUTH_ECHO_TRANSFORMED)
    config = config_from_values(lab_settings(server, password="relay", timeout=TIMEOUT, deadline=DEADLINE))
    # When the checklist runs
    report = run_checklist(config)
    credentials = report.result(CheckId.AUTH_CREDENTIALS)
    everything = "\n".join(line for r in report.results for line in r.transcript)
    # Then our EHLO line reads as we sent it, while the server's echoes of the password are masked
    assert "C: ehlo relay-console.invalid" in everything
    echoed = [line for line in credentials.transcript if "You sent" in line]
    assert echoed and all("relay" not in line.lower().replace("relay-console", "") for line in echoed)
    assert "yaler" not in everything and "72656c6179" not in everything


# ------------------------------------------------------------------------------------------- deadline


@pytest.fixture
def slow_dns():
    """A lab DNS server that answers each question after 0.45 s; it answers one at a time, so the four
    questions of dns.host and dns.mx take up to 1.8 s: just inside a 2 s timeout."""
    with start_dns(delay=0.45) as server:
        yield server


def test_every_step_as_slow_as_allowed_still_ends_by_the_deadline(smtp_lab, lab_settings, slow_dns):
    # Given slow DNS and a server whose every reply comes 1.5 s late (each inside the 2 s timeout), 7 s for the run
    server = smtp_lab(personality=Personality.GENERIC, reply_delay=1.5)
    values = lab_settings(server, connect_to=None, port=server.port, nameserver=slow_dns.nameserver,
                          timeout=TIMEOUT, deadline=7)
    # When the checklist runs (DNS, connect, greeting, EHLO, STARTTLS, EHLO, AUTH, MAIL ... would need ~12 s)
    started = time.monotonic()
    report = run_checklist(config_from_values(values))
    elapsed = time.monotonic() - started
    # Then it ends by the deadline plus a small margin, says the deadline cut it short, and nothing broke
    assert elapsed < 7 + DEADLINE_MARGIN, elapsed
    assert report.result(CheckId.DNS_HOST).status is Status.PASS
    assert report.result(CheckId.SMTP_GREETING).status is Status.PASS
    assert any("run deadline of 7 s" in r.summary for r in report.results), [r.summary for r in report.results]
    assert not any(r.status is Status.ERROR for r in report.results), report.problems


def test_slow_dns_then_a_dropped_connection_ends_by_the_deadline(lab_settings, smtp_lab, slow_dns):
    # Given slow DNS and a relay port that silently drops connections, with a deadline shorter than both steps
    with start_blackhole() as hole:
        values = lab_settings(smtp_lab(personality=Personality.GENERIC), connect_to=None, port=hole.port,
                              nameserver=slow_dns.nameserver, timeout=TIMEOUT, deadline=2.2)
        # When the checklist runs
        started = time.monotonic()
        report = run_checklist(config_from_values(values))
        elapsed = time.monotonic() - started
    # Then the connect is cut at the deadline and says so; the run ends by the deadline plus a small margin
    port = report.result(CheckId.PORT)
    assert port.status is Status.FAIL
    assert "before the run deadline of 2.2 s ran out" in port.summary
    assert elapsed < 2.2 + DEADLINE_MARGIN, elapsed


@pytest.mark.parametrize("where", ["silent-server", "silent-dns"])
def test_a_deadline_shorter_than_the_step_timeout_wins(hostile, lab_settings, where):
    # Given a 4 s step timeout but only 1.5 s for the whole run, against a server or a DNS name that never answers
    server = hostile(HostileKind.SILENT)
    overrides = {"host": "silent.lab.test", "connect_to": None} if where == "silent-dns" else {}
    values = lab_settings(server, timeout=4, deadline=1.5, **overrides)
    # When the checklist runs
    started = time.monotonic()
    report = run_checklist(config_from_values(values))
    elapsed = time.monotonic() - started
    # Then the run ends at the deadline, not the timeout, and the failure does not claim it waited 4 s
    assert elapsed < 1.5 + DEADLINE_MARGIN, elapsed
    failed = report.result(CheckId.SMTP_GREETING if where == "silent-server" else CheckId.DNS_HOST)
    assert failed.status is Status.FAIL, failed
    assert "4 s" not in failed.summary, failed.summary
    assert not any(r.status is Status.ERROR for r in report.results), report.problems


@pytest.mark.parametrize("kind", [HostileKind.DRIP, HostileKind.ENDLESS_LINE, HostileKind.TLS_STALL])
def test_stopping_a_hostile_server_frees_its_port_and_threads(pki, kind):
    import socket
    import threading

    # Given a hostile server with a client connected to it, mid-way through its hostility
    server = start_hostile(kind, pki=pki)
    client = socket.create_connection((server.host, server.port), timeout=2)
    client.sendall(b"\x16\x03\x01\x00\x05hello")  # enough for the TLS staller to start its slow record
    time.sleep(0.3)
    # When it is stopped
    started = time.monotonic()
    server.stop()
    client.close()
    # Then it stops promptly, its threads are gone, and nothing listens on its port any more
    assert time.monotonic() - started < 2.0
    assert not [t for t in threading.enumerate() if t.name.startswith(f"hostile-{server.port}")]
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((server.host, server.port), timeout=2).close()


def test_a_non_ascii_password_is_sent_as_utf8_and_refused_plainly(smtp_lab, lab_settings):
    # Given a password with letters outside ASCII (smtplib alone raises UnicodeEncodeError on it)
    server = smtp_lab(personality=Personality.GENERIC)
    config = config_from_values(lab_settings(server, password="Pässwörd-ñ-密码", timeout=TIMEOUT))
    # When the checklist signs in with it
    report = run_checklist(config)
    # Then the server's refusal is reported as a plain fail, not as a broken check
    credentials = report.result(CheckId.AUTH_CREDENTIALS)
    assert credentials.status is Status.FAIL, credentials
    assert credentials.reply.startswith("535")
    assert "Pässwörd" not in every_output(report)
