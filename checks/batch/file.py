"""Batch files: a CSV with a ``name`` column plus setting keys, or TOML with one ``[[setup]]`` per setup.

Secrets are only given by reference (``password_env`` ...); a file holding a secret inline is refused as a
whole, naming the row. A secrets file (TOML or .env) is read like environment variables.
"""

from __future__ import annotations

import csv
import tomllib
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checks.report.spreadsheet import csv_records, decode_upload
from checks.settings.config import SECRET_FIELDS
from checks.settings.fields import ENV_REFERENCES, SETTING_KEYS

MAX_BATCH_BYTES = 5 * 1024 * 1024
MAX_SETUPS = 10_000
NAME_KEYS = ("name", "setup")


class BatchFileError(ValueError):
    """A batch or secrets file that cannot be used as a whole; the message names the row or line."""


@dataclass(frozen=True)
class BatchSetup:
    """One setup of a batch file: its name, where it came from and its settings (secrets only by reference)."""

    name: str
    values: Mapping[str, Any]
    where: str = ""  # "row 3" (CSV, header is row 1) or "setup 2" (TOML, 1-based)


def _decode(data: bytes | str, prefix: str) -> str:
    if not isinstance(data, str) and len(data) > MAX_BATCH_BYTES:
        raise BatchFileError(f"{prefix}the file is larger than {MAX_BATCH_BYTES // (1024 * 1024)} MB")
    return decode_upload(data)


def _read_source(path_or_bytes: str | Path | bytes, name: str) -> tuple[str, str]:
    """(text, display name) of a path or of uploaded bytes/text."""
    if isinstance(path_or_bytes, (str, Path)) and not (isinstance(path_or_bytes, str) and "\n" in path_or_bytes):
        path = Path(path_or_bytes)
        display = name or str(path)
        try:
            if path.stat().st_size > MAX_BATCH_BYTES:
                raise BatchFileError(f"{display}: the file is larger than {MAX_BATCH_BYTES // (1024 * 1024)} MB")
            return _decode(path.read_bytes(), f"{display}: "), display
        except FileNotFoundError:
            raise BatchFileError(f"no such file: {display}") from None
        except IsADirectoryError:
            raise BatchFileError(f"{display} is a folder, not a file") from None
        except OSError as exc:
            raise BatchFileError(f"cannot read {display}: {exc.strerror or type(exc).__name__}") from None
    return _decode(path_or_bytes, f"{name}: " if name else ""), name


def _normalise_key(key: Any) -> str:
    return str(key).strip().lstrip("\ufeff").lower().replace("-", "_").replace(" ", "_")


def _inline_secret_error(found: list[tuple[str, str]], prefix: str) -> BatchFileError:
    lines = [f"{where}: column {key!r} holds a secret inline" for where, key in found[:20]]
    more = f" (and {len(found) - 20} more)" if len(found) > 20 else ""
    refs = ", ".join(f"{ref}" for ref in ENV_REFERENCES)
    return BatchFileError(
        f"{prefix}secrets are not read from batch files: {'; '.join(lines)}{more}. Remove them, put each secret in "
        f"an environment variable or a --secrets file, and name it in a column {refs} instead.")



def _load_csv(text: str, prefix: str) -> list[BatchSetup]:
    try:
        records = csv_records(text)
    except csv.Error as exc:
        raise BatchFileError(f"{prefix}not a readable CSV file: {exc}") from None
    if not records or not any(cell.strip() for cell in records[0]):
        raise BatchFileError(f"{prefix}the file is empty; expected a header row with a 'name' column and setting keys")
    header = [_normalise_key(cell) for cell in records[0]]
    name_column = next((header.index(k) for k in NAME_KEYS if k in header), None)
    if name_column is None:
        raise BatchFileError(f"{prefix}row 1: no 'name' column (a batch CSV has a 'name' column plus setting keys "
                             f"such as {', '.join(SETTING_KEYS[:6])}, ...)")
    duplicates = sorted({h for h in header if h and header.count(h) > 1})
    if duplicates:
        raise BatchFileError(f"{prefix}row 1: column {duplicates[0]!r} appears more than once")
    inline: list[tuple[str, str]] = []
    setups: list[BatchSetup] = []
    for number, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue
        values: dict[str, Any] = {}
        for position, key in enumerate(header):
            cell = record[position].strip() if position < len(record) else ""
            if not key or not cell:
                continue
            if key in SECRET_FIELDS:
                inline.append((f"row {number}", key))
                continue
            values[key] = cell
        setups.append(_setup(values, name_column_value=values.pop(header[name_column], ""), where=f"row {number}"))
    if inline:
        raise _inline_secret_error(inline, prefix)
    return setups


