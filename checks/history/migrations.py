"""Schema versions and the steps between them: a database from an older version opens in a newer one.

Each step runs in the upgrade's one transaction, so a failed upgrade leaves the database as it was. Two
processes upgrading the same PostgreSQL database wait for each other (an advisory lock); SQLite takes its
write lock first. A database newer than this code is refused rather than guessed at.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from checks.history import schema

ADVISORY_LOCK_ID = 0x52454C4159  # "RELAY": one lock number for every relay console sharing a database


class SchemaTooNew(RuntimeError):
    """The database was written by a newer version of the console."""


def _create_runs(connection: sa.Connection) -> None:
    schema.runs.create(connection)


def _create_alerts_and_counters(connection: sa.Connection) -> None:
    schema.alerts.create(connection)
    schema.run_counters.create(connection)


def _create_latest_runs(connection: sa.Connection) -> None:
    schema.latest_runs.create(connection)
    runs = schema.runs
    newest = (sa.select(runs.c.setup, sa.func.max(runs.c.started_at).label("newest"))
              .group_by(runs.c.setup).subquery())
    rows = (sa.select(runs.c.setup, sa.func.max(runs.c.id), runs.c.started_at)
            .join(newest, sa.and_(runs.c.setup == newest.c.setup, runs.c.started_at == newest.c.newest))
            .group_by(runs.c.setup, runs.c.started_at))
    connection.execute(schema.latest_runs.insert().from_select(["setup", "run", "started_at"], rows))


MIGRATIONS: tuple[tuple[int, str, Callable[[sa.Connection], None]], ...] = (
    (1, "runs", _create_runs),
    (2, "watch alerts waiting for delivery; hosting run counters", _create_alerts_and_counters),
    (3, "the newest run of each setup, filled from the runs already stored", _create_latest_runs),
)
assert MIGRATIONS[-1][0] == schema.SCHEMA_VERSION


def current_version(connection: sa.Connection) -> int:
    """The database's schema version (0 for an empty database)."""
    if not sa.inspect(connection).has_table(schema.schema_info.name):
        return 0
    return int(connection.execute(sa.select(schema.schema_info.c.version)).scalar() or 0)


def _lock(connection: sa.Connection) -> None:
    """Keep other processes out of the upgrade (SQLite: the transaction began IMMEDIATE, see store.py)."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": ADVISORY_LOCK_ID})


def upgrade(engine: sa.Engine, *, target: int = schema.SCHEMA_VERSION) -> int:
    """Bring the database to `target` (default: this code's version); returns the version it had before."""
    with engine.connect() as connection:
        connection = connection.execution_options(immediate=True)
        with connection.begin():
            _lock(connection)
            before = current_version(connection)
            if before > schema.SCHEMA_VERSION:
                raise SchemaTooNew(f"the history database has schema version {before}; this relay console knows "
                                   f"up to {schema.SCHEMA_VERSION}: update the console")
            if before >= target:
                return before
            if before == 0:
                schema.schema_info.create(connection)
                connection.execute(schema.schema_info.insert().values(id=1, version=0))
            for version, _, step in MIGRATIONS:
                if before < version <= target:
                    step(connection)
            connection.execute(schema.schema_info.update().values(version=target))
    return before
