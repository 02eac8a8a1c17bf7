"""Fixtures for the real-server tests: the `realservers` marker and the servers, started once per session."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.real_servers import Processes, RealServers, missing_prerequisites, start_all

MARKER = "realservers: needs real Postfix, Dovecot and dnsmasq (root; run scripts/real-servers.sh)"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)


@pytest.fixture(scope="session")
def real_servers() -> Iterator[RealServers]:
    """Postfix + Dovecot + dnsmasq + a silent port, started once for the session from a temporary directory."""
    reason = missing_prerequisites()
    if reason and os.environ.get("REQUIRE_REAL_SERVERS"):
        pytest.fail(f"REQUIRE_REAL_SERVERS is set but {reason}")
    if reason:
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="rs-"))  # short: Unix socket paths are limited to 107 bytes
    processes = Processes(root)
    try:
        yield start_all(root, processes)
    finally:
        processes.stop()
        if not os.environ.get("REALSERVERS_KEEP"):
            shutil.rmtree(root, ignore_errors=True)
