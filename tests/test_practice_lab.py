"""Every practice-lab scenario the console offers breaks exactly the step it promises (and the working ones pass)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from checks.model import Status
from checks.runner import run_checklist
from checks.settings.loading import config_from_values
from lab.practice import SCENARIOS, PracticeLab


@pytest.fixture(scope="module")
def lab() -> Iterator[PracticeLab]:
    practice = PracticeLab()
    yield practice
    practice.stop()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_scenario_breaks_the_step_it_describes(lab, scenario):
    # Given the settings the console fills in for a practice scenario
    config = config_from_values(lab.settings_for(scenario.id))
    # When the checklist runs against the lab
    report = run_checklist(config)
    # Then the first failing step is the one the scenario is about, with a fix to read
    failed = [r for r in report.results if r.status in (Status.FAIL, Status.ERROR)]
    if scenario.warns:
        assert report.result(scenario.warns).status is Status.WARN, report.result(scenario.warns).summary
    if not scenario.breaks:
        assert not failed, [(r.check_id.value, r.summary) for r in failed]
        return
    assert failed and failed[0].check_id.value == scenario.breaks, [(r.check_id.value, r.summary) for r in failed]
    assert failed[0].status is Status.FAIL
    assert failed[0].remediation
