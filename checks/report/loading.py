"""Many saved reports (single runs and batches, CSV or JSON) into one tidy DataFrame for triage in a notebook."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from checks.model import RunReport
from checks.report.reader import MAX_IMPORT_BYTES, ImportedReport, ReportFormatError, read_reports
from checks.safe_text import visible

LOADED_COLUMNS = (
    "file", "setup", "run_id", "started_at", "finished_at", "tool_version", "profile", "host", "port", "security",
    "sender", "verdict", "check_id", "title", "status", "summary", "details", "remediation", "guide_section",
    "duration_ms", "reply",
)
REPORT_SUFFIXES = (".csv", ".json")


class SkippedReportWarning(UserWarning):
    """A file (or some of its rows) load_reports left out; the message names the file and why."""


def _files(paths_or_folder: str | os.PathLike | Iterable[str | os.PathLike]) -> Iterator[Path]:
    items = [paths_or_folder] if isinstance(paths_or_folder, (str, os.PathLike)) else list(paths_or_folder)
    for item in map(Path, items):
        if item.is_dir():
            yield from sorted(p for p in item.rglob("*") if p.suffix.lower() in REPORT_SUFFIXES and p.is_file())
        else:
            yield item


def _records(file: Path, setup: str, report: RunReport) -> Iterator[tuple[Any, ...]]:
    """The rows of one run; every text from the file made visible (control and bidi characters as escapes)."""
    run = (visible(file.name), visible(setup or file.stem), visible(report.run_id), report.started_at,
           report.finished_at, visible(report.tool_version), visible(report.profile), visible(report.host),
           int(report.port), visible(report.security), visible(report.sender), str(report.verdict))
    for r in report.results:
        yield (*run, str(r.check_id), visible(r.title), str(r.status), visible(r.summary), visible(r.details),
               visible(r.remediation), visible(r.guide_section), int(r.duration_ms), visible(r.reply))


def _read(file: Path) -> list[tuple[str, ImportedReport]]:
    if file.stat().st_size > MAX_IMPORT_BYTES:
        raise ReportFormatError(f"{file.name}: larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB; "
                                "a report is a few kilobytes")
    return read_reports(file.read_bytes(), name=file.name)


def load_reports(paths_or_folder: str | os.PathLike | Iterable[str | os.PathLike]) -> pd.DataFrame:
    """One row per check per run (LOADED_COLUMNS) from report files, or every .csv/.json under a folder.

    Our CSV and JSON reports are read, batch reports included (one run per setup; summary rows left out).
    A file that is not one of our reports is skipped with a SkippedReportWarning naming it; it never raises.
    Text from the files is outside text: control and bidi characters come out as visible escapes.
    """
    records: list[tuple[Any, ...]] = []
    for file in _files(paths_or_folder):
        try:
            runs = _read(file)
        except (OSError, ReportFormatError) as exc:
            reason = str(exc) if isinstance(exc, ReportFormatError) else f"{file.name}: {exc.strerror or exc}"
            warnings.warn(visible(f"skipped {reason}"), SkippedReportWarning, stacklevel=2)
            continue
        for setup, report in runs:
            for note in report.read_notes:
                warnings.warn(visible(note), SkippedReportWarning, stacklevel=2)
            records.extend(_records(file, setup, report))
    frame = pd.DataFrame.from_records(records, columns=list(LOADED_COLUMNS))
    frame["started_at"] = pd.to_datetime(frame["started_at"], utc=True)
    frame["finished_at"] = pd.to_datetime(frame["finished_at"], utc=True)
    return frame.astype({"port": "int64", "duration_ms": "int64"})
