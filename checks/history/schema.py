"""The history database's tables (SQLAlchemy Core): runs, and the watch's alerts waiting for delivery.

Times are stored as naive UTC. `report` holds the run's JSON report exactly as `python -m checks run --format json`
writes it (compact): the engine masks secrets before a report exists, and facts are never part of it.
A table is created from here only by the migration that introduces it; a later change to a table is a new
migration (see migrations.py), and this module then describes the newest shape.
"""

from __future__ import annotations

import sqlalchemy as sa

SCHEMA_VERSION = 3
NAME_LENGTH = 200  # setup names and labels longer than this are cut when saved

metadata = sa.MetaData()

schema_info = sa.Table(
    "relay_schema", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("version", sa.Integer, nullable=False),
)

runs = sa.Table(
    "runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(64), nullable=False, unique=True),
    sa.Column("setup", sa.String(NAME_LENGTH), nullable=False),
    sa.Column("label", sa.String(NAME_LENGTH), nullable=False, server_default=""),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("port", sa.Integer, nullable=False),
    sa.Column("profile", sa.String(32), nullable=False),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime, nullable=False),
    sa.Column("verdict", sa.String(16), nullable=False),
    sa.Column("problems", sa.String(400), nullable=False, server_default=""),
    sa.Column("causes", sa.Text, nullable=False, server_default="[]"),
    sa.Column("horizons", sa.Text, nullable=False, server_default="{}"),
    sa.Column("user_name", sa.String(NAME_LENGTH), nullable=False, server_default=""),
    sa.Column("source", sa.String(16), nullable=False, server_default=""),
    sa.Column("batch_id", sa.String(64), nullable=False, server_default=""),
    sa.Column("tool_version", sa.String(32), nullable=False, server_default=""),
    sa.Column("report", sa.Text, nullable=False),
    sa.Index("runs_setup_started", "setup", "started_at"),
    sa.Index("runs_host_started", "host", "started_at"),
    sa.Index("runs_started", "started_at"),
    sa.Index("runs_verdict_started", "verdict", "started_at"),
    sa.Index("runs_label", "label"),
)

alerts = sa.Table(
    "alerts", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("setup", sa.String(NAME_LENGTH), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("delivered_at", sa.DateTime, nullable=True),
    sa.Index("alerts_pending", "delivered_at", "id"),
)

run_counters = sa.Table(
    "run_counters", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("counter", sa.String(NAME_LENGTH), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Index("run_counters_counter_at", "counter", "at"),
)

latest_runs = sa.Table(
    "latest_runs", metadata,  # the newest run of each setup, kept on every save: `history --latest` reads 1 row each
    sa.Column("setup", sa.String(NAME_LENGTH), primary_key=True),
    sa.Column("run", sa.Integer, nullable=False),  # runs.id
    sa.Column("started_at", sa.DateTime, nullable=False),
)
