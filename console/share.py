"""Shareable settings: the relay form's non-secret values in the page address, and a link that fills the form."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, MutableMapping
from typing import Any
from urllib.parse import urlencode

from checks.settings.config import SECRET_FIELDS
from console.forms import FORM_KEYS, fields_for
from console.state import ERRORS_KEY, REPORT_KEY, load_form

SHARED_KEYS = tuple(k for k in FORM_KEYS if k not in SECRET_FIELDS)
SEEN_KEY = "check.links_seen"  # addresses this session read or wrote (newest last)
MAX_SEEN = 50


def link_values(form: Mapping[str, Any]) -> dict[str, str]:
    """The non-secret, non-empty values of the fields the form shows for its profile, as text, in form order."""
    profile_id = str(form.get("profile") or "custom")
    shown = {"profile"} | {spec.key for spec in fields_for(profile_id, auth=str(form.get("auth") or "password"))}
    out: dict[str, str] = {}
    for name in (k for k in SHARED_KEYS if k in shown):
        value = form.get(name)
        if value in (None, ""):
            continue
        out[name] = value.isoformat() if isinstance(value, dt.date) else str(value)
    return out


def _signature(values: Mapping[str, str]) -> str:
    return urlencode(sorted(values.items()))


def _seen(state: MutableMapping[str, Any]) -> list[str]:
    return state.setdefault(SEEN_KEY, [])


def open_link(state: MutableMapping[str, Any], query: Mapping[str, Any]) -> bool:
    """Settings in an address this session has not read or written yet (a shared link, the guide's link, a
    reload) fill the form without running it; True when they did. The page's own address is never re-read,
    even when a click overtakes the browser's update of it."""
    given = {name: str(query[name]) for name in SHARED_KEYS if name in query}
    if not given or _signature(given) in _seen(state):
        return False
    _seen(state).append(_signature(given))
    load_form(state, given)
    state.pop(REPORT_KEY, None)
    state.pop(ERRORS_KEY, None)
    return True


def remember_link(state: MutableMapping[str, Any], query: Any, form: Mapping[str, Any]) -> dict[str, str]:
    """Write the form's settings into the address in one update (so it can be shared); returns them."""
    values = link_values(form)
    seen = _seen(state)
    if _signature(values) not in seen:
        seen[:] = [*seen[-(MAX_SEEN - 1):], _signature(values)]
    if query.to_dict() != values:
        query.from_dict(values)
    return values


def share_url(page_url: str | None, values: Mapping[str, str]) -> str:
    """The address of this page carrying `values` (never a secret)."""
    base = (page_url or "").split("?", 1)[0].split("#", 1)[0]
    return f"{base}?{urlencode(values)}"
