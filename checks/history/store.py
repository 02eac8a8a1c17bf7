"""The run store: save finished runs, list them newest first, find a setup's previous run, keep `keep_days`.

SQLite (one file, WAL journal) by default; PostgreSQL through psycopg 3 for a team console whose replicas
share one history. Every method opens its own short transaction, so one store serves many threads.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url

from checks.history import migrations, schema
from checks.history.location import StoreLocationError, shown, store_url
from checks.history.records import StoredRun, naive_utc, row_of, setup_name, stored_run
from checks.model import RunReport, Verdict

SUMMARY_COLUMNS = tuple(c for c in schema.runs.c if c.name not in ("id", "report"))
MIN_PREFIX = 6  # a run id may be given by its first 6 or more characters
IN_CHUNK = 500  # names per IN (...) list


class StoreError(RuntimeError):
    """The history database cannot be opened or used; the message names it without a password."""


class RunNotFound(LookupError):
    pass


@dataclass(frozen=True)
class RunFilter:
    """What `RunStore.runs` lists: each given field narrows the list."""

    name: str = ""  # part of the setup name or label, any case
    host: str = ""
    verdict: Verdict | None = None
    since: dt.datetime | None = None
    limit: int = 50
    latest: bool = False  # only the newest run of each setup


class RunStore:
    """The history database (create with `open_store`)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------------------------------- writing

    def save(self, report: RunReport, **options: Any) -> StoredRun:
        """Save one finished run (options as records.row_of); the setup's previous run carries its horizons."""
        name = setup_name(report, options.get("setup"))
        previous = self.latest_of([name]).get(name)
        return self.save_many([(report, {**options, "previous": previous})])[0]

    def save_many(self, items: Sequence[tuple[RunReport, Mapping[str, Any]]]) -> list[StoredRun]:
        """Save several runs in one transaction (a batch's chunk): each item is (report, row_of options)."""
        rows = [row_of(report, **options) for report, options in items]
        if rows:
            runs = schema.runs
            with self.engine.begin() as connection:
                saved = connection.execute(runs.insert().returning(runs.c.id, runs.c.setup, runs.c.started_at,
                                                                   sort_by_parameter_order=True), rows).all()
                _keep_latest(connection, saved)
        return [stored_run(row) for row in rows]

    def prune(self, keep_days: int, *, now: dt.datetime | None = None) -> int:
        """Delete runs older than `keep_days` (0 keeps everything); returns how many went."""
        if keep_days <= 0:
            return 0
        cutoff = naive_utc(now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=keep_days)
        with self.engine.begin() as connection:
            gone = connection.execute(schema.runs.delete().where(schema.runs.c.started_at < cutoff)).rowcount
            latest = schema.latest_runs
            connection.execute(latest.delete().where(latest.c.run.not_in(sa.select(schema.runs.c.id))))
            connection.execute(schema.alerts.delete().where(schema.alerts.c.created_at < cutoff))
        return int(gone or 0)

    # ------------------------------------------------------------------------------------------- reading

    def runs(self, query: RunFilter = RunFilter()) -> list[StoredRun]:
        """Stored runs, newest first, without their reports."""
        runs = schema.runs
        statement = sa.select(*SUMMARY_COLUMNS)
        if query.latest:
            statement = statement.join(schema.latest_runs, runs.c.id == schema.latest_runs.c.run)
        if query.name:
            pattern = f"%{_escape_like(query.name.strip().lower())}%"
            statement = statement.where(sa.or_(sa.func.lower(runs.c.setup).like(pattern, escape="\\"),
                                               sa.func.lower(runs.c.label).like(pattern, escape="\\")))
        if query.host:
            statement = statement.where(sa.func.lower(runs.c.host) == query.host.strip().lower())
        if query.verdict is not None:
            statement = statement.where(runs.c.verdict == str(query.verdict))
        if query.since is not None:
            statement = statement.where(runs.c.started_at >= naive_utc(query.since))
        statement = statement.order_by(runs.c.started_at.desc(), runs.c.id.desc())
        if query.limit:
            statement = statement.limit(query.limit)
        with self.engine.connect() as connection:
            return [stored_run(row._mapping) for row in connection.execute(statement)]

    def get(self, run_id: str) -> StoredRun:
        """One run with its report, by its id or a unique prefix of at least 6 characters."""
        text = (run_id or "").strip()
        runs = schema.runs
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(runs).where(runs.c.run_id == text)).all()
            if not rows and len(text) >= MIN_PREFIX:
                rows = connection.execute(sa.select(runs).where(
                    runs.c.run_id.like(f"{_escape_like(text)}%", escape="\\")).limit(2)).all()
        if len(rows) != 1:
            why = "is not in the history" if not rows else "matches more than one run: give more characters"
            raise RunNotFound(f"run {text[:64]!r} {why}")
        return stored_run(rows[0]._mapping)

    def latest_of(self, setups: Iterable[str]) -> dict[str, StoredRun]:
        """The newest stored run of each named setup (those with none are left out)."""
        names = list(dict.fromkeys(setups))
        latest = schema.latest_runs
        found: dict[str, StoredRun] = {}
        with self.engine.connect() as connection:
            for start in range(0, len(names), IN_CHUNK):
                statement = (sa.select(*SUMMARY_COLUMNS).join(latest, schema.runs.c.id == latest.c.run)
                             .where(latest.c.setup.in_(names[start:start + IN_CHUNK])))
                for row in connection.execute(statement):
                    found[row.setup] = stored_run(row._mapping)
        return found

    # ------------------------------------------------------------------------------------- watch alerts

    def add_alerts(self, alerts: Iterable[Mapping[str, Any]], *, now: dt.datetime | None = None) -> None:
        """Keep alerts for delivery (each: run_id, setup, kind, payload dict)."""
        moment = naive_utc(now or dt.datetime.now(dt.UTC))
        rows = [{"run_id": a["run_id"], "setup": a["setup"][:schema.NAME_LENGTH], "kind": a["kind"],
                 "created_at": moment, "payload": json.dumps(a["payload"], ensure_ascii=False), "attempts": 0}
                for a in alerts]
        if rows:
            with self.engine.begin() as connection:
                connection.execute(schema.alerts.insert(), rows)

    def pending_alerts(self, limit: int = 500) -> list[tuple[int, dict[str, Any]]]:
        """Alerts not yet delivered, oldest first: (alert id, payload)."""
        alerts = schema.alerts
        statement = (sa.select(alerts.c.id, alerts.c.payload).where(alerts.c.delivered_at.is_(None))
                     .order_by(alerts.c.id).limit(limit))
        with self.engine.connect() as connection:
            return [(row.id, json.loads(row.payload)) for row in connection.execute(statement)]

    def mark_alerts(self, ids: Sequence[int], *, delivered: bool, now: dt.datetime | None = None) -> None:
        """Record a delivery attempt for these alerts (delivered or not)."""
        if not ids:
            return
        alerts = schema.alerts
        values: dict[str, Any] = {"attempts": alerts.c.attempts + 1}
        if delivered:
            values["delivered_at"] = naive_utc(now or dt.datetime.now(dt.UTC))
        with self.engine.begin() as connection:
            connection.execute(alerts.update().where(alerts.c.id.in_(list(ids))).values(**values))

    # ----------------------------------------------------------------------------------- hosting counter

    def take_runs(self, counters: Sequence[str], *, count: int, limit: int, window: dt.timedelta,
                  now: dt.datetime | None = None) -> float | None:
        """Record `count` runs for every counter and return None, or (recording nothing) the seconds until
        enough runs of the `window` have aged out. Every console replica on this database shares the counts."""
        table = schema.run_counters
        moment = naive_utc(now or dt.datetime.now(dt.UTC))
        keys = [c[:schema.NAME_LENGTH] for c in counters]
        with self.engine.connect() as connection:
            connection = connection.execution_options(immediate=True)
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    connection.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"),
                                       {"id": migrations.ADVISORY_LOCK_ID + 1})
                connection.execute(table.delete().where(table.c.at <= moment - window))
                for key in keys:
                    times = connection.execute(sa.select(table.c.at).where(table.c.counter == key)
                                               .order_by(table.c.at)).scalars().all()
                    if len(times) + count > limit:
                        if count > limit or not times:
                            return window.total_seconds()
                        return (window - (moment - times[len(times) + count - limit - 1])).total_seconds()
                connection.execute(table.insert(), [{"counter": key, "at": moment} for key in keys
                                                    for _ in range(count)])
        return None


