"""Reports uploaded by the user: read them (a report, two to compare, or a whole batch), order them by run time,
and show what changed check by check."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from checks.model import RunReport
from checks.report.compare import Change, compare, summarise_changes
from checks.report.reader import ReportFormatError, read_report
from checks.report.spreadsheet import decode_upload
from checks.safe_text import markdown, visible
from console.answer import answer
from console.icons import word

MAX_RUNS = 500  # a batch file opens as this many runs at most
LOADED_KEY = "report.loaded"  # (uploads' names and digests, Loaded): parsed once per set of uploads
BATCH_COLUMN = "setup"


@dataclass(frozen=True)
class Loaded:
    """What the uploads held: runs oldest first, each with a name, and one plain sentence per unusable file."""

    reports: tuple[RunReport, ...]
    names: tuple[str, ...]
    errors: tuple[str, ...]
    notes: tuple[str, ...] = ()  # what reading a file set aside (e.g. rows with check ids this version lacks)


def _batch_parts(name: str, data: bytes) -> list[tuple[str, bytes]] | None:
    """A batch report split into one report per setup, or None when the file is not a batch report."""
    text = decode_upload(data)
    if text.lstrip().startswith("{"):
        document = json.loads(text)
        if not isinstance(document, dict) or not isinstance(document.get("setups"), list):
            return None
        return [(str(entry.get("setup") or f"setup {index + 1}"),
                 json.dumps({"run": entry.get("run"), "results": entry.get("results")}).encode("utf-8"))
                for index, entry in enumerate(document["setups"]) if isinstance(entry, dict)]
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or not rows[0] or rows[0][0].strip().lower() != BATCH_COLUMN:
        return None
    header, groups = rows[0][1:], {}
    for row in rows[1:]:
        if len(row) == len(header) + 1 and row[header.index("check_id") + 1] != "summary":
            groups.setdefault(row[0], []).append(row[1:])
    parts = []
    for setup, records in groups.items():
        buffer = io.StringIO()
        csv.writer(buffer).writerows([header, *records])
        parts.append((setup, buffer.getvalue().encode("utf-8")))
    return parts


def _plain(name: str, exc: Exception) -> str:
    if isinstance(exc, ReportFormatError):
        return str(exc)
    if isinstance(exc, UnicodeError):
        return f"{name}: this is not a text file. Upload the report as CSV (UTF-8) or JSON, as the console saves it."
    return f"{name}: this file could not be read as a report of this console (CSV or JSON)."


def load_reports(files: Iterable[tuple[str, bytes]]) -> Loaded:
    """Read uploaded reports and batch reports; a bad file gives a sentence naming it, never a traceback."""
    found: list[tuple[RunReport, str]] = []
    errors: list[str] = []
    notes: list[str] = []
    for name, data in files:
        try:
            parts = _batch_parts(name, data) or [(name, data)]
            for label, part in parts[:MAX_RUNS]:
                report = read_report(part, name=label)
                found.append((report, label))
                notes.extend(report.read_notes)
            if len(parts) > MAX_RUNS:
                errors.append(f"{name}: only the first {MAX_RUNS} setups were opened.")
        except Exception as exc:  # noqa: BLE001 - every unusable file becomes one plain sentence
            errors.append(_plain(name, exc))
    found.sort(key=lambda item: item[0].started_at)
    return Loaded(tuple(r for r, _ in found), tuple(n for _, n in found), tuple(errors), tuple(notes))


def load_reports_once(state: MutableMapping[str, Any], files: Iterable[tuple[str, bytes]]) -> Loaded:
    """load_reports, kept in the session for the same uploads: a rerun of the page does not parse them again."""
    files = list(files)
    key = tuple((name, hashlib.sha256(data).hexdigest()) for name, data in files)
    cached = state.get(LOADED_KEY)
    if cached is not None and cached[0] == key:
        return cached[1]
    loaded = load_reports(files)
    state[LOADED_KEY] = (key, loaded)
    return loaded


def change_rows(changes: list[Change]) -> list[dict[str, str]]:
    """Every check with its status before and after, the ones that moved first."""
    def status(value: object) -> str:
        return word(value) if value is not None else "—"

    moved = sorted(changes, key=lambda c: c.kind == "same")
    return [{"Check": visible(c.title), "Before": status(c.before_status), "After": status(c.after_status),
             "Change": c.kind, "Now": visible(c.after_summary or c.before_summary)} for c in moved]


def render_comparison(before: RunReport, after: RunReport, names: tuple[str, str]) -> None:
    """What changed from the older run to the newer one, check by check, then both verdicts side by side."""
    changes = compare(before, after)
    counts = summarise_changes(changes)
    st.subheader("What changed")
    st.caption(f"From **{markdown(names[0])}** ({before.started_at:%Y-%m-%d %H:%M}) to **{markdown(names[1])}** "
               f"({after.started_at:%Y-%m-%d %H:%M}), whatever order they were uploaded in.")
    words = [f"**{n} {k}**" for k, n in counts.items() if n]
    st.markdown(" · ".join(words) or "Nothing to compare.")
    st.dataframe(change_rows(changes), hide_index=True, width="stretch")
    for column, report, name in zip(st.columns(2), (before, after), names, strict=True):
        with column, st.container(border=True):
            found = answer(report)
            st.markdown(f"**{markdown(name)}** · {report.started_at:%Y-%m-%d %H:%M}")
            st.markdown(f"{found.headline}" + (f" — {markdown(found.step.title)}: {markdown(found.cause)}"
                                               if found.step else ""))


def run_rows(reports: tuple[RunReport, ...], names: tuple[str, ...]) -> list[dict[str, str]]:
    """One row per opened run: name, time, verdict and its first problem in words."""
    rows = []
    for report, name in zip(reports, names, strict=True):
        found = answer(report)
        rows.append({"Setup": visible(name), "Run at": f"{report.started_at:%Y-%m-%d %H:%M}", "Verdict": found.headline,
                     "Cause": visible(f"{found.step.title}: {found.cause}") if found.step and found.tone != "good" else ""})
    return rows
