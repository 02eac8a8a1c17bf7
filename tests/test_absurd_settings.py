"""Absurd settings fail one field or one batch row, never the program; a CA file never tells what exists."""

from __future__ import annotations

import io

import pytest

from checks.batch.file import BatchSetup
from checks.batch.run import SetupState, run_batch
from checks.cli.main import main
from checks.model import CheckId, Status
from checks.run_state import Dependencies
from checks.target_policy import TargetPolicy
from console.relay_form import apply_settings_file

HOSTED = {"RELAY_CONSOLE_RESTRICT_TARGETS": "1"}


def cli(argv, environ=None):
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdin=io.StringIO(""), stdout=out, stderr=err, environ=environ or {})
    return code, out.getvalue(), err.getvalue()


def test_a_batch_row_whose_ca_file_is_not_a_ca_fails_that_row_only():
    # Given a batch of a good setup and one whose ca_file is an ordinary file of this machine
    good = BatchSetup("good", {"profile": "custom", "host": "relay.example", "auth": "none"}, "row 2")
    bad = BatchSetup("bad", {"profile": "custom", "host": "relay.example", "auth": "none",
                             "ca_file": "/etc/hostname"}, "row 3")
    # When the batch runs
    batch = run_batch([good, bad], jobs=2, environ={}, only=["settings"])
    # Then the good setup ran, the bad one failed its settings naming ca_file, and the batch report is complete
    outcomes = {o.name: o for o in batch.outcomes}
    assert outcomes["good"].state is SetupState.DONE and not batch.not_run
    assert outcomes["bad"].state is SetupState.INVALID
    assert "ca_file" in outcomes["bad"].report.result(CheckId.SETTINGS).summary


@pytest.mark.parametrize("path", ["/etc/hostname", "/nonexistent/ca.pem", "/dev/zero", "/etc"])
def test_every_unusable_ca_file_gets_the_same_message(path):
    code, _, err = cli(["run", "--profile", "custom", "--host", "relay.example", "--auth", "none",
                        "--ca-file", path, "--only", "settings"])
    assert code == 2 and err == "error: ca_file: is not a readable PEM file of CA certificates on this machine\n"


@pytest.mark.parametrize("path", ["/etc/hostname", "/nonexistent/ca.pem"])
def test_a_hosted_console_refuses_ca_file_before_looking_at_it(path):
    # Given a hosted console, an existing and a missing file give exactly the same answer
    code, _, err = cli(["run", "--profile", "gmail", "--username", "a@gmail.com", "--password-env", "PW",
                        "--ca-file", path, "--only", "settings"], environ={**HOSTED, "PW": "abcdefghijklmnop"})
    assert code == 2 and err == "error: ca_file: is not available on this hosted console\n"
    policy = TargetPolicy(restricted=True)
    batch = run_batch([BatchSetup("s", {"profile": "gmail", "ca_file": path}, "row 2")], jobs=1, environ={},
                      deps=Dependencies(policy=policy), only=["settings"])
    assert "is not available on this hosted console" in batch.outcomes[0].report.results[0].details


@pytest.mark.parametrize("text", ['port = "abc"', "port = inf", "port = nan", "port = 99999", "port = -1",
                                  "port = 1e300", "port = [[[1]]]", "port = {a = {b = 1}}",
                                  "timeout = 1e999", "deadline = \"soon\""])
def test_absurd_values_in_a_settings_file_are_named_field_errors(tmp_path, text):
    # Given a settings file with one absurd value
    path = tmp_path / "relay.toml"
    path.write_text(f'profile = "custom"\nhost = "relay.example"\nauth = "none"\n{text}\n', encoding="utf-8")
    field = text.split(" ")[0]
    # When the CLI reads it, then it exits 2 naming the field
    code, _, err = cli(["run", "--config", str(path), "--only", "settings"])
    assert code == 2 and err.startswith(f"error: {field}: ")
    # And when the console loads it, nothing changes and the field is named
    state: dict = {}
    errors = apply_settings_file(state, path.read_bytes(), "relay.toml")
    assert [e.field for e in errors] == [field] and "was not loaded" in state["check.load_message"][1]


def test_a_deeply_nested_batch_file_is_a_usage_error(tmp_path):
    path = tmp_path / "batch.toml"
    path.write_text("[[setup]]\nname = \"x\"\nport = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    code, _, err = cli(["batch", str(path)])
    assert code == 2 and "nested too deeply" in err


def test_settings_status_of_a_batch_row_with_a_table_value():
    batch = run_batch([BatchSetup("t", {"profile": "custom", "host": "relay.example", "auth": "none",
                                        "port": {"a": {"b": 1}}}, "setup 1")], jobs=1, environ={}, only=["settings"])
    result = batch.outcomes[0].report.results[0]
    assert result.status is Status.FAIL and "port" in result.summary
