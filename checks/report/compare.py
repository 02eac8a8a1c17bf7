"""Before/after comparison of two runs of the same setup (a customer's report against a new run)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from checks.model import CheckId, RunReport, Status


@dataclass(frozen=True)
class Change:
    """How one check's outcome moved between two runs (for a side-by-side view)."""

    check_id: CheckId
    title: str
    before_status: Status | None
    after_status: Status | None
    kind: str  # "fixed", "broke", "changed", "same", "added", "removed"
    before_summary: str = ""
    after_summary: str = ""


def _kind(before: Status, after: Status) -> str:
    bad = (Status.FAIL, Status.ERROR)
    if before is after:
        return "same"
    if before in bad and after in (Status.PASS, Status.WARN):
        return "fixed"
    if after in bad and before not in bad:
        return "broke"
    return "changed"


def compare(before: RunReport, after: RunReport) -> list[Change]:
    """Each check of either run with how its status moved, in checklist order."""
    old = {r.check_id: r for r in before.results}
    new = {r.check_id: r for r in after.results}
    changes = []
    for check_id in sorted(set(old) | set(new), key=list(CheckId).index):
        a, b = old.get(check_id), new.get(check_id)
        if a is None and b is not None:
            changes.append(Change(check_id, b.title, None, b.status, "added", "", b.summary))
        elif b is None and a is not None:
            changes.append(Change(check_id, a.title, a.status, None, "removed", a.summary, ""))
        elif a is not None and b is not None:
            changes.append(Change(check_id, b.title or a.title, a.status, b.status, _kind(a.status, b.status),
                                  a.summary, b.summary))
    return changes


def summarise_changes(changes: Iterable[Change]) -> dict[str, int]:
    """How many checks of each kind ('fixed': 2, 'broke': 0, ...)."""
    counts = dict.fromkeys(("fixed", "broke", "changed", "same", "added", "removed"), 0)
    for change in changes:
        counts[change.kind] += 1
    return counts
