"""Build a validated RelayConfig from loose values: CLI flags, a TOML file, a form, a batch row."""

from __future__ import annotations

import datetime as dt
import os
import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from checks.settings.config import (
    CA_FILE_PROBLEM,
    MAX_CA_FILE_BYTES,
    SECRET_FIELDS,
    Cloud,
    FieldError,
    InvalidSettings,
    ProfileId,
    RelayConfig,
    Security,
    has_control_chars,
)
from checks.settings.fields import ENV_REFERENCES, EXPOSED, FIELDS, SETTING_KEYS, Kind, SettingField
from checks.settings.profiles import profile
from checks.settings.secret import Secret

# Conversion order (and so the order of the errors): choices first, as the profile and cloud set the defaults.
_KIND_ORDER = {Kind.CHOICE: 0, Kind.TEXT: 1, Kind.INT: 2, Kind.FLOAT: 2, Kind.PATH: 3, Kind.DATE: 4, Kind.SECRET: 5}
_CONVERSION_ORDER = tuple(sorted(EXPOSED, key=lambda f: _KIND_ORDER[f.kind]))


def _choices(enum: type) -> str:
    return ", ".join(m.value for m in enum)


def _text(value: Any) -> str:
    """str(value), also for the values str() refuses (an integer of more than 4300 digits)."""
    try:
        return str(value)
    except ValueError:
        return f"<{type(value).__name__} too large to show>"


def _ca_file_problem(text: str) -> str | None:
    """Why `text` cannot be the CA file, or None. One message whatever the reason (missing, unreadable, not a CA):
    the answer must not tell whether a file exists on this machine."""
    try:
        path = Path(text)
        if not has_control_chars(text) and path.is_file() and path.stat().st_size <= MAX_CA_FILE_BYTES:
            ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=text)
            return None
    except (OSError, ValueError, ssl.SSLError):
        pass
    return CA_FILE_PROBLEM


def _convert(spec: SettingField, value: Any) -> Any:
    """One loose value -> the RelayConfig value of `spec`; ValueError with the message for the user."""
    if spec.kind is Kind.SECRET:
        return value if isinstance(value, Secret) else Secret(_text(value))
    if spec.kind is Kind.DATE:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(_text(value).strip())
        except ValueError:
            raise ValueError("must be a date written YYYY-MM-DD") from None
    text = _text(value).strip()
    if spec.kind is Kind.CHOICE and spec.choices is not None:
        try:
            return spec.choices(text.lower())
        except ValueError:
            raise ValueError(f"must be one of {_choices(spec.choices)} (got {_text(value)[:40]!r})") from None
    if spec.kind in (Kind.INT, Kind.FLOAT):
        try:
            return int(text) if spec.kind is Kind.INT else float(text)
        except (ValueError, OverflowError):
            raise ValueError(f"must be {spec.number_hint} (got {_text(value)[:40]!r})") from None
    if spec.kind is Kind.PATH:
        problem = _ca_file_problem(text)
        if problem:
            raise ValueError(problem)
        return Path(text)
    return text