def _setup(values: dict[str, Any], *, name_column_value: Any, where: str) -> BatchSetup:
    for key in NAME_KEYS:
        values.pop(key, None)
    name = str(name_column_value).strip() or where
    return BatchSetup(name=name, values=values, where=where)


def _load_toml(text: str, prefix: str) -> list[BatchSetup]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BatchFileError(f"{prefix}not valid TOML: {exc}") from None
    except (RecursionError, ValueError):  # nested deeper than Python's stack; an integer of over 4300 digits
        raise BatchFileError(f"{prefix}not a batch file (nested too deeply, or a number too large)") from None
    other = sorted(k for k in document if k != "setup")
    if other:
        raise BatchFileError(f"{prefix}unexpected top-level key {other[0]!r}: a batch TOML file holds one [[setup]] "
                             "table per setup (name plus setting keys)")
    tables = document.get("setup")
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise BatchFileError(f"{prefix}no [[setup]] tables (write one [[setup]] table per setup: name plus setting "
                             "keys)")
    inline: list[tuple[str, str]] = []
    setups: list[BatchSetup] = []
    for number, table in enumerate(tables, start=1):
        where = f"setup {number}"
        values: dict[str, Any] = {}
        for raw_key, value in table.items():
            key = _normalise_key(raw_key)
            if key in SECRET_FIELDS:
                label = f"{where} ({str(table.get('name', ''))[:60]!r})" if table.get("name") else where
                inline.append((label, key))
                continue
            if isinstance(value, (dict, list)):
                values[key] = "(a table or list)"  # reported as an invalid value of that key
                continue
            values[key] = value
        setups.append(_setup(values, name_column_value=values.get("name", values.get("setup", "")), where=where))
    if inline:
        raise _inline_secret_error(inline, prefix)
    return setups


def load_batch(path_or_bytes: str | Path | bytes, *, name: str = "") -> list[BatchSetup]:
    """Read a batch file (CSV or TOML; a path, or uploaded bytes named `name`); BatchFileError if unusable."""
    text, display = _read_source(path_or_bytes, name)
    prefix = f"{display}: " if display else ""
    if not text.strip():
        raise BatchFileError(f"{prefix}the file is empty")
    is_toml = display.lower().endswith(".toml") or (
        not display.lower().endswith(".csv") and text.lstrip().startswith(("[[setup]]", "#", "[")))
    setups = _load_toml(text, prefix) if is_toml else _load_csv(text, prefix)
    if not setups:
        raise BatchFileError(f"{prefix}no setups in the file")
    if len(setups) > MAX_SETUPS:
        raise BatchFileError(f"{prefix}{len(setups)} setups; at most {MAX_SETUPS} per batch")
    seen: dict[str, str] = {}
    for setup in setups:
        if setup.name in seen:
            raise BatchFileError(f"{prefix}{setup.where}: the name {setup.name[:60]!r} is already used in "
                                 f"{seen[setup.name]}; each setup needs its own name")
        seen[setup.name] = setup.where
    return setups


def load_secrets(path_or_bytes: str | Path | bytes, *, name: str = "") -> dict[str, str]:
    """A secrets mapping NAME -> value from TOML (NAME = "value") or .env lines (NAME=value); values never shown."""
    text, display = _read_source(path_or_bytes, name)
    prefix = f"{display}: " if display else ""
    if not display.lower().endswith(".env"):
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            if display.lower().endswith(".toml"):
                raise BatchFileError(f"{prefix}not valid TOML (write NAME = \"value\" lines)") from None
        else:
            bad = sorted(k for k, v in document.items() if not isinstance(v, (str, int, float)) or isinstance(v, bool))
            if bad:
                raise BatchFileError(f"{prefix}{bad[0]!r} must be a text value (NAME = \"value\")")
            return {str(k): str(v) for k, v in document.items()}
    return _parse_dotenv(text, prefix)


def _parse_dotenv(text: str, prefix: str) -> dict[str, str]:
    secrets: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):].lstrip()
        key, equals, value = line.partition("=")
        key = key.strip()
        if not equals or not key or not (key.replace("_", "a").isalnum() and not key[0].isdigit()):
            raise BatchFileError(f"{prefix}line {number}: expected NAME=value (the value is not shown)")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        secrets[key] = value
    return secrets


def secrets_environ(secrets: Mapping[str, str] | None, environ: Mapping[str, str] | None = None) -> Mapping[str, str]:
    """Where `*_env` references are looked up: the secrets mapping first, then `environ` (None: no environment)."""
    return ChainMap(dict(secrets or {}), dict(environ or {}))
