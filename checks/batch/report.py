"""The combined batch report: one row per setup and check plus a summary per setup, in CSV and JSON."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from checks import __version__
from checks.batch.run import (
    BATCH_COLUMNS,
    SUMMARY_COLUMNS,
    SUMMARY_TITLE,
    BatchReport,
    SetupOutcome,
    SetupState,
)
from checks.model import CheckId, RunReport, Status, Verdict
from checks.report.export import (
    SUMMARY_CHECK_ID,
    csv_text,
    result_dict,
    rows,
    run_summary,
    verdict_line,
)
from checks.report.markdown import batch_verdict_line as batch_verdict_line  # kept where its callers know it
from checks.safe_text import visible


def _counts(report: RunReport) -> Counter:
    return Counter(str(r.status) for r in report.results)


def summary_rows(batch: BatchReport) -> list[dict[str, Any]]:
    """One plain dict per finished setup (SUMMARY_COLUMNS): verdict, counts by status, the problem check ids."""
    out = []
    for outcome in batch.outcomes:
        report, counts = outcome.report, _counts(outcome.report)
        out.append({
            "setup": visible(outcome.name), "state": str(outcome.state), "verdict": str(report.verdict),
            "profile": visible(report.profile), "host": visible(report.host), "port": int(report.port),
            **{s.value: counts.get(s.value, 0) for s in Status},
            "problems": ", ".join(str(r.check_id) for r in report.problems),
            "duration_ms": outcome.duration_ms, "run_id": report.run_id,
        })
    return out


def problem_counts(batch: BatchReport) -> dict[str, int]:
    """How many setups each check failed or broke in, most first (for a 'which checks fail most' chart)."""
    counts: Counter = Counter()
    for outcome in batch.outcomes:
        counts.update(str(r.check_id) for r in outcome.report.problems)
    order = {c.value: i for i, c in enumerate(CheckId)}
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], order.get(kv[0], 99))))


def _worst(report: RunReport) -> Status:
    statuses = {r.status for r in report.results}
    for status in (Status.ERROR, Status.FAIL, Status.WARN, Status.PASS):
        if status in statuses:
            return status
    return Status.SKIP


def _summary_row(outcome: SetupOutcome) -> dict[str, Any]:
    report, counts = outcome.report, _counts(outcome.report)
    problems = ", ".join(str(r.check_id) for r in report.problems)
    return {
        "run_id": report.run_id, "started_at": report.started_at.isoformat(timespec="seconds"),
        "profile": visible(report.profile), "host": visible(report.host), "port": int(report.port),
        "sender": visible(report.sender),
        "check_id": SUMMARY_CHECK_ID, "title": SUMMARY_TITLE, "status": str(_worst(report)),
        "summary": verdict_line(report) + (f": {problems}" if problems else ""),
        "details": ", ".join(f"{s.value} {counts.get(s.value, 0)}" for s in Status)
                   + ("" if outcome.state is SetupState.DONE else f" (setup {outcome.state})"),
        "remediation": "", "guide_section": "", "duration_ms": outcome.duration_ms,
    }


def batch_rows(batch: BatchReport, *, include_summary: bool = True) -> list[dict[str, Any]]:
    """One dict per setup and check (BATCH_COLUMNS), then each setup's summary row (check_id 'summary')."""
    out = []
    for outcome in batch.outcomes:
        out.extend({"setup": visible(outcome.name), **row} for row in rows(outcome.report))
        if include_summary:
            out.append({"setup": visible(outcome.name), **_summary_row(outcome)})
    return out


def batch_to_csv(batch: BatchReport, *, include_summary: bool = True, bom: bool = False) -> str:
    """The batch CSV: the report's columns with a leading `setup` column; formula-like cells neutralised."""
    return csv_text(BATCH_COLUMNS, batch_rows(batch, include_summary=include_summary), bom=bom)


def summary_to_csv(batch: BatchReport) -> str:
    """The summary table (SUMMARY_COLUMNS) as CSV, one row per setup."""
    return csv_text(SUMMARY_COLUMNS, summary_rows(batch))


def batch_to_json(batch: BatchReport) -> str:
    """{"batch": {...}, "setups": [{"setup", "state", "summary", "run", "results"}]} (each entry a report)."""
    setups = []
    for outcome, row in zip(batch.outcomes, summary_rows(batch), strict=True):
        summary = {k: v for k, v in row.items() if k not in ("setup", "run_id")}
        setups.append({"setup": visible(outcome.name), "state": str(outcome.state), "summary": summary,
                       "run": run_summary(outcome.report),
                       "results": [result_dict(r) for r in outcome.report.results]})
    verdicts = Counter(str(o.verdict) for o in batch.outcomes)
    document = {
        "batch": {"id": batch.batch_id, "started_at": batch.started_at.isoformat(),
                  "finished_at": batch.finished_at.isoformat(), "tool_version": __version__, "jobs": batch.jobs,
                  "setups": len(batch.outcomes) + len(batch.not_run), "finished": len(batch.outcomes),
                  "ready": verdicts.get(str(Verdict.READY), 0), "problems": verdicts.get(str(Verdict.PROBLEMS), 0),
                  "incomplete": verdicts.get(str(Verdict.INCOMPLETE), 0),
                  "interrupted": batch.interrupted, "not_run": [visible(n) for n in batch.not_run],
                  "verdict": str(batch.verdict)},
        "setups": setups,
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