def config_from_values(
    values: Mapping[str, Any], *, environ: Mapping[str, str] | None = None
) -> RelayConfig:
    """Profile defaults + `values` -> RelayConfig; every problem is reported at once, by field."""
    environ = os.environ if environ is None else environ
    errors: list[FieldError] = []
    raw = {k: v for k, v in values.items() if v is not None and not (isinstance(v, str) and not v.strip())}
    for key in [k for k, v in raw.items() if isinstance(v, (dict, list, tuple, set))]:
        errors.append(FieldError(str(key)[:40], "must be a single value, not a table or a list"))
        del raw[key]
    unknown = sorted(set(raw) - set(SETTING_KEYS) - set(SECRET_FIELDS) - {"name", "setup"})
    for key in unknown:
        errors.append(FieldError(key, f"is not a setting (known: {', '.join(SETTING_KEYS)})"))

    parsed: dict[str, Any] = {}
    for spec in _CONVERSION_ORDER:
        name = spec.name
        if name not in raw:
            continue
        try:
            parsed[name] = _convert(spec, raw[name])
        except ValueError as exc:
            errors.append(FieldError(name, str(exc)))
    preset = profile(parsed.get("profile", ProfileId.CUSTOM))
    cloud = parsed.get("cloud", Cloud.GLOBAL)
    config: dict[str, Any] = {
        "profile": preset.id,
        "host": preset.host_for(cloud),
        "port": preset.port,
        "security": preset.security,
        "auth": preset.auth,
    }
    config.update(parsed)
    if "security" in parsed and "port" not in raw:
        config["port"] = 465 if parsed["security"] is Security.TLS else 587

    for ref_key, secret_key in ENV_REFERENCES.items():
        if ref_key in raw and secret_key not in config:
            name = _text(raw[ref_key]).strip()
            if name not in environ:
                errors.append(FieldError(ref_key, f"environment variable {name!r} is not set"))
            else:
                config[secret_key] = Secret(environ[name])

    if not errors:
        return RelayConfig(**config)
    try:  # report the remaining fields' problems too, so the user fixes everything in one go
        RelayConfig(**config)
    except InvalidSettings as more:
        named = {e.field for e in errors}
        errors.extend(e for e in more.errors if e.field not in named)
    raise InvalidSettings(errors)


MAX_SETTINGS_BYTES = 64 * 1024


def parse_toml(data: str | bytes) -> dict[str, Any]:
    """Settings TOML text -> values; refuses inline secrets (they belong in the environment) and unknown keys."""
    if len(data) > MAX_SETTINGS_BYTES:
        raise InvalidSettings([FieldError("config", f"is larger than {MAX_SETTINGS_BYTES // 1024} KiB; "
                                                    "not a settings file")])
    import tomllib  # lazy: only settings files are TOML; a run from options alone does not load the parser

    try:
        values = tomllib.loads(data.decode("utf-8") if isinstance(data, bytes) else data)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidSettings([FieldError("config", f"is not valid TOML: {exc}")]) from None
    except (RecursionError, ValueError):  # nested deeper than Python's stack; an integer of over 4300 digits
        raise InvalidSettings([FieldError("config", "is not a settings file (nested too deeply, or a number "
                                                    "too large)")]) from None
    inline = [k for k in SECRET_FIELDS if k in values]
    if inline:
        raise InvalidSettings([FieldError(k, f"secrets are not read from files; use {k}_env = \"VAR\"")
                               for k in inline])
    unknown = sorted(set(values) - set(SETTING_KEYS) - {"name", "setup"})
    if unknown:
        raise InvalidSettings([FieldError("config", f"unknown settings: {', '.join(unknown)}")])
    return values


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a settings file (see parse_toml)."""
    try:
        with open(path, "rb") as handle:  # read at most one byte past the limit: /dev/zero never ends
            data = handle.read(MAX_SETTINGS_BYTES + 1)
    except FileNotFoundError:
        raise InvalidSettings([FieldError("config", f"no such file: {path}")]) from None
    except IsADirectoryError:
        raise InvalidSettings([FieldError("config", f"{path} is a folder, not a settings file")]) from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InvalidSettings([FieldError("config", f"cannot read {path}: {reason}")]) from None
    try:
        return parse_toml(data)
    except InvalidSettings as exc:
        raise InvalidSettings([FieldError(e.field, f"{path}: {e.message}" if e.field == "config" else e.message)
                               for e in exc.errors]) from None


def to_toml(config: RelayConfig) -> str:
    """The settings as a TOML file without any secret (the app's 'save settings')."""
    lines = []
    for key, value in config.public_settings().items():
        if not FIELDS[key].exposed:
            continue
        if isinstance(value, bool):
            rendered = "true" if value else "false"
        elif isinstance(value, (int, float)):
            rendered = repr(value)
        else:
            rendered = '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
        lines.append(f"{key} = {rendered}")
    return "\n".join(lines) + "\n"
