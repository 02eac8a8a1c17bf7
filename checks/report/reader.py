"""Read a saved report back (our CSV or JSON, also after a spreadsheet round trip) into a RunReport.

CSV rows are numbered like a spreadsheet in error messages: the header is row 1, the first result row 2.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from checks.model import CheckId, CheckResult, Command, CommandLanguage, Finding, RunReport, Status
from checks.report.export import REPORT_COLUMNS, SETUP_COLUMN, SUMMARY_CHECK_ID, restore
from checks.report.spreadsheet import csv_records, decode_upload

MAX_IMPORT_BYTES = 20 * 1024 * 1024
MAX_RESULTS_PER_RUN = 200  # a run has one result per check (about 20); more is not one of our reports
MAX_JSON_ITEMS = 1_000_000  # "{", "[" and "," counted before parsing (10,000 setups of about 20 results stay far
                            # below): a file of millions of empty entries costs milliseconds, not seconds and 600 MB
_CHECK_ORDER = {check_id: index for index, check_id in enumerate(CheckId)}


class ReportFormatError(ValueError):
    """A file that is not one of our reports, or a damaged one; the message names the column or row."""

    def __init__(self, message: str, *, column: str | None = None, row: int | None = None) -> None:
        self.column = column
        self.row = row
        super().__init__(message)


@dataclass(frozen=True, repr=False)  # keeps the report's short repr
class ImportedReport(RunReport):
    """A report read back from a file; rows with check ids this version does not know are set aside."""

    unknown_check_ids: tuple[str, ...] = ()
    read_notes: tuple[str, ...] = ()  # what reading the file set aside; not `warnings`, which are WARN results


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


def _known_check(raw_id: str, unknown: list[str]) -> CheckId | None:
    """The CheckId of `raw_id`, or None after noting it in `unknown` (a newer version's check, a typo)."""
    try:
        return CheckId(raw_id)
    except ValueError:
        unknown.append(raw_id or "(empty)")
        return None


def _build(run: Mapping[str, Any], results: list[CheckResult], unknown: list[str], where: str) -> ImportedReport:
    notes: tuple[str, ...] = ()
    if unknown:
        distinct = sorted(set(unknown))
        notes = (f"{where}{len(unknown)} result(s) with check ids this version does not know were left out: "
                    f"{', '.join(distinct)}",)
    results.sort(key=lambda r: _CHECK_ORDER[r.check_id])
    return ImportedReport(results=tuple(results), unknown_check_ids=tuple(unknown), read_notes=notes, **run)



def _csv_table(text: str, prefix: str) -> tuple[dict[str, int], list[tuple[int, list[str]]]]:
    """The header's column positions and the non-empty rows, numbered like a spreadsheet (header = row 1)."""
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
    return index, [(number, record) for number, record in enumerate(records[1:], start=2)
                   if any(cell.strip() for cell in record)]


def _too_many_results(count: int, prefix: str) -> ReportFormatError:
    return ReportFormatError(f"{prefix}{count} results in one run; a report of this console has at most "
                             f"{MAX_RESULTS_PER_RUN}")


def _report_from_rows(index: dict[str, int], numbered: list[tuple[int, list[str]]], prefix: str) -> ImportedReport:
    if len(numbered) > MAX_RESULTS_PER_RUN:
        raise _too_many_results(len(numbered), prefix)
    run: dict[str, Any] | None = None
    results: list[CheckResult] = []
    unknown: list[str] = []
    seen: dict[CheckId, int] = {}
    for number, record in numbered:

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
            check_id = _known_check(raw_id, unknown)
            if check_id is None:
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
        finding = Finding(status, cell("summary"), details=cell("details"), remediation=cell("remediation"),
                          guide_section=cell("guide_section"))
        results.append(CheckResult(check_id, cell("title"), finding, duration))
    if run is None:
        raise ReportFormatError(f"{prefix}the file has a header but no result rows")
    return _build(run, results, unknown, prefix)


def _json_document(text: str, prefix: str) -> Any:
    if text.count("{") + text.count("[") + text.count(",") > MAX_JSON_ITEMS:
        raise ReportFormatError(f"{prefix}more entries than any report of this console; not one of our reports")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportFormatError(f"{prefix}not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except (RecursionError, ValueError):  # nested deeper than Python's stack; an integer of over 4300 digits
        raise ReportFormatError(f"{prefix}not one of our reports (nested too deeply, or a number too large)") from None


def _report_from_document(document: Any, prefix: str) -> ImportedReport:
    if not isinstance(document, dict) or not isinstance(document.get("run"), dict):
        raise ReportFormatError(f"{prefix}missing key 'run' (a JSON report is {{\"run\": {{...}}, \"results\": [...]}})",
                                column="run")
    if not isinstance(document.get("results"), list):
        raise ReportFormatError(f"{prefix}missing key 'results' (a list of check results)", column="results")
    if len(document["results"]) > MAX_RESULTS_PER_RUN:
        raise _too_many_results(len(document["results"]), prefix)
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
        check_id = _known_check(raw_id, unknown)
        if check_id is None:
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
        finding = Finding(
            status, str(entry.get("summary") or ""), details=str(entry.get("details") or ""),
            remediation=str(entry.get("remediation") or ""), guide_section=str(entry.get("guide_section") or ""),
            reply=str(entry.get("reply") or ""),
            transcript=tuple(str(line) for line in transcript) if isinstance(transcript, list) else (),
            commands=_commands(entry.get("commands")))
        results.append(CheckResult(check_id, str(entry.get("title") or ""), finding, duration))
    return _build(run, results, unknown, prefix)


def _commands(raw: object) -> tuple[Command, ...]:
    """The copy-ready commands of a JSON result; entries that are not {language, code} are dropped."""
    if not isinstance(raw, list):
        return ()
    commands = []
    for item in raw:
        if isinstance(item, dict) and isinstance(item.get("code"), str):
            try:
                language = CommandLanguage(str(item.get("language") or "text"))
            except ValueError:
                language = CommandLanguage.TEXT
            commands.append(Command(language, item["code"], str(item.get("title") or "")))
    return tuple(commands)


def _text(data: bytes | str, prefix: str) -> str:
    text = _decode(data, prefix)
    if not text.strip():
        raise ReportFormatError(f"{prefix}the file is empty")
    return text


def _is_json(text: str, name: str) -> bool:
    return text.lstrip().startswith("{") or name.lower().endswith(".json")


def read_report(data: bytes | str, *, name: str = "") -> ImportedReport:
    """Read back one of our CSV or JSON reports (also after a spreadsheet round trip); ReportFormatError if not."""
    prefix = f"{name}: " if name else ""
    text = _text(data, prefix)
    if _is_json(text, name):
        return _report_from_document(_json_document(text, prefix), prefix)
    return _report_from_rows(*_csv_table(text, prefix), prefix)


def _batch_csv_runs(index: dict[str, int], numbered: list[tuple[int, list[str]]],
                    prefix: str) -> list[tuple[str, ImportedReport]]:
    by_setup: dict[str, list[tuple[int, list[str]]]] = {}
    setup_at, check_at = index[SETUP_COLUMN], index["check_id"]
    for number, record in numbered:
        setup = record[setup_at].strip() if setup_at < len(record) else ""
        if check_at < len(record) and record[check_at].strip() == SUMMARY_CHECK_ID:
            continue
        by_setup.setdefault(setup, []).append((number, record))
    return [(setup, _report_from_rows(index, rows, f"{prefix}setup {setup[:40]!r}: "))
            for setup, rows in by_setup.items()]


def _batch_json_runs(document: dict[str, Any], prefix: str) -> list[tuple[str, ImportedReport]]:
    runs = []
    for number, entry in enumerate(document["setups"], start=1):
        setup = str(entry.get(SETUP_COLUMN) or "") if isinstance(entry, dict) else ""
        runs.append((setup, _report_from_document(entry, f"{prefix}setups[{number - 1}]: ")))
    return runs


def read_reports(data: bytes | str, *, name: str = "") -> list[tuple[str, ImportedReport]]:
    """Every run in one of our files as (setup, report): ("", report) for a report, one per setup for a batch."""
    prefix = f"{name}: " if name else ""
    text = _text(data, prefix)
    if _is_json(text, name):
        document = _json_document(text, prefix)
        if isinstance(document, dict) and isinstance(document.get("setups"), list):
            return _batch_json_runs(document, prefix)
        return [("", _report_from_document(document, prefix))]
    index, numbered = _csv_table(text, prefix)
    if SETUP_COLUMN in index:
        return _batch_csv_runs(index, numbered, prefix)
    return [("", _report_from_rows(index, numbered, prefix))]
