"""Canary secrets never leave the engine: not in results, reports, transcripts, logs or exception text."""

from __future__ import annotations

import base64
import logging
import pickle

import pytest

from checks.report.export import to_csv, to_json, to_markdown
from checks.report.table import render_table
from checks.runner import run_checklist
from checks.settings.loading import config_from_values, to_toml
from checks.settings.secret import Secret
from lab.smtp import Personality, Scenario

CANARY = "Canary-Pw-7f3a9c2e"


def every_output(report) -> str:
    texts = [to_csv(report), to_json(report), to_markdown(report), render_table(report, verbose=True)]
    texts += [repr(r) for r in report.results]
    return "\n".join(texts)


def assert_no_canary(text: str, canary: str = CANARY) -> None:
    forms = {canary, base64.b64encode(canary.encode()).decode().rstrip("=")}
    leaked = [form for form in forms if form in text]
    assert not leaked, f"secret leaked in form(s) {leaked}"


def test_a_secret_never_prints_or_pickles():
    # Given a secret value
    secret = Secret(CANARY)
    # Then no way of printing it shows the value, and it refuses to be pickled to disk
    assert_no_canary(f"{secret} {secret!r} {secret:>30} {[secret]} {({'p': secret})}")
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    assert secret.reveal() == CANARY


def test_settings_repr_and_saved_settings_hide_the_password():
    config = config_from_values({"profile": "gmail", "username": "a@gmail.com", "password": CANARY})
    assert_no_canary(repr(config) + str(config.public_settings()) + to_toml(config))


@pytest.mark.parametrize("scenario", [Scenario.WORKING, Scenario.BAD_CREDENTIALS])
def test_a_full_run_never_shows_the_password(smtp_lab, lab_settings, caplog, scenario):
    # Given a canary password and debug logging switched on
    caplog.set_level(logging.DEBUG)
    server = smtp_lab(scenario, personality=Personality.M365)
    config = config_from_values(lab_settings(server, password=CANARY, send_test_to="x@contoso.example"))
    # When the checklist runs (the server refuses the canary password)
    report = run_checklist(config)
    # Then no output format, transcript, or log line holds it, in clear or base64
    assert_no_canary(every_output(report))
    assert_no_canary("\n".join(line for r in report.results for line in r.transcript))
    assert_no_canary(caplog.text)


def test_invalid_settings_errors_do_not_echo_secrets():
    with pytest.raises(ValueError) as caught:
        config_from_values({"profile": "gmail", "username": "not-an-address", "password": CANARY + "\n"})
    assert_no_canary(str(caught.value) + repr(caught.value))
