"""The setup guide's ticks: kept in the page address (so they survive a reload and can be shared), and the
section being worked on stays open."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

from console.guide_steps import PARTS

OPEN_KEY = "guide.open"
LINKED_KEY = "guide.linked"
ALL_STEPS = tuple(step.id for steps in PARTS.values() for step in steps)


def tick_key(step_id: str) -> str:
    return f"guide.{step_id}"


def read_link(state: MutableMapping[str, Any], query: Mapping[str, Any]) -> None:
    """Ticks named in ?done=... (a reload or a shared link) become the checkboxes' state."""
    given = str(query.get("done") or "")
    if given == state.get(LINKED_KEY):
        return
    state[LINKED_KEY] = given
    done = {step for step in given.split(",") if step in ALL_STEPS}
    for step in ALL_STEPS:
        state[tick_key(step)] = step in done
    first = next((part for part, steps in PARTS.items() if any(s.id in done for s in steps)), None)
    if first is not None:
        state.setdefault(OPEN_KEY, first)


def write_link(state: MutableMapping[str, Any], query: Any) -> None:
    """The ticked steps into the address."""
    done = ",".join(step for step in ALL_STEPS if state.get(tick_key(step)))
    state[LINKED_KEY] = done
    if done:
        query["done"] = done
    elif "done" in query:
        del query["done"]


def on_tick(state: MutableMapping[str, Any], part: str) -> None:
    """Checkbox callback: the part being worked on stays open."""
    state[OPEN_KEY] = part


def is_open(state: Mapping[str, Any], part: str) -> bool:
    return part == state.get(OPEN_KEY, next(iter(PARTS)))