def _keep_latest(connection: sa.Connection, saved: Sequence[Any]) -> None:
    """Point each setup's `latest_runs` row at the newest of the runs just saved, unless a newer one is there."""
    newest: dict[str, Any] = {}
    for row in saved:
        if row.setup not in newest or row.started_at >= newest[row.setup].started_at:
            newest[row.setup] = row
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert  # the dialect in use: its upsert (ON CONFLICT)
    else:
        from sqlalchemy.dialects.sqlite import insert  # the dialect in use: its upsert (ON CONFLICT)
    latest = schema.latest_runs
    statement = insert(latest)
    statement = statement.on_conflict_do_update(
        index_elements=[latest.c.setup], set_={"run": statement.excluded.run,
                                               "started_at": statement.excluded.started_at},
        where=latest.c.started_at <= statement.excluded.started_at)
    connection.execute(statement, [{"setup": r.setup, "run": r.id, "started_at": r.started_at}
                                   for r in newest.values()])


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _sqlite_engine(url: str) -> sa.Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        path = Path(database)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not path.exists():
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's `begin` below says BEGIN, not pysqlite
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        immediate = connection.get_execution_options().get("immediate")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def open_store(url: str | None = None, *, environ: Mapping[str, str] | None = None) -> RunStore:
    """Open (creating or upgrading as needed) the history at `url` (see location.store_url)."""
    resolved = store_url(url, environ=environ)
    try:
        if resolved.startswith("sqlite"):
            engine = _sqlite_engine(resolved)
        else:
            engine = sa.create_engine(resolved, pool_pre_ping=True, connect_args={"connect_timeout": 10})
        migrations.upgrade(engine)
    except migrations.SchemaTooNew as exc:
        raise StoreError(f"{shown(resolved)}: {exc}") from None
    except (StoreLocationError, OSError) as exc:
        raise StoreError(f"cannot open the history at {shown(resolved)}: {exc}") from None
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
        raise StoreError(f"cannot open the history at {shown(resolved)}: {reason}") from None
    except ImportError as exc:
        raise StoreError(f"cannot open the history at {shown(resolved)}: {exc.name} is not installed") from None
    return RunStore(engine)
