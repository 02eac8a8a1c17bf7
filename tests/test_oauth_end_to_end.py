"""The m365-oauth2 profile end to end: Entra ID emulator + Microsoft-like SMTP server accepting only its tokens."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from checks.model import CheckId, Status, Verdict
from checks.runner import run_checklist
from checks.settings.loading import config_from_values
from lab.entra import EntraScenario, RunningEntra, start_entra
from lab.smtp import Personality, start_smtp

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def oauth_lab(pki, lab_dns) -> Iterator[Callable[..., dict[str, Any]]]:
    """Start an Entra emulator for a scenario and an M365-like relay that checks its tokens; return settings."""
    stops: list[Callable[[], None]] = []
    started: dict[str, RunningEntra] = {}

    def start(scenario: EntraScenario = EntraScenario.WORKING, **changes: Any) -> dict[str, Any]:
        entra = start_entra(scenario, pki=pki)
        smtp = start_smtp(personality=Personality.M365, pki=pki, xoauth2_validator=entra.xoauth2_validator)
        stops.extend([entra.stop, smtp.stop])
        started["entra"] = entra
        values = {
            "profile": "m365-oauth2", "login_url": entra.base_url, "graph_url": entra.graph_url,
            "ca_file": str(pki.ca_file), "tenant_id": entra.tenant_id, "client_id": entra.client_id,
            "client_secret": entra.client_secret, "refresh_token": entra.refresh_token, "sender": entra.sender,
            "secret_expires": entra.secret_expires.isoformat(), "nameserver": lab_dns.nameserver,
            "connect_to": f"{smtp.host}:{smtp.port}", "timeout": 5,
        }
        values.update(changes)
        return values

    start.started = started
    yield start
    for stop in stops:
        stop()


def test_working_oauth2_setup_passes_every_check(oauth_lab):
    # Given a correct app registration, consent, refresh token and sender
    values = oauth_lab()
    # When the whole m365-oauth2 checklist runs
    report = run_checklist(config_from_values(values))
    # Then every step passes, including AUTH XOAUTH2 on the SMTP conversation
    assert report.verdict is Verdict.READY, [(r.check_id.value, r.summary) for r in report.problems]
    assert [r.check_id.value for r in report.results] == [
        "settings", "dns.host", "dns.mx", "domain.spf", "domain.dkim", "domain.dmarc", "port", "smtp.greeting", "tls", "auth.mechanisms", "oauth.tenant",
        "oauth.client", "oauth.secret_expiry", "oauth.token", "oauth.scopes", "auth.credentials", "sender"]
    assert "XOAUTH2" in report.result(CheckId.AUTH_CREDENTIALS).summary


@pytest.mark.parametrize(("scenario", "failing", "words"), [
    (EntraScenario.SECRET_ID_PASTED, "oauth.client", "Value"),
    (EntraScenario.CONSENT_MISSING, "oauth.token", "consent"),
    (EntraScenario.SMTP_AUTH_DISABLED, "auth.credentials", "SmtpClientAuthenticationDisabled"),
    (EntraScenario.SENDER_IS_ALIAS, "sender", "primary"),
])
def test_broken_oauth2_setups_name_the_failing_step_and_the_fix(oauth_lab, scenario, failing, words):
    report = run_checklist(config_from_values(oauth_lab(scenario)))
    result = report.result(CheckId(failing))
    assert result.status is Status.FAIL, (result.summary, [(r.check_id.value, r.summary) for r in report.problems])
    assert words.lower() in (result.summary + result.details + result.remediation).lower()


def test_cli_runs_the_oauth2_profile_and_never_prints_a_secret_or_token(oauth_lab):
    # Given the working OAuth2 lab and the secrets in environment variables
    values = oauth_lab()
    secret, refresh = values.pop("client_secret"), values.pop("refresh_token")
    argv = [sys.executable, "-m", "checks", "run", "--format", "json",
            "--client-secret-env", "T_SECRET", "--refresh-token-env", "T_REFRESH"]
    for key, value in values.items():
        argv += [f"--{key.replace('_', '-')}", str(value)]
    environment = {**os.environ, "T_SECRET": secret, "T_REFRESH": refresh}
    # When the CLI runs as a user would
    done = subprocess.run(argv, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60)
    # Then it exits 0 with a ready verdict, and no secret or issued token appears in what it printed
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["run"]["verdict"] == "ready"
    printed = done.stdout + done.stderr
    for value in (secret, refresh, *oauth_lab.started["entra"].issued_tokens):
        assert value not in printed


def test_without_a_refresh_token_the_verdict_is_not_proven_yet(oauth_lab):
    # Given a correct app registration but no refresh token yet (nobody has signed in)
    values = oauth_lab()
    values.pop("refresh_token")
    # When the checklist runs
    report = run_checklist(config_from_values(values))
    # Then nothing failed, yet the verdict does not claim "ready": the token steps say what they need
    assert report.verdict is Verdict.INCOMPLETE
    assert report.result(CheckId.OAUTH_CLIENT).status is Status.PASS
    token = report.result(CheckId.OAUTH_TOKEN)
    assert token.status is Status.SKIP and "Sign in with Microsoft" in token.summary
    from checks.report.export import verdict_line

    assert verdict_line(report).startswith("Not proven yet: 4 checks could not run")
