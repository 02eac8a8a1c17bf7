"""Where the history lives: --db, else RELAY_CONSOLE_DB, else an SQLite file in the user's data folder."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

DB_ENV = "RELAY_CONSOLE_DB"
KEEP_DAYS_ENV = "RELAY_CONSOLE_KEEP_DAYS"
DEFAULT_KEEP_DAYS = 365
OFF = ("off", "none", "no")  # RELAY_CONSOLE_DB=off: the console keeps no history
APP_NAME = "relay-console"
FILE_NAME = "history.sqlite3"


class StoreLocationError(ValueError):
    """A database URL or retention setting that cannot be used; the message never holds a password."""


def default_path() -> Path:
    """The SQLite file in the user's data folder (platformdirs), e.g. ~/.local/share/relay-console/."""
    # lazy: the history store's libraries load only when runs are saved or read
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False) / FILE_NAME


def history_disabled(environ: Mapping[str, str] | None = None) -> bool:
    return (os.environ if environ is None else environ).get(DB_ENV, "").strip().lower() in OFF


def store_url(explicit: str | None = None, *, environ: Mapping[str, str] | None = None) -> str:
    """The SQLAlchemy URL to use: `explicit` (--db), $RELAY_CONSOLE_DB, or the default SQLite file.

    A bare path is an SQLite file; postgresql:// and postgres:// URLs use psycopg 3.
    """
    environ = os.environ if environ is None else environ
    text = (explicit or environ.get(DB_ENV, "") or "").strip()
    if text.lower() in OFF:
        raise StoreLocationError(f"{DB_ENV} is '{text}': history is turned off")
    if not text:
        return f"sqlite:///{default_path()}"
    scheme, sep, rest = text.partition("://")
    scheme = scheme.lower()
    if not sep:
        return f"sqlite:///{Path(text).expanduser().resolve()}"
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        return f"postgresql+psycopg://{rest}"
    if scheme == "sqlite":
        return text
    raise StoreLocationError(f"database URL: use sqlite:///PATH or postgresql://USER@HOST/DB (got a {scheme}:// URL)")


def shown(url: str) -> str:
    """The URL with any password hidden (for messages)."""
    # lazy: SQLAlchemy loads only when runs are saved or read
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is not shown at all
        return "(the database URL)"


def keep_days(value: str | int | None = None, *, environ: Mapping[str, str] | None = None) -> int:
    """Retention in days (--keep-days, else $RELAY_CONSOLE_KEEP_DAYS, else 365); 0 keeps every run."""
    environ = os.environ if environ is None else environ
    raw = value if value is not None else environ.get(KEEP_DAYS_ENV, "")
    if raw in ("", None):
        return DEFAULT_KEEP_DAYS
    try:
        days = int(str(raw).strip())
    except ValueError:
        raise StoreLocationError(f"keep_days: {str(raw)[:20]!r} is not a whole number of days") from None
    if not 0 <= days <= 36500:
        raise StoreLocationError("keep_days: must be from 0 (keep every run) to 36500 days")
    return days
