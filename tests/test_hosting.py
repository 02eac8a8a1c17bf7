"""The hosting guard counts runs per browser session and per client address, and batches by their setups."""

from __future__ import annotations

from console.hosting import HostingLimits, RunLedger, admit, allowed_jobs, batch_refusal, client_address


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_runs_are_counted_per_session_and_per_client():
    # Given a limit of 3 runs per hour
    clock = Clock()
    ledger, limits = RunLedger(clock), HostingLimits(hosted=True, max_runs_per_hour=3)
    alice, bob = {}, {}
    # When one browser runs twice and a second browser of the same client runs twice
    results = [admit(1, state=alice, client="192.0.2.1", limits=limits, ledger=ledger) for _ in range(2)]
    results += [admit(1, state=bob, client="192.0.2.1", limits=limits, ledger=ledger) for _ in range(2)]
    # Then the fourth run of that client is refused, whichever session asks; another client is not
    assert results[:3] == [None, None, None] and "3 runs per hour" in results[3]
    assert admit(1, state={}, client="192.0.2.2", limits=limits, ledger=ledger) is None
    # And an hour later the client may run again
    clock.now += 3600
    assert admit(1, state=bob, client="192.0.2.1", limits=limits, ledger=ledger) is None


def test_a_batch_counts_every_setup_and_is_refused_whole():
    ledger, limits = RunLedger(Clock()), HostingLimits(hosted=True, max_runs_per_hour=5)
    state: dict = {}
    assert admit(4, state=state, client="c", limits=limits, ledger=ledger) is None
    refusal = admit(2, state=state, client="c", limits=limits, ledger=ledger)
    assert refusal is not None and "2 runs would go over it" in refusal
    assert admit(1, state=state, client="c", limits=limits, ledger=ledger) is None  # the refused batch took nothing


def test_hosted_defaults_and_local_console():
    hosted = HostingLimits.from_environment({"RELAY_CONSOLE_RESTRICT_TARGETS": "1"})
    assert (hosted.max_runs_per_hour, hosted.max_batch_setups, hosted.max_batch_jobs) == (30, 20, 4)
    assert not hosted.environment_lookups and allowed_jobs(32, hosted) == 4
    local = HostingLimits.from_environment({})
    assert local.max_runs_per_hour is None and local.environment_lookups and allowed_jobs(32, local) == 32
    assert admit(1000, state={}, client="c", limits=local, ledger=RunLedger()) is None
    assert "environment variables" in batch_refusal(1, uses_environment=True, limits=hosted)
    assert batch_refusal(20, uses_environment=False, limits=hosted) is None


def test_client_address_is_the_peer_or_what_a_local_proxy_forwarded():
    assert client_address("8.8.4.4", {"X-Forwarded-For": "198.51.100.1"}) == "8.8.4.4"
    assert client_address("127.0.0.1", {"X-Forwarded-For": "1.1.1.1, 198.51.100.7"}) == "198.51.100.7"
    assert client_address(None, {}) == "unknown"
