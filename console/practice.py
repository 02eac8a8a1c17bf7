"""The practice lab as the console sees it: scenarios grouped in families, settings to run or to load."""

from __future__ import annotations

from typing import Any

from checks.model import CheckId
from checks.registry import SPECS
from checks.settings.config import RelayConfig
from checks.settings.loading import config_from_values
from lab.practice import SCENARIOS, practice_lab

LINKED_KEY = "practice.linked"
FAMILIES = ("Working setups", "Sign-in refused", "TLS and certificates", "Network and server",
            "Microsoft 365 OAuth2")


def scenarios() -> tuple[Any, ...]:
    return SCENARIOS


def scenario(scenario_id: str) -> Any:
    return next(s for s in scenarios() if s.id == scenario_id)


def family_of(item: Any) -> str:
    """Which family a scenario belongs to, by what it breaks."""
    if not item.breaks:
        return FAMILIES[0]
    if item.profile == "m365-oauth2":
        return FAMILIES[4]
    if item.breaks in ("tls", "auth.mechanisms"):
        return FAMILIES[2]
    if item.breaks in ("port", "smtp.greeting", "dns.host"):
        return FAMILIES[3]
    return FAMILIES[1]


def in_family(family: str) -> tuple[str, ...]:
    """The scenario ids of a family, in the lab's order."""
    return tuple(s.id for s in scenarios() if family_of(s) == family)


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


def keep_picker(state: Any, query: Any) -> None:
    """Family and scenario always agree; a link with ?scenario=ID opens that scenario without running it."""
    wanted = str(query.get("scenario") or "")
    known = {s.id for s in scenarios()}
    if wanted in known and wanted != state.get(LINKED_KEY):  # a link opened, not the page's own address
        state["practice.scenario"] = wanted
    picked = state.get("practice.scenario")
    if picked not in known:
        picked = state["practice.scenario"] = scenarios()[0].id
    state["practice.family"] = family_of(scenario(picked))


def remember_link(state: Any, query: Any, scenario_id: str) -> None:
    """The address bar names the picked scenario, so the link can be shared."""
    state[LINKED_KEY] = query["scenario"] = scenario_id


def on_family_change(state: Any) -> None:
    """Picking a family selects its first scenario."""
    state["practice.scenario"] = in_family(state["practice.family"])[0]
