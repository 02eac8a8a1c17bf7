"""The real CLI, as a user runs it, against every practice-lab scenario: exit status, verdict, the failing step."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.__main__ import command_for
from lab.practice import SCENARIOS, PracticeLab

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def lab() -> Iterator[PracticeLab]:
    practice = PracticeLab()
    yield practice
    practice.stop()


def run_cli(lab: PracticeLab, scenario_id: str, tmp_path: Path) -> tuple[subprocess.CompletedProcess, dict, dict]:
    line, secrets = command_for(lab.settings_for(scenario_id))
    argv = [sys.executable, *shlex.split(line)[1:], "--format", "json", "--output", str(tmp_path / "report.json")]
    done = subprocess.run(argv, cwd=ROOT, env={**os.environ, **secrets}, capture_output=True, text=True, timeout=60)
    return done, json.loads((tmp_path / "report.json").read_text()), secrets


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_cli_gives_the_scenarios_verdict_and_exit_status(lab, scenario, tmp_path):
    # Given a practice scenario and the command `python -m lab` prints for it (secrets by environment variable)
    # When the CLI runs it and writes a JSON report
    done, report, secrets = run_cli(lab, scenario.id, tmp_path)
    # Then the exit status and verdict match the scenario, the failing step is the expected one,
    # and no secret appears in anything the CLI printed or wrote
    failing = [r["check_id"] for r in report["results"] if r["status"] in ("fail", "error")]
    if scenario.breaks:
        assert done.returncode == 1, done.stderr
        assert report["run"]["verdict"] == "problems"
        assert failing[0] == scenario.breaks, failing
    else:
        assert done.returncode == 0, (done.stderr, failing)
        assert report["run"]["verdict"] == "ready"
    written = done.stdout + done.stderr + (tmp_path / "report.json").read_text()
    for value in secrets.values():
        assert value not in written


@pytest.mark.parametrize("scenario_id", ["working-m365", "oauth2-working", "gmail-bad-credentials"])
def test_no_file_written_during_a_run_holds_a_secret(lab, scenario_id, tmp_path):
    # Given a run whose working folder, HOME and TMPDIR are an empty folder we can inspect afterwards
    line, secrets = command_for(lab.settings_for(scenario_id))
    argv = [sys.executable, *shlex.split(line)[1:], "--format", "csv", "--output", "report.csv"]
    home = tmp_path / "home"
    home.mkdir()
    environment = {**os.environ, **secrets, "HOME": str(home), "TMPDIR": str(home), "PYTHONPATH": str(ROOT),
                   "PYTHONDONTWRITEBYTECODE": "1"}
    # When the CLI runs there
    subprocess.run(argv, cwd=home, env=environment, capture_output=True, text=True, timeout=60)
    # Then the report was written, and no file anywhere under that folder holds a secret (no token cache either)
    files = [p for p in home.rglob("*") if p.is_file()]
    assert (home / "report.csv").is_file()
    for path in files:
        content = path.read_bytes()
        for value in secrets.values():
            assert value.encode() not in content, f"{value[:4]}... found in {path.name}"
