"""Hostile HTTPS (Entra ID / Graph stand-ins): every read ends by its deadline, in bounded memory, and the CLI exits.

Prints "slowest exit after a dripping HTTPS endpoint" and "peak memory against a 400 MB body" for
docs/robustness.md.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from checks.oauth.http import MAX_RESPONSE_BYTES, TimedHttp, build_session
from lab.hostile import HostileHttpsKind, start_hostile_https

ROOT = Path(__file__).resolve().parents[1]
TENANT = "0b9d5a2e-5f59-4cd4-9c8e-1f0e2a3b4c5d"
CLIENT = "6a1f0c3e-2b7d-4e8f-9a0b-1c2d3e4f5a6b"


def report(line: str, capsys=None) -> None:
    print(f"\n{line}")


@pytest.fixture
def https(pki):
    started = []

    def start(kind: HostileHttpsKind):
        started.append(start_hostile_https(kind, pki=pki))
        return started[-1]

    yield start
    for server in started:
        server.stop()


def cli_args(server, deadline: str) -> list[str]:
    return ["run", "--profile", "m365-oauth2", "--tenant-id", TENANT, "--client-id", CLIENT,
            "--client-secret-env", "APP_SECRET", "--sender", "relay@contoso.example", "--login-url", server.base_url,
            "--graph-url", server.base_url, "--ca-file", str(server.ca_file), "--only", "oauth.tenant",
            "--timeout", "10", "--deadline", deadline, "--format", "json"]


ENV = {**os.environ, "APP_SECRET": "not-a-real-secret-1234"}


def test_the_cli_exits_by_its_deadline_against_a_dripping_token_endpoint(https):
    # Given an Entra ID stand-in that sends its answer one byte every 0.2 s, and a run deadline of 5 s
    server = https(HostileHttpsKind.DRIP)
    # When the CLI runs
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "checks", *cli_args(server, "5")], cwd=ROOT, env=ENV,
                            capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - started
    # Then the process has ended within a second or two of its deadline, with its report printed
    report(f"slowest exit after a dripping HTTPS endpoint with --deadline 5: {elapsed:.2f} s")
    assert '"oauth.tenant"' in result.stdout and "did not answer in time" in result.stdout
    assert elapsed < 8.0


def test_ctrl_c_ends_the_cli_at_once_while_a_worker_reads_a_drip(https):
    # Given the CLI waiting on a dripping endpoint (deadline 60 s)
    server = https(HostileHttpsKind.DRIP)
    process = subprocess.Popen([sys.executable, "-m", "checks", *cli_args(server, "60")], cwd=ROOT, env=ENV,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(4)  # start-up and the request under way
    # When Ctrl-C arrives
    interrupted = time.monotonic()
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    # Then the process ends within a second or two, saying it was interrupted
    report(f"exit after Ctrl-C during a dripping read: {time.monotonic() - interrupted:.2f} s")
    assert process.returncode == 130 and "interrupted" in err
    assert time.monotonic() - interrupted < 3.0


def test_a_400_mb_answer_is_cut_at_the_byte_cap_in_bounded_memory(https):
    # Given a Graph stand-in that answers with 400 MB
    server = https(HostileHttpsKind.HUGE)
    http = TimedHttp(build_session(server.ca_file), lambda: 10.0, owns_session=True)
    # When it is read
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(OSError) as refused:  # ResponseTooLarge
            http.get(server.base_url + "/v1.0/applications")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        http.close()
    # Then the read stops at the cap, quickly, and memory stays a small multiple of the cap
    report(f"peak memory against a 400 MB body: {peak / 1e6:.1f} MB in {time.monotonic() - started:.2f} s")
    assert "larger than" in str(refused.value)
    assert peak < 4 * MAX_RESPONSE_BYTES


def test_a_dripping_answer_ends_at_the_request_deadline(https):
    server = https(HostileHttpsKind.DRIP)
    http = TimedHttp(build_session(server.ca_file), lambda: 1.5, owns_session=True)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        http.get(server.base_url + "/common/v2.0/.well-known/openid-configuration")
    http.close()
    assert time.monotonic() - started < 2.5


def test_a_dripping_webhook_cannot_hold_the_watch(pki):
    # Given a webhook that answers one byte every 0.2 s
    import threading

    from checks.history.webhook import deliver

    server = start_hostile_https(HostileHttpsKind.DRIP, pki=pki, tls=False)
    outcome = {}
    try:
        # When an alert is delivered with a 1 s timeout and one attempt
        worker = threading.Thread(target=lambda: outcome.update(d=deliver(server.base_url + "/hook", [{"text": "x"}],
                                                                         attempts=1, timeout=1.0)), daemon=True)
        started = time.monotonic()
        worker.start()
        worker.join(10)
        # Then delivery gives up within about the timeout, saying the hook could not be reached in time
        assert not worker.is_alive() and time.monotonic() - started < 3.0
        assert not outcome["d"].delivered and "could not be reached" in outcome["d"].problem
    finally:
        server.stop()
