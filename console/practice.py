"""The practice lab as the console sees it: scenarios to pick, settings to run or to load into the form."""

from __future__ import annotations

from typing import Any

from checks.model import CheckId
from checks.registry import SPECS
from checks.settings.config import RelayConfig
from checks.settings.loading import config_from_values
from lab.practice import SCENARIOS, practice_lab


def scenarios() -> tuple[Any, ...]:
    return SCENARIOS


def scenario(scenario_id: str) -> Any:
    return next(s for s in scenarios() if s.id == scenario_id)


def expectation(item: Any) -> str:
    """What the scenario should show, in words."""
    if item.warns:
        return f"Expected: nothing fails; **{SPECS[CheckId(item.warns)].title}** (`{item.warns}`) warns."
    if not item.breaks:
        return "Expected: every check passes (warnings may remain)."
    title = SPECS[CheckId(item.breaks)].title
    return f"Expected to fail: **{title}** (`{item.breaks}`)."


def lab_values(scenario_id: str) -> dict[str, Any]:
    """Settings for the scenario (starts the lab servers on first use); holds the lab's fake password."""
    return practice_lab().settings_for(scenario_id)


def lab_config(scenario_id: str) -> RelayConfig:
    return config_from_values(lab_values(scenario_id), environ={})
