"""Reports of a run: rows, CSV / JSON / Markdown, import of a saved report, and before/after comparison.

CSV decisions (public contract, DESIGN.md): UTF-8 without BOM (pass ``bom=True`` for Excel), a header row,
RFC 4180 quoting (QUOTE_MINIMAL) with CRLF line ends, times as ISO 8601 to the second. A text cell starting
with ``= + - @``, TAB or CR (or an apostrophe followed by one of those) gets one leading apostrophe so a
spreadsheet shows it as text instead of running it; ``read_report`` removes exactly that apostrophe again.
Imported CSV rows are numbered like a spreadsheet: the header is row 1, the first result row 2.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from checks.model import CheckId, CheckResult, RunReport, Status, Verdict
from checks.spreadsheet_text import csv_records, decode_upload

REPORT_COLUMNS = (
    "run_id", "started_at", "profile", "host", "port", "sender", "check_id", "title", "status", "summary",
    "details", "remediation", "guide_section", "duration_ms",
)
NUMERIC_COLUMNS = ("port", "duration_ms")
FORMATS = ("table", "json", "csv", "markdown")
CSV_LINE_END = "\r\n"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
VERDICT_TEXT = {Verdict.READY: "Ready for go-live", Verdict.PROBLEMS: "problems to fix"}
MARKDOWN_ICONS = {Status.PASS: "✅", Status.WARN: "⚠️", Status.FAIL: "❌", Status.SKIP: "⏭️", Status.ERROR: "💥"}
MAX_IMPORT_BYTES = 20 * 1024 * 1024

_CHECK_ORDER = {check_id: index for index, check_id in enumerate(CheckId)}
_CONTROL_EXCEPT_NEWLINE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class ReportFormatError(ValueError):
    """A file that is not one of our reports, or a damaged one; the message names the column or row."""

    def __init__(self, message: str, *, column: str | None = None, row: int | None = None) -> None:
        self.column = column
        self.row = row
        super().__init__(message)


@dataclass(frozen=True)
class ImportedReport(RunReport):
    """A report read back from a file; rows with check ids this version does not know are set aside."""

    unknown_check_ids: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


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


# ----------------------------------------------------------------------------------------------- rows


def verdict_line(report: RunReport) -> str:
    """'Ready for go-live' (with warnings counted) or 'N problems to fix'."""
    problems = len(report.problems)
    if problems:
        return f"{problems} problem{'s' if problems != 1 else ''} to fix"
    warnings = len(report.warnings)
    suffix = f" ({warnings} warning{'s' if warnings != 1 else ''})" if warnings else ""
    return f"Ready for go-live{suffix}"


def _iso(moment: dt.datetime, *, timespec: str = "auto") -> str:
    return moment.isoformat(timespec=timespec)


def rows(report: RunReport) -> list[dict[str, Any]]:
    """One plain dict per result with exactly REPORT_COLUMNS (values as they are, not neutralised)."""
    started = _iso(report.started_at, timespec="seconds")
    return [
        {
            "run_id": report.run_id, "started_at": started, "profile": report.profile, "host": report.host,
            "port": int(report.port), "sender": report.sender, "check_id": str(result.check_id),
            "title": result.title, "status": str(result.status), "summary": result.summary,
            "details": result.details, "remediation": result.remediation,
            "guide_section": str(result.guide_section), "duration_ms": int(result.duration_ms),
        }
        for result in report.results
    ]


def to_dataframe(report: RunReport):
    """The results as a pandas DataFrame with REPORT_COLUMNS (pandas is imported only here)."""
    import pandas as pd

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


def to_csv(report: RunReport, *, bom: bool = False) -> str:
    """The CSV report (REPORT_COLUMNS, header, RFC 4180 quoting, CRLF, formula cells neutralised)."""
    frame = to_dataframe(report)
    for column in REPORT_COLUMNS:
        if column not in NUMERIC_COLUMNS:
            frame[column] = frame[column].astype(str).map(neutralise)
    text = frame.to_csv(index=False, quoting=csv.QUOTE_MINIMAL, lineterminator=CSV_LINE_END)
    return ("\ufeff" + text) if bom else text


def run_summary(report: RunReport) -> dict[str, Any]:
    """The report's "run" object (JSON contract)."""
    return {
        "id": report.run_id, "started_at": _iso(report.started_at), "finished_at": _iso(report.finished_at),
        "tool_version": report.tool_version, "profile": report.profile, "host": report.host,
        "port": int(report.port), "security": report.security, "sender": report.sender,
        "verdict": str(report.verdict),
    }


