"""Session-state helpers: the relay form's values survive reruns, page switches and errors."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

from checks.settings.config import SECRET_FIELDS
from checks.settings.fields import FIELDS, Kind
from checks.settings.secret import Secret
from console.forms import FORM_KEYS, FORM_PREFIX, form_values_for, preset_values

PROFILE_KEY = FORM_PREFIX + "profile"
REPORT_KEY = "check.report"
ERRORS_KEY = "check.errors"
SIGNED_IN_KEY = "oauth.signed_in"  # SignedIn (refresh token as a Secret): server-side only, never a widget
HELD_KEY = "form.held_secrets"  # {field: Secret}: secrets already submitted, kept server-side, never re-sent
GENERATION_KEY = "form.secret_generation"  # bumped when typed secrets are taken: the inputs are drawn anew, empty


def key(field: str) -> str:
    return FORM_PREFIX + field


def keep_form(state: MutableMapping[str, Any], default_profile: str = "gmail") -> None:
    """Start the form with the guide's values once; afterwards keep every value even while its field is hidden."""
    if PROFILE_KEY not in state:
        load_form(state, preset_values(default_profile))
    for field in FORM_KEYS:
        name = key(field)
        if name in state:
            state[name] = state[name]  # re-owning the value stops Streamlit dropping it with a hidden widget


def secret_key(state: Mapping[str, Any], field: str) -> str:
    """The widget key of a secret input; a new one after each submit, so the browser drops what was typed."""
    generation = state.get(GENERATION_KEY, 0)
    return f"{key(field)}.{generation}" if generation else key(field)


def form_values(state: Mapping[str, Any]) -> dict[str, Any]:
    return {field: state.get(secret_key(state, field) if field in SECRET_FIELDS else key(field))
            for field in FORM_KEYS}


def held(state: MutableMapping[str, Any]) -> dict[str, Secret]:
    return state.setdefault(HELD_KEY, {})


def hold_typed_secrets(state: MutableMapping[str, Any]) -> None:
    """Secret inputs are write-only: what was typed moves server-side and the input empties (keeps it out of the
    page's HTML); call from a callback, before the inputs are drawn."""
    kept = held(state)
    typed = {field: state.pop(secret_key(state, field), "") for field in SECRET_FIELDS}
    kept.update({field: Secret(value) for field, value in typed.items() if value})
    if any(typed.values()):
        state[GENERATION_KEY] = state.get(GENERATION_KEY, 0) + 1


def held_secrets(state: Mapping[str, Any]) -> dict[str, str]:
    return {field: secret.reveal() for field, secret in (state.get(HELD_KEY) or {}).items()}


def forget_secret(state: MutableMapping[str, Any], field: str) -> None:
    held(state).pop(field, None)


def load_form(state: MutableMapping[str, Any], values: Mapping[str, Any]) -> None:
    """Put settings (a preset, a TOML file, a practice scenario) into the form; secrets not given are cleared."""
    converted = form_values_for(values)
    kept = held(state)
    for field in SECRET_FIELDS:
        value = values.get(field)
        if value:
            kept[field] = value if isinstance(value, Secret) else Secret(str(value))
        else:
            kept.pop(field, None)
        state.pop(secret_key(state, field), None)
    for field in FORM_KEYS:
        if field in SECRET_FIELDS:
            continue
        if field in converted:
            state[key(field)] = converted[field]
        elif FIELDS[field].kind in (Kind.TEXT, Kind.PATH):
            state[key(field)] = ""
        elif FIELDS[field].kind is Kind.DATE:
            state[key(field)] = None


def apply_profile(state: MutableMapping[str, Any]) -> None:
    """On a profile change: the guide's server values for it; what the user typed elsewhere stays."""
    for field, value in preset_values(state[PROFILE_KEY]).items():
        if field in ("host", "port", "security", "auth"):
            state[key(field)] = value
    state.pop(ERRORS_KEY, None)
