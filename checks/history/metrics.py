"""Prometheus metrics for node_exporter's textfile collector: each watched setup's state after a cycle."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from checks.history.horizons import days_until
from checks.history.records import StoredRun
from checks.model import RunReport, Verdict

PREFIX = "relay_console"


class _Cycle:
    """A prometheus_client collector over one cycle's runs (metric families built once, no per-label objects)."""

    def __init__(self, runs: Iterable[tuple[StoredRun, RunReport]], today: dt.date) -> None:
        self.runs, self.today = list(runs), today

    def collect(self) -> Iterator[Any]:
        # lazy: prometheus_client loads only when `watch --metrics-file` writes metrics
        from prometheus_client.core import GaugeMetricFamily

        verdict = GaugeMetricFamily(f"{PREFIX}_verdict", "1 for the setup's verdict in its last run, 0 for the others",
                                    labels=["setup", "host", "verdict"])
        problems = GaugeMetricFamily(f"{PREFIX}_problems", "Checks that failed or broke in the setup's last run",
                                     labels=["setup"])
        status = GaugeMetricFamily(f"{PREFIX}_check_status", "1 for each check's status in the setup's last run",
                                   labels=["setup", "check", "status"])
        horizon = GaugeMetricFamily(f"{PREFIX}_horizon_days",
                                    "Days until a date that will break the setup (negative: past)",
                                    labels=["setup", "horizon", "date"])
        last_run = GaugeMetricFamily(f"{PREFIX}_last_run_timestamp_seconds",
                                     "When the setup's last run started (Unix time)", labels=["setup"])
        for stored, report in self.runs:
            for value in Verdict:
                verdict.add_metric([stored.setup, stored.host, str(value)], 1 if stored.verdict is value else 0)
            problems.add_metric([stored.setup], len(stored.problems))
            for result in report.results:
                status.add_metric([stored.setup, str(result.check_id), str(result.status)], 1)
            for kind, when in sorted(stored.horizons.items()):
                horizon.add_metric([stored.setup, str(kind), when.isoformat()], days_until(when, self.today))
            last_run.add_metric([stored.setup], stored.started_at.timestamp())
        yield from (verdict, problems, status, horizon, last_run)


def registry_for(runs: Iterable[tuple[StoredRun, RunReport]], *, today: dt.date | None = None) -> Any:
    """A prometheus_client registry describing each (stored run, its report) pair."""
    # lazy: prometheus_client loads only when `watch --metrics-file` writes metrics
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Cycle(runs, today or dt.datetime.now(dt.UTC).date()))
    return registry


def write_metrics(path: str | Path, runs: Iterable[tuple[StoredRun, RunReport]], *,
                  today: dt.date | None = None) -> None:
    """Write the text-format file atomically (a temporary file renamed over it), as the collector expects."""
    # lazy: prometheus_client loads only when `watch --metrics-file` writes metrics
    from prometheus_client import write_to_textfile

    write_to_textfile(str(path), registry_for(runs, today=today))