def result_dict(result: CheckResult) -> dict[str, Any]:
    """One entry of the report's "results" list; reply and transcript were masked by the engine."""
    return {
        "check_id": str(result.check_id), "title": result.title, "status": str(result.status),
        "summary": result.summary, "details": result.details, "remediation": result.remediation,
        "guide_section": str(result.guide_section), "duration_ms": int(result.duration_ms),
        "reply": result.reply, "transcript": list(result.transcript),
    }


def to_json(report: RunReport) -> str:
    """The JSON report: {"run": {...}, "results": [...]} (facts are never included)."""
    document = {"run": run_summary(report), "results": [result_dict(r) for r in report.results]}
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


# ------------------------------------------------------------------------------------------- markdown


def _md_clean(text: str) -> str:
    text = _CONTROL_EXCEPT_NEWLINE.sub("", str(text).replace("\r\n", "\n").replace("\t", "    "))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def md_cell(text: str) -> str:
    """Text safe inside a Markdown table cell: pipes escaped, line breaks as <br>."""
    cleaned = _md_clean(text).replace("\\", "\\\\").replace("|", "\\|").strip()
    return cleaned.replace("\r", "").replace("\n", "<br>")


def _md_prose(text: str) -> str:
    return "  \n".join(_md_clean(text).strip().split("\n"))


def _md_code(text: str) -> str:
    body = _CONTROL_EXCEPT_NEWLINE.sub("", str(text).replace("\r\n", "\n")).rstrip("\n")
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{body}\n{fence}"


def to_markdown(report: RunReport) -> str:
    """A report to paste into a ticket: verdict header, results table, a section per non-pass result."""
    icon = "✅" if report.verdict is Verdict.READY else "❌"
    host = f"{report.host}:{report.port}" + (f" ({report.security})" if report.security else "")
    lines = [
        f"## {icon} SMTP relay check: {verdict_line(report)}",
        "",
        "| | |",
        "|---|---|",
        f"| Host | {md_cell(host)} |",
        f"| Profile | {md_cell(report.profile)} |",
    ]
    if report.sender:
        lines.append(f"| Sender | {md_cell(report.sender)} |")
    lines += [
        f"| Run | {md_cell(report.run_id)} |",
        f"| Date | {md_cell(_iso(report.started_at, timespec='seconds'))} |",
    ]
    if report.tool_version:
        lines.append(f"| Tool version | {md_cell(report.tool_version)} |")
    lines += ["", "| Status | Check | Summary |", "|---|---|---|"]
    for result in report.results:
        lines.append(f"| {MARKDOWN_ICONS[result.status]} {result.status} | `{md_cell(str(result.check_id))}` "
                     f"{md_cell(result.title)} | {md_cell(result.summary)} |")
    for result in report.results:
        if result.status == Status.PASS:
            continue
        lines += ["", f"### {MARKDOWN_ICONS[result.status]} {result.status}: {_md_clean(result.title)} "
                      f"(`{result.check_id}`)", "", _md_prose(result.summary)]
        if result.details:
            lines += ["", f"**Details:** {_md_prose(result.details)}"]
        if result.reply:
            lines += ["", "**Server reply:**", "", _md_code(result.reply)]
        if result.remediation:
            lines += ["", f"**Fix:** {_md_prose(result.remediation)}"]
        if result.guide_section:
            lines += ["", f"**Setup guide:** {_md_prose(str(result.guide_section))}"]
    return "\n".join(lines) + "\n"


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
        from checks.terminal import render_table

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


# ---------------------------------------------------------------------------------------------- import


def _decode(data: bytes | str, prefix: str) -> str:
    if not isinstance(data, str) and len(data) > MAX_IMPORT_BYTES:
        raise ReportFormatError(f"{prefix}the file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB; "
                                "a report is a few kilobytes")
    return decode_upload(data)


