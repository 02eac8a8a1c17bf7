"""What the watch says about a new run compared with the setup's previous one: broke, recovered, a new cause,
a horizon date entering its warning window (said once, not on every run)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from checks.history.horizons import TITLES, WARNING_DAYS, Horizon, days_until, in_window
from checks.history.records import StoredRun
from checks.model import Verdict


class AlertKind(StrEnum):
    BROKE = "broke"  # now has problems (or a new setup that starts with problems)
    RECOVERED = "recovered"  # had problems, has none now
    VERDICT = "verdict"  # ready <-> incomplete
    NEW_CAUSE = "new_cause"  # still has problems, and one of them is new
    HORIZON = "horizon"  # a date that will break the setup entered its warning window


@dataclass(frozen=True)
class Alert:
    kind: AlertKind
    setup: str
    run_id: str
    host: str
    verdict: Verdict
    previous_verdict: Verdict | None = None
    causes: tuple[str, ...] = ()
    new_causes: tuple[str, ...] = ()
    horizon: Horizon | None = None
    date: dt.date | None = None
    days: int | None = None
    text: str = field(default="", compare=False)

    def payload(self) -> dict[str, Any]:
        """The alert's structured fields (JSON)."""
        return {
            "kind": str(self.kind), "setup": self.setup, "run_id": self.run_id, "host": self.host,
            "verdict": str(self.verdict), "previous_verdict": str(self.previous_verdict or "") or None,
            "causes": list(self.causes), "new_causes": list(self.new_causes),
            "horizon": str(self.horizon) if self.horizon else None,
            "date": self.date.isoformat() if self.date else None, "days": self.days, "text": self.text,
        }


def _text(alert: Alert) -> str:
    causes = f": {', '.join(alert.causes)}" if alert.causes else ""
    if alert.kind is AlertKind.BROKE:
        before = f"was {alert.previous_verdict}" if alert.previous_verdict else "first run"
        return f"BROKE {alert.setup} ({alert.host}): {alert.verdict} ({before}){causes} [run {alert.run_id}]"
    if alert.kind is AlertKind.RECOVERED:
        return f"RECOVERED {alert.setup} ({alert.host}): {alert.verdict} again [run {alert.run_id}]"
    if alert.kind is AlertKind.VERDICT:
        return f"CHANGED {alert.setup} ({alert.host}): {alert.previous_verdict} -> {alert.verdict} [run {alert.run_id}]"
    if alert.kind is AlertKind.NEW_CAUSE:
        return (f"NEW CAUSE {alert.setup} ({alert.host}): {', '.join(alert.new_causes)} "
                f"(still failing{causes}) [run {alert.run_id}]")
    assert alert.horizon is not None and alert.date is not None and alert.days is not None
    when = f"in {alert.days} days" if alert.days >= 0 else f"{-alert.days} days ago"
    return (f"HORIZON {alert.setup} ({alert.host}): {TITLES[alert.horizon]} on {alert.date} ({when}) "
            f"[run {alert.run_id}]")


def _alert(**fields: Any) -> Alert:
    alert = Alert(**fields)
    return Alert(**{**fields, "text": _text(alert)})


def _verdict_alerts(previous: StoredRun | None, new: StoredRun) -> list[Alert]:
    common = {"setup": new.setup, "run_id": new.run_id, "host": new.host, "verdict": new.verdict,
              "previous_verdict": previous.verdict if previous else None, "causes": new.causes}
    problems = Verdict.PROBLEMS
    if previous is None:
        return [_alert(kind=AlertKind.BROKE, **common)] if new.verdict is problems else []
    if previous.verdict is not problems and new.verdict is problems:
        return [_alert(kind=AlertKind.BROKE, **common)]
    if previous.verdict is problems and new.verdict is not problems:
        return [_alert(kind=AlertKind.RECOVERED, **common)]
    if previous.verdict is not new.verdict:
        return [_alert(kind=AlertKind.VERDICT, **common)]
    fresh = tuple(c for c in new.causes if c not in previous.causes)
    if new.verdict is problems and fresh:
        return [_alert(kind=AlertKind.NEW_CAUSE, new_causes=fresh, **common)]
    return []


def _horizon_alerts(previous: StoredRun | None, new: StoredRun) -> list[Alert]:
    today = new.started_at.date()
    out = []
    for kind, when in sorted(new.horizons.items()):
        if not in_window(kind, when, today):
            continue
        said = (previous is not None and previous.horizons.get(kind) == when
                and in_window(kind, when, previous.started_at.date()))
        if not said:
            out.append(_alert(kind=AlertKind.HORIZON, setup=new.setup, run_id=new.run_id, host=new.host,
                              verdict=new.verdict, horizon=kind, date=when, days=days_until(when, today)))
    return out


def alerts_for(previous: StoredRun | None, new: StoredRun) -> list[Alert]:
    """Every alert `new` raises against the setup's previous stored run (None: its first run)."""
    return _verdict_alerts(previous, new) + _horizon_alerts(previous, new)


__all__ = ["WARNING_DAYS", "Alert", "AlertKind", "alerts_for"]
