"""Prometheus metrics for node_exporter's textfile collector: each watched setup's state after a cycle."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from checks.history.horizons import days_until
from checks.history.records import StoredRun
from checks.model import RunReport, Verdict

PREFIX = "relay_console"


def registry_for(runs: Iterable[tuple[StoredRun, RunReport]], *, today: dt.date | None = None):
    """A prometheus_client registry describing each (stored run, its report) pair."""
    from prometheus_client import CollectorRegistry, Gauge

    today = today or dt.datetime.now(dt.UTC).date()
    registry = CollectorRegistry(auto_describe=True)
    verdict = Gauge(f"{PREFIX}_verdict", "1 for the setup's verdict in its last run, 0 for the others",
                    ["setup", "host", "verdict"], registry=registry)
    problems = Gauge(f"{PREFIX}_problems", "Checks that failed or broke in the setup's last run",
                     ["setup"], registry=registry)
    status = Gauge(f"{PREFIX}_check_status", "1 for each check's status in the setup's last run",
                   ["setup", "check", "status"], registry=registry)
    horizon = Gauge(f"{PREFIX}_horizon_days", "Days until a date that will break the setup (negative: past)",
                    ["setup", "horizon", "date"], registry=registry)
    last_run = Gauge(f"{PREFIX}_last_run_timestamp_seconds", "When the setup's last run started (Unix time)",
                     ["setup"], registry=registry)
    for stored, report in runs:
        for value in Verdict:
            verdict.labels(stored.setup, stored.host, str(value)).set(1 if stored.verdict is value else 0)
        problems.labels(stored.setup).set(len(stored.problems))
        for result in report.results:
            status.labels(stored.setup, str(result.check_id), str(result.status)).set(1)
        for kind, when in sorted(stored.horizons.items()):
            horizon.labels(stored.setup, str(kind), when.isoformat()).set(days_until(when, today))
        last_run.labels(stored.setup).set(stored.started_at.timestamp())
    return registry


def write_metrics(path: str | Path, runs: Iterable[tuple[StoredRun, RunReport]], *,
                  today: dt.date | None = None) -> None:
    """Write the text-format file atomically (a temporary file renamed over it), as the collector expects."""
    from prometheus_client import write_to_textfile

    write_to_textfile(str(path), registry_for(runs, today=today))
