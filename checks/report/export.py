"""Reports of a run: rows, CSV and JSON for tickets and spreadsheets (Markdown: `markdown`), writing any format.

CSV decisions (public contract, docs/design.md): UTF-8 without BOM (pass ``bom=True`` for Excel), a header row,
RFC 4180 quoting (QUOTE_MINIMAL) with CRLF line ends, times as ISO 8601 to the second. A text cell starting
with ``= + - @``, TAB or CR (or an apostrophe followed by one of those) gets one leading apostrophe so a
spreadsheet shows it as text instead of running it; ``report_import.read_report`` removes exactly that
apostrophe again.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from checks.model import CheckResult, Command, RunReport
from checks.report.markdown import to_markdown
from checks.report.markdown import verdict_line as verdict_line  # kept where its callers know it
from checks.report.table import render_table
from checks.safe_text import visible

REPORT_COLUMNS = (
    "run_id", "started_at", "profile", "host", "port", "sender", "check_id", "title", "status", "summary",
    "details", "remediation", "guide_section", "duration_ms",
)
SETUP_COLUMN = "setup"  # a batch report's first column: the setup each row belongs to
SUMMARY_CHECK_ID = "summary"  # a batch CSV's per-setup summary row (not a check)
FORMATS = ("table", "json", "csv", "markdown")
CSV_LINE_END = "\r\n"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


# ----------------------------------------------------------------------------------------------- rows


def _iso(moment: dt.datetime, *, timespec: str = "auto") -> str:
    return moment.isoformat(timespec=timespec)


def rows(report: RunReport) -> list[dict[str, Any]]:
    """One plain dict per result with exactly REPORT_COLUMNS (not neutralised; control characters visible)."""
    started = _iso(report.started_at, timespec="seconds")
    return [
        {
            "run_id": visible(report.run_id), "started_at": started, "profile": visible(report.profile),
            "host": visible(report.host), "port": int(report.port), "sender": visible(report.sender),
            "check_id": str(result.check_id), "title": visible(result.title), "status": str(result.status),
            "summary": visible(result.summary), "details": visible(result.details),
            "remediation": visible(result.remediation), "guide_section": visible(result.guide_section),
            "duration_ms": int(result.duration_ms),
        }
        for result in report.results
    ]


def to_dataframe(report: RunReport):
    """The results as a pandas DataFrame with REPORT_COLUMNS."""
    import pandas as pd  # lazy: pandas takes ~0.3 s to import, and only notebooks ask for a DataFrame

    frame = pd.DataFrame(rows(report), columns=list(REPORT_COLUMNS))
    return frame.astype({"port": "int64", "duration_ms": "int64"})


def neutralise(cell: str) -> str:
    """Prefix an apostrophe to a cell a spreadsheet would run as a formula (reversible by `restore`)."""
    if not cell:
        return cell
    body = cell.lstrip("'")
    if cell[0] in FORMULA_TRIGGERS or (cell[0] == "'" and body[:1] in FORMULA_TRIGGERS and body):
        return "'" + cell
    return cell


def restore(cell: str) -> str:
    """Undo `neutralise`: drop the one apostrophe we put in front of a formula-like cell."""
    if cell.startswith("'"):
        body = cell[1:].lstrip("'")
        if body[:1] in FORMULA_TRIGGERS and body:
            return cell[1:]
    return cell


def csv_text(columns: Sequence[str], records: Iterable[Mapping[str, Any]], *, bom: bool = False) -> str:
    """The one CSV writer of the report contract: a header row, RFC 4180 quoting, CRLF; whole numbers as they are,
    every other cell as text with formula-like cells neutralised."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator=CSV_LINE_END)
    writer.writerow(columns)
    for record in records:
        writer.writerow([_csv_cell(record[column]) for column in columns])
    text = buffer.getvalue()
    return ("\ufeff" + text) if bom else text


def _csv_cell(value: Any) -> Any:
    return value if isinstance(value, int) and not isinstance(value, bool) else neutralise(str(value))


def to_csv(report: RunReport, *, bom: bool = False) -> str:
    """The CSV report (REPORT_COLUMNS, header, RFC 4180 quoting, CRLF, formula cells neutralised)."""
    return csv_text(REPORT_COLUMNS, rows(report), bom=bom)


def run_summary(report: RunReport) -> dict[str, Any]:
    """The report's "run" object (JSON contract)."""
    return {
        "id": visible(report.run_id), "started_at": _iso(report.started_at),
        "finished_at": _iso(report.finished_at), "tool_version": visible(report.tool_version),
        "profile": visible(report.profile), "host": visible(report.host), "port": int(report.port),
        "security": visible(report.security), "sender": visible(report.sender), "verdict": str(report.verdict),
    }


def result_dict(result: CheckResult) -> dict[str, Any]:
    """One entry of the report's "results" list; reply and transcript were masked by the engine."""
    return {
        "check_id": str(result.check_id), "title": visible(result.title), "status": str(result.status),
        "summary": visible(result.summary), "details": visible(result.details),
        "remediation": visible(result.remediation), "guide_section": visible(result.guide_section),
        "duration_ms": int(result.duration_ms), "reply": visible(result.reply),
        "transcript": [visible(line) for line in result.transcript],
        "commands": [command_dict(c) for c in result.commands],
    }


def command_dict(command: Command) -> dict[str, str]:
    """One copy-ready command of a result (JSON contract: language, code, title)."""
    return {"language": str(command.language), "code": command.code, "title": command.title}


def to_json(report: RunReport, *, compact: bool = False) -> str:
    """The JSON report: {"run": {...}, "results": [...]} (facts are never included); `compact`: one line."""
    document = {"run": run_summary(report), "results": [result_dict(r) for r in report.results]}
    if compact:
        return json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


# ----------------------------------------------------------------------------------------------- write


def render(report: RunReport, fmt: str, *, verbose: bool = False) -> str:
    """The report as text in one of FORMATS ('table' is the plain terminal table, without colour)."""
    if fmt == "json":
        return to_json(report)
    if fmt == "csv":
        return to_csv(report)
    if fmt == "markdown":
        return to_markdown(report)
    if fmt == "table":
        return render_table(report, verbose=verbose)
    raise ValueError(f"unknown report format {fmt!r} (choose from {', '.join(FORMATS)})")


def write_report(report: RunReport, fmt: str, path_or_stream: str | Path | IO[Any], *,
                 verbose: bool = False) -> None:
    """Write the report in `fmt` to a file path (UTF-8, line ends kept as rendered) or an open stream."""
    text = render(report, fmt, verbose=verbose)
    if isinstance(path_or_stream, (str, Path)):
        Path(path_or_stream).write_text(text, encoding="utf-8", newline="")
        return
    stream = path_or_stream
    if isinstance(stream, (io.RawIOBase, io.BufferedIOBase)) or "b" in getattr(stream, "mode", ""):
        stream.write(text.encode("utf-8"))
    else:
        stream.write(text)
    flush = getattr(stream, "flush", None)
    if callable(flush):
        flush()
