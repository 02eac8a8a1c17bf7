"""The relay form: which fields each profile needs, where to find each value, and form values <-> settings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from checks.settings.config import SECRET_FIELDS, AuthMethod, FieldError, InvalidSettings, ProfileId, RelayConfig
from checks.settings.fields import FIELDS, FORM_FIELDS, Kind, SettingField, Shown, default
from checks.settings.loading import config_from_values, parse_toml, to_toml
from checks.settings.profiles import PROFILES, Profile, profile
from checks.target_policy import TargetPolicy

FORM_PREFIX = "form."


@dataclass(frozen=True)
class FieldSpec:
    """One input of the relay form."""

    key: str  # a config_from_values key
    label: str
    kind: str  # text, secret, int, float, select, date
    help: str = ""
    options: tuple[str, ...] = ()
    placeholder: str = ""
    advanced: bool = False


def _form_spec(field: SettingField, preset: Profile) -> FieldSpec:
    oauth2 = preset.auth is AuthMethod.OAUTH2
    text = field.form_text(preset.provider, oauth2=oauth2)
    kind = Kind.TEXT if field.kind is Kind.PATH else field.kind
    return FieldSpec(field.name, text.label, kind.value, text.help, field.options, text.placeholder, field.advanced)


SELECT_OPTIONS = {f.name: f.options for f in FORM_FIELDS if f.kind is Kind.CHOICE}
FORM_KEYS = tuple(f.name for f in FORM_FIELDS)
_ON_THE_FORM = tuple(sorted((f for f in FORM_FIELDS if f.shown is not Shown.PICKER), key=lambda f: f.form_rank))


def fields_for(profile_id: str, *, auth: str = "password") -> tuple[FieldSpec, ...]:
    """The inputs the profile needs, in screen order (advanced ones flagged), as the field table says."""
    preset = profile(profile_id)
    oauth2 = preset.auth is AuthMethod.OAUTH2
    return tuple(_form_spec(f, preset) for f in _ON_THE_FORM if f.shows(profile=preset.id, oauth2=oauth2, auth=auth))


def preset_values(profile_id: str) -> dict[str, Any]:
    """The guide's values for a profile (what the form shows after picking it); other defaults are RelayConfig's."""
    preset = profile(profile_id)
    values = {f.name: _as_input(f, default(f.name)) for f in FORM_FIELDS if default(f.name) is not None}
    return {**values, "profile": preset.id.value, "host": preset.host, "port": str(preset.port),
            "security": preset.security.value, "auth": SELECT_OPTIONS["auth"][0]}


def _as_input(field: SettingField, value: Any) -> Any:
    """Numbers are typed as text, so an out-of-range value (port 99999) reaches validation instead of a number
    input silently keeping its previous value."""
    return _number_text(value) if field.kind in (Kind.INT, Kind.FLOAT) else value


def profile_label(profile_id: str) -> str:
    return PROFILES[ProfileId(profile_id)].label


def _clean(spec: FieldSpec, value: Any) -> Any:
    if value is None:
        return None
    if spec.kind == "date":
        return value.isoformat() if isinstance(value, dt.date) else (str(value).strip() or None)
    if isinstance(value, str):
        return value.strip() if spec.kind != "secret" else value
    return value


def settings_values(form: Mapping[str, Any], *, extra_secrets: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The form's visible fields as config_from_values() input (empty fields left out)."""
    profile_id = str(form.get("profile") or ProfileId.CUSTOM.value)
    values: dict[str, Any] = {"profile": profile_id}
    for spec in fields_for(profile_id, auth=str(form.get("auth") or "password")):
        value = _clean(spec, form.get(spec.key))
        if value in (None, ""):
            continue
        if spec.key == "auth" and profile(profile_id).id is not ProfileId.CUSTOM:
            continue
        values[spec.key] = value
    shown = {spec.key for spec in fields_for(profile_id, auth=str(form.get("auth") or "password"))}
    for key, secret in (extra_secrets or {}).items():
        if secret and key in shown and not values.get(key):
            values[key] = secret
    return values


def build_config(values: Mapping[str, Any]) -> tuple[RelayConfig | None, tuple[FieldError, ...]]:
    """config_from_values() and the hosting policy, without raising: (config, ()) or (None, errors by field)."""
    try:
        policy = TargetPolicy.from_environment()
        policy.screen(values)
        config = config_from_values(values, environ={})
        policy.enforce(config)
        return config, ()
    except InvalidSettings as exc:
        return None, exc.errors


def errors_by_field(errors: tuple[FieldError, ...]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for error in errors:
        out.setdefault(error.field, []).append(error.message)
    return out


def settings_toml(values: Mapping[str, Any]) -> tuple[str | None, tuple[FieldError, ...]]:
    """The form's settings as TOML without secrets (to_toml); secrets not typed yet do not block saving."""
    merged = dict(values)
    for key in SECRET_FIELDS:  # stand-ins never written: to_toml leaves every secret out
        merged[key] = merged.get(key) or "not-saved"
    config, errors = build_config(merged)
    if config is None:
        return None, errors
    return to_toml(config), ()


def parse_settings_file(data: bytes) -> tuple[dict[str, Any], tuple[FieldError, ...]]:
    """An uploaded settings TOML -> form values; the engine's parse_toml refuses inline secrets."""
    try:
        loaded = parse_toml(data)
    except InvalidSettings as exc:
        return {}, exc.errors
    bad = [FieldError(k, f"must be one of {', '.join(SELECT_OPTIONS[k])}") for k in SELECT_OPTIONS
           if k in loaded and str(loaded[k]).strip().lower() not in SELECT_OPTIONS[k]]
    if bad:
        return {}, tuple(bad)
    try:  # the engine's own validation names absurd values (port "abc", inf, 99999) by field
        TargetPolicy.from_environment().screen(loaded)
        config_from_values(loaded, environ={})
    except InvalidSettings as exc:
        bad = [e for e in exc.errors if e.field in loaded and not e.field.endswith("_env")]
        if bad:
            return {}, tuple(bad)
    return {k: v for k, v in loaded.items() if k in FORM_KEYS}, ()


def form_values_for(values: Mapping[str, Any]) -> dict[str, Any]:
    """Loose settings (a TOML file, the practice lab) -> values the form widgets accept."""
    profile_id = str(values.get("profile") or ProfileId.CUSTOM.value)
    out = preset_values(profile_id)
    for key, value in values.items():
        if key not in FORM_KEYS or key in SECRET_FIELDS or value is None:
            continue
        kind = FIELDS[key].kind
        if kind in (Kind.INT, Kind.FLOAT):
            out[key] = _number_text(value)
        elif kind is Kind.DATE:
            out[key] = value if isinstance(value, dt.date) else _date_or_none(str(value))
        elif key in SELECT_OPTIONS:
            text = str(value).strip().lower()
            if text in SELECT_OPTIONS[key]:
                out[key] = text
        else:
            out[key] = str(value)
    return out


def _number_text(value: Any) -> str:
    """587 -> '587', 10.0 -> '10', 2.5 -> '2.5'; text stays as typed."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _date_or_none(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return None
