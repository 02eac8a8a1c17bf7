"""Reports uploaded by the user: read them (bytes in, reports or readable errors out) and show a comparison."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import streamlit as st

from checks.model import RunReport
from checks.report.compare import Change, compare, summarise_changes
from checks.report.reader import ReportFormatError, read_report
from checks.safe_text import markdown, visible
from console.icons import word
from console.results import results_table, verdict_banner

MAX_FILES = 2


@dataclass(frozen=True)
class Loaded:
    reports: tuple[RunReport, ...]
    names: tuple[str, ...]
    errors: tuple[str, ...]
    notes: tuple[str, ...] = ()  # what reading a file set aside (e.g. rows with check ids this version lacks)


def load_reports(files: Iterable[tuple[str, bytes]]) -> Loaded:
    """Read up to two uploaded reports; a bad file gives a message naming it, never a traceback."""
    reports, names, errors, notes = [], [], [], []
    for index, (name, data) in enumerate(files):
        if index >= MAX_FILES:
            errors.append(f"{name}: only two reports can be compared; this one was left out.")
            continue
        try:
            report = read_report(data, name=name)
            reports.append(report)
            names.append(name)
            notes.extend(report.read_notes)
        except ReportFormatError as exc:
            errors.append(str(exc))
    return Loaded(tuple(reports), tuple(names), tuple(errors), tuple(notes))


def change_rows(changes: list[Change]) -> list[dict[str, str]]:
    def status(value: object) -> str:
        return word(value) if value is not None else "—"

    return [{"Change": c.kind, "Check": visible(c.title), "Before": status(c.before_status),
             "After": status(c.after_status), "Now": visible(c.after_summary or c.before_summary)} for c in changes]


def render_comparison(before: RunReport, after: RunReport, names: tuple[str, str]) -> None:
    """What changed between two runs, then both runs side by side."""
    changes = compare(before, after)
    counts = summarise_changes(changes)
    st.subheader("What changed")
    words = [f"**{n} {k}**" for k, n in counts.items() if n]
    st.markdown(" · ".join(words) or "Nothing to compare.")
    moved = [c for c in changes if c.kind != "same"]
    if moved:
        st.dataframe(change_rows(moved), hide_index=True, width="stretch")
    else:
        st.success("Both runs ended the same way for every check.")
    st.subheader("Side by side")

    for column, report, name in zip(st.columns(2), (before, after), names, strict=True):
        with column:
            st.markdown(f"**{markdown(name)}** · run {markdown(report.run_id)} · {report.started_at:%Y-%m-%d %H:%M}")
            verdict_banner(report)
            results_table(report)