def _parse_time(text: str, *, what: str) -> dt.datetime:
    text = text.strip()
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
        for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M",
                        "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M"):
            try:
                moment = dt.datetime.strptime(text, pattern)
                break
            except ValueError:
                continue
        if moment is None:
            raise ValueError(f"{what} {text[:40]!r} is not a date and time (expected ISO 8601)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _parse_int(text: Any, *, what: str, default: int | None = None) -> int:
    if isinstance(text, bool):
        raise ValueError(f"{what} must be a whole number")
    if isinstance(text, int):
        return text
    cleaned = str(text if text is not None else "").strip().replace("\u00a0", "").replace(" ", "")
    if not cleaned and default is not None:
        return default
    try:
        number = float(cleaned.replace(",", ".")) if "," in cleaned and "." not in cleaned else float(cleaned)
    except ValueError:
        raise ValueError(f"{what} {str(text)[:40]!r} is not a whole number") from None
    if number != number or number in (float("inf"), float("-inf")) or number != int(number):
        raise ValueError(f"{what} {str(text)[:40]!r} is not a whole number")
    return int(number)


def _parse_status(text: str) -> Status:
    try:
        return Status(text.strip().lower())
    except ValueError:
        raise ValueError(f"status {text[:40]!r} is not one of {', '.join(s.value for s in Status)}") from None


def _build(run: Mapping[str, Any], results: list[CheckResult], unknown: list[str], where: str) -> ImportedReport:
    warnings = ()
    if unknown:
        distinct = sorted(set(unknown))
        warnings = (f"{where}{len(unknown)} result(s) with check ids this version does not know were left out: "
                    f"{', '.join(distinct)}",)
    results.sort(key=lambda r: _CHECK_ORDER[r.check_id])
    return ImportedReport(results=tuple(results), unknown_check_ids=tuple(unknown), warnings=warnings, **run)



def _read_csv(text: str, prefix: str) -> ImportedReport:
    try:
        records = csv_records(text)
    except csv.Error as exc:
        raise ReportFormatError(f"{prefix}not a readable CSV file: {exc}") from None
    if not records or not any(cell.strip() for cell in records[0]):
        raise ReportFormatError(f"{prefix}the file is empty; expected a header row with {', '.join(REPORT_COLUMNS)}")
    header = [cell.strip().lstrip("\ufeff").strip('"').lower() for cell in records[0]]
    index = {}
    for position, name in enumerate(header):
        index.setdefault(name, position)
    missing = [c for c in REPORT_COLUMNS if c not in index]
    if missing:
        raise ReportFormatError(
            f"{prefix}missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"(a report has the columns {', '.join(REPORT_COLUMNS)})", column=missing[0], row=1)

    run: dict[str, Any] | None = None
    results: list[CheckResult] = []
    unknown: list[str] = []
    seen: dict[CheckId, int] = {}
    for number, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue

        def cell(name: str, record: list[str] = record) -> str:
            position = index[name]
            return restore(record[position]) if position < len(record) else ""

        column = ""
        try:
            column = "run_id"
            run_id = cell("run_id").strip()
            if not run_id:
                raise ValueError("run_id is empty")
            if run is None:
                column = "started_at"
                started = _parse_time(cell("started_at"), what="started_at")
                column = "port"
                run = {"run_id": run_id, "started_at": started, "finished_at": started, "tool_version": "",
                       "profile": cell("profile").strip(), "host": cell("host").strip(),
                       "port": _parse_int(cell("port"), what="port"), "security": "",
                       "sender": cell("sender").strip()}
            elif run_id != run["run_id"]:
                raise ReportFormatError(
                    f"{prefix}row {number}: run_id {run_id[:40]!r} differs from {run['run_id']!r}; the file holds "
                    "more than one run (a batch report?) - import one run at a time", column="run_id", row=number)
            column = "check_id"
            raw_id = cell("check_id").strip()
            try:
                check_id = CheckId(raw_id)
            except ValueError:
                unknown.append(raw_id or "(empty)")
                continue
            if check_id in seen:
                raise ValueError(f"check_id {raw_id!r} appears twice (rows {seen[check_id]} and {number})")
            seen[check_id] = number
            column = "status"
            status = _parse_status(cell("status"))
            column = "duration_ms"
            duration = _parse_int(cell("duration_ms"), what="duration_ms", default=0)
        except ReportFormatError:
            raise
        except ValueError as exc:
            raise ReportFormatError(f"{prefix}row {number}: {exc}", column=column, row=number) from None
        results.append(CheckResult(
            check_id=check_id, title=cell("title"), status=status, summary=cell("summary"),
            details=cell("details"), remediation=cell("remediation"), guide_section=cell("guide_section"),
            duration_ms=duration))
    if run is None:
        raise ReportFormatError(f"{prefix}the file has a header but no result rows")
    return _build(run, results, unknown, prefix)


def _read_json(text: str, prefix: str) -> ImportedReport:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportFormatError(f"{prefix}not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except (RecursionError, ValueError):  # nested deeper than Python's stack; an integer of over 4300 digits
        raise ReportFormatError(f"{prefix}not one of our reports (nested too deeply, or a number too large)") from None
    if not isinstance(document, dict) or not isinstance(document.get("run"), dict):
        raise ReportFormatError(f"{prefix}missing key 'run' (a JSON report is {{\"run\": {{...}}, \"results\": [...]}})",
                                column="run")
    if not isinstance(document.get("results"), list):
        raise ReportFormatError(f"{prefix}missing key 'results' (a list of check results)", column="results")
    source = document["run"]
    key = "id"
    try:
        for key in ("id", "started_at", "host", "port"):
            if key not in source:
                raise ValueError(f"run.{key} is missing")
        key = "started_at"
        started = _parse_time(str(source["started_at"]), what="run.started_at")
        key = "finished_at"
        finished = _parse_time(str(source["finished_at"]), what="run.finished_at") if source.get("finished_at") \
            else started
        key = "port"
        run = {"run_id": str(source["id"]), "started_at": started, "finished_at": finished,
               "tool_version": str(source.get("tool_version") or ""), "profile": str(source.get("profile") or ""),
               "host": str(source["host"]), "port": _parse_int(source["port"], what="run.port"),
               "security": str(source.get("security") or ""), "sender": str(source.get("sender") or "")}
    except ValueError as exc:
        raise ReportFormatError(f"{prefix}{exc}", column=f"run.{key}") from None

    results: list[CheckResult] = []
    unknown: list[str] = []
    seen: set[CheckId] = set()
    for number, entry in enumerate(document["results"], start=1):
        where = f"{prefix}results[{number - 1}]"
        if not isinstance(entry, dict):
            raise ReportFormatError(f"{where}: each result must be an object", row=number)
        raw_id = str(entry.get("check_id", "")).strip()
        try:
            check_id = CheckId(raw_id)
        except ValueError:
            unknown.append(raw_id or "(empty)")
            continue
        if check_id in seen:
            raise ReportFormatError(f"{where}: check_id {raw_id!r} appears twice", column="check_id", row=number)
        seen.add(check_id)
        try:
            status = _parse_status(str(entry.get("status", "")))
            duration = _parse_int(entry.get("duration_ms", 0), what="duration_ms", default=0)
        except ValueError as exc:
            raise ReportFormatError(f"{where}: {exc}", row=number) from None
        transcript = entry.get("transcript") or ()
        results.append(CheckResult(
            check_id=check_id, title=str(entry.get("title") or ""), status=status,
            summary=str(entry.get("summary") or ""), details=str(entry.get("details") or ""),
            remediation=str(entry.get("remediation") or ""), guide_section=str(entry.get("guide_section") or ""),
            duration_ms=duration, reply=str(entry.get("reply") or ""),
            transcript=tuple(str(line) for line in transcript) if isinstance(transcript, list) else ()))
    return _build(run, results, unknown, prefix)


def read_report(data: bytes | str, *, name: str = "") -> ImportedReport:
    """Read back one of our CSV or JSON reports (also after a spreadsheet round trip); ReportFormatError if not."""
    prefix = f"{name}: " if name else ""
    text = _decode(data, prefix)
    if not text.strip():
        raise ReportFormatError(f"{prefix}the file is empty")
    if text.lstrip().startswith("{") or name.lower().endswith(".json"):
        return _read_json(text, prefix)
    return _read_csv(text, prefix)


# --------------------------------------------------------------------------------------------- compare


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
    for check_id in sorted(set(old) | set(new), key=lambda c: _CHECK_ORDER[c]):
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
