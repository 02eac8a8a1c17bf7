"""Reports of a run: CSV/JSON export, Markdown, HTML for Jupyter, the terminal table, import, comparison.

`load_reports` (many saved reports into one DataFrame) and `NotebookProgress` (a progress bar for notebooks)
are loaded on first use: they import pandas and tqdm, which the CLI's start-up should not pay for.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from checks.report.loading import LOADED_COLUMNS, SkippedReportWarning, load_reports
    from checks.report.progress_bar import NotebookProgress

_PUBLIC = {
    "load_reports": "checks.report.loading", "LOADED_COLUMNS": "checks.report.loading",
    "SkippedReportWarning": "checks.report.loading", "NotebookProgress": "checks.report.progress_bar",
}
__all__ = ["LOADED_COLUMNS", "NotebookProgress", "SkippedReportWarning", "load_reports"]


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'checks.report' has no attribute {name!r}")
