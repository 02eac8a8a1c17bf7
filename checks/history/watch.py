"""One watch cycle: check every setup of a batch file, save each run, alert on what changed, write metrics.

Runs are saved while the batch goes on (in chunks, one transaction each), so an interrupt or a failed webhook
never loses a finished run. Alerts for a webhook are stored first and marked delivered only after a POST
succeeded; undelivered ones go again with the next cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checks.batch.file import BatchSetup
from checks.batch.run import DEFAULT_JOBS, BatchReport
from checks.history.alerts import Alert, alerts_for
from checks.history.metrics import write_metrics
from checks.history.records import Source, StoredRun
from checks.history.saving import save_batch
from checks.history.store import RunStore
from checks.history.webhook import Delivery, deliver


@dataclass(frozen=True)
class CycleResult:
    """What one cycle did: the batch, the runs saved, the alerts raised, the webhook's delivery."""

    batch: BatchReport
    saved: tuple[StoredRun, ...]
    alerts: tuple[Alert, ...]
    delivery: Delivery | None = None
    pending: int = 0  # alerts still waiting for the webhook after this cycle
    pruned: int = 0  # old runs deleted (keep_days)


def run_cycle(store: RunStore, setups: Sequence[BatchSetup], *, environ: Mapping[str, str],
              jobs: int = DEFAULT_JOBS, processes: int = 1, webhook_url: str | None = None,
              metrics_file: str | Path | None = None,
              keep_days: int = 0, user: str = "", hide: Sequence[str] = (), observer: Any = None,
              deps: Any = None, send: Callable[..., Delivery] = deliver) -> CycleResult:
    """Check, save, compare with each setup's previous run, alert, write metrics (see the module docstring)."""
    batch, saved, previous = save_batch(store, setups, source=Source.WATCH, user=user, hide=hide, observer=observer,
                                        environ=environ, jobs=jobs, processes=processes, deps=deps)
    raised = [alert for run in saved for alert in alerts_for(previous.get(run.setup), run)]
    delivery, pending = None, 0
    if webhook_url:
        store.add_alerts({"run_id": a.run_id, "setup": a.setup, "kind": str(a.kind), "payload": a.payload()}
                         for a in raised)
        waiting = store.pending_alerts()
        if waiting:
            delivery = send(webhook_url, [payload for _, payload in waiting])
            store.mark_alerts([alert_id for alert_id, _ in waiting], delivered=delivery.delivered)
            pending = 0 if delivery.delivered else len(waiting)
    if metrics_file:
        reports = {o.name: o.report for o in batch.outcomes}
        write_metrics(metrics_file, [(run, reports[run.setup]) for run in saved if run.setup in reports])
    pruned = store.prune(keep_days) if keep_days else 0
    return CycleResult(batch, tuple(saved), tuple(raised), delivery, pending, pruned)

