"""Shared fixtures: real lab servers on loopback (CA, DNS, SMTP) and settings that point at them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from checks.settings.loading import config_from_values
from lab.dns import RunningDns, start_dns
from lab.entra import EntraScenario, RunningEntra, start_entra
from lab.pki import LabPKI
from lab.smtp import LAB_ACCOUNTS, Personality, RunningSmtp, Scenario, start_smtp

PROFILE_OF = {Personality.GMAIL: "gmail", Personality.M365: "m365-basic", Personality.GENERIC: "custom"}
HOST_OF = {Personality.GMAIL: "smtp.gmail.com", Personality.M365: "smtp.office365.com",
           Personality.GENERIC: "smtp.lab.test"}


@pytest.fixture(autouse=True)
def fresh_run_ledger() -> Iterator[None]:
    """Each test starts with no runs counted by the console's hosting guard (it is process-wide)."""
    from console.hosting import LEDGER

    LEDGER.clear()
    yield


@pytest.fixture(scope="session")
def pki() -> Iterator[LabPKI]:
    authority = LabPKI()
    yield authority
    authority.close()


@pytest.fixture(scope="session")
def lab_dns() -> Iterator[RunningDns]:
    with start_dns() as server:
        yield server


@pytest.fixture
def smtp_lab(pki: LabPKI) -> Iterator[Callable[..., RunningSmtp]]:
    """Start lab SMTP servers on demand; all are stopped after the test."""
    started: list[RunningSmtp] = []

    def start(scenario: Scenario = Scenario.WORKING, **options: Any) -> RunningSmtp:
        server = start_smtp(scenario, pki=pki, **options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def entra(pki: LabPKI) -> Iterator[Callable[..., RunningEntra]]:
    """Start Entra ID / Graph emulators on demand, one per scenario; all are stopped after the test."""
    started: list[RunningEntra] = []

    def start(scenario: EntraScenario = EntraScenario.WORKING) -> RunningEntra:
        started.append(start_entra(scenario, pki=pki))
        return started[-1]

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def lab_settings(lab_dns: RunningDns, pki: LabPKI) -> Callable[..., dict[str, Any]]:
    """Settings a user would enter for a lab server: provider host via the lab DNS, redirected to the lab port."""

    def settings(server: RunningSmtp, **overrides: Any) -> dict[str, Any]:
        username, password = LAB_ACCOUNTS[server.personality]
        values = {
            "profile": PROFILE_OF[server.personality], "host": HOST_OF[server.personality],
            "username": username, "sender": username, "password": password,
            "nameserver": lab_dns.nameserver, "connect_to": f"{server.host}:{server.port}",
            "ca_file": str(pki.ca_file), "timeout": 2, "deadline": 20,
        }
        if server.implicit_tls:
            values.update(security="tls", port=465)
        values.update(overrides)
        return {k: v for k, v in values.items() if v is not None}

    return settings


@pytest.fixture
def lab_config(lab_settings: Callable[..., dict[str, Any]]) -> Callable[..., Any]:
    def config(server: RunningSmtp, **overrides: Any):
        return config_from_values(lab_settings(server, **overrides))

    return config


# --------------------------------------------------------------------------------------------------- history


@pytest.fixture(scope="session", autouse=True)
def history_in_a_temporary_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Runs the console or the CLI save during the tests go to a throwaway SQLite file, never the user's folder."""
    path = tmp_path_factory.mktemp("history") / "history.sqlite3"
    patch = pytest.MonkeyPatch()
    patch.setenv("RELAY_CONSOLE_DB", f"sqlite:///{path}")
    yield
    patch.undo()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    """A PostgreSQL server of our own in a temporary folder (skipped where Debian's postgresql is missing)."""
    import postgres_server

    reason = postgres_server.missing()
    if reason:
        if os.environ.get("REQUIRE_POSTGRES"):
            pytest.fail(reason)
        pytest.skip(reason)
    server = postgres_server.start()
    yield server
    postgres_server.stop(server)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """An empty history database: an SQLite file, and a fresh database on the test PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'history.sqlite3'}"
    server = request.getfixturevalue("postgres")
    return server.create_database(f"t_{uuid.uuid4().hex[:12]}")
