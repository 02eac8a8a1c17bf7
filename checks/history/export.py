"""History listings and comparisons as text: a terminal table, JSON or CSV (cells neutralised as in reports)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from checks.history.horizons import encode
from checks.history.records import StoredRun
from checks.model import RunReport
from checks.report.compare import compare, summarise_changes
from checks.report.export import CSV_LINE_END, neutralise, run_summary
from checks.report.table import safe_text

HISTORY_COLUMNS = ("run_id", "started_at", "setup", "label", "host", "port", "profile", "verdict", "problems",
                   "causes", "horizons", "user", "source", "batch_id", "tool_version")
TABLE_COLUMNS = (("Started (UTC)", 16), ("Run", 12), ("Setup", 24), ("Label", 16), ("Host", 24), ("Verdict", 10),
                 ("Problems", 0))


def history_dict(run: StoredRun) -> dict[str, Any]:
    """One listed run (HISTORY_COLUMNS; lists and dates as JSON values)."""
    return {
        "run_id": run.run_id, "started_at": run.started_at.isoformat(timespec="seconds"), "setup": run.setup,
        "label": run.label, "host": run.host, "port": run.port, "profile": run.profile, "verdict": str(run.verdict),
        "problems": list(run.problems), "causes": list(run.causes), "horizons": encode(run.horizons),
        "user": run.user, "source": run.source, "batch_id": run.batch_id, "tool_version": run.tool_version,
    }


def history_json(runs: Sequence[StoredRun]) -> str:
    return json.dumps({"runs": [history_dict(r) for r in runs]}, ensure_ascii=False, indent=2) + "\n"


def history_csv(runs: Sequence[StoredRun]) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator=CSV_LINE_END)
    writer.writerow(HISTORY_COLUMNS)
    for run in runs:
        row = history_dict(run)
        row.update(problems=", ".join(run.problems), causes=", ".join(run.causes),
                   horizons=", ".join(f"{k} {v}" for k, v in row["horizons"].items()))
        writer.writerow([row[c] if c == "port" else neutralise(str(row[c])) for c in HISTORY_COLUMNS])
    return buffer.getvalue()


def _cell(text: str, width: int) -> str:
    text = safe_text(str(text)).replace("\n", " ")
    if width and len(text) > width:
        text = text[: width - 1] + "…"
    return text.ljust(width) if width else text


def history_table(runs: Sequence[StoredRun]) -> str:
    if not runs:
        return "No runs in the history match.\n"
    lines = ["  ".join(_cell(title, width) for title, width in TABLE_COLUMNS).rstrip()]
    for run in runs:
        values = (run.started_at.strftime("%Y-%m-%d %H:%M"), run.run_id, run.setup, run.label, run.host,
                  str(run.verdict), ", ".join(run.causes or run.problems))
        lines.append("  ".join(_cell(v, w) for v, (_, w) in zip(values, TABLE_COLUMNS, strict=True)).rstrip())
    return "\n".join(lines) + "\n"


def comparison(before: RunReport, after: RunReport) -> dict[str, Any]:
    """Per-check before/after of two runs (the console's comparison), as plain values."""
    changes = compare(before, after)
    return {
        "before": run_summary(before), "after": run_summary(after), "counts": summarise_changes(changes),
        "changes": [{"check_id": str(c.check_id), "title": c.title, "kind": c.kind,
                     "before": str(c.before_status or ""), "after": str(c.after_status or ""),
                     "before_summary": c.before_summary, "after_summary": c.after_summary} for c in changes],
    }


def comparison_table(before: RunReport, after: RunReport) -> str:
    document = comparison(before, after)
    counts = ", ".join(f"{n} {k}" for k, n in document["counts"].items() if n) or "nothing to compare"
    lines = [f"{before.run_id} ({before.started_at:%Y-%m-%d %H:%M}, {before.verdict}) -> "
             f"{after.run_id} ({after.started_at:%Y-%m-%d %H:%M}, {after.verdict}): {counts}", ""]
    for change in document["changes"]:
        now = change["after_summary"] or change["before_summary"]
        lines.append(f"{_cell(change['kind'], 8)}  {_cell(change['check_id'], 20)}  "
                     f"{_cell(change['before'] or '-', 6)} -> {_cell(change['after'] or '-', 6)}  {_cell(now, 0)}")
    return "\n".join(lines) + "\n"
