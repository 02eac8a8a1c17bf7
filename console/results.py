"""The results view: live progress, verdict banner, table, one section per check, downloads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from checks.model import CheckId, CheckResult, RunReport, Status
from checks.redact import secret_values
from checks.report.export import to_csv, to_json, to_markdown, verdict_line
from checks.run_state import Dependencies
from checks.runner import run_checklist
from checks.safe_text import markdown, one_line, visible
from checks.settings.config import RelayConfig
from checks.target_policy import TargetPolicy
from console.history_store import LABEL_KEY, save_report
from console.hosting import admit
from console.icons import STATUS_COLOURS, label, word

OPEN_BY_DEFAULT = (Status.FAIL, Status.ERROR, Status.WARN)


@dataclass(frozen=True)
class Download:
    label: str
    file_name: str
    data: bytes
    mime: str


def downloads(report: RunReport) -> tuple[Download, ...]:
    """The report files offered for download (built from the report only: it holds no secret)."""
    stem = f"relay-report-{report.run_id}"
    return (
        Download("CSV", f"{stem}.csv", to_csv(report).encode("utf-8"), "text/csv"),
        Download("JSON", f"{stem}.json", to_json(report).encode("utf-8"), "application/json"),
        Download("Markdown (for a ticket)", f"{stem}.md", to_markdown(report).encode("utf-8"), "text/markdown"),
    )


class StatusObserver:
    """Runner observer that writes one line per finished check into an st.status box (caller's thread)."""

    def __init__(self, box: Any) -> None:
        self.box = box
        self.total = 0
        self.done = 0

    def on_plan(self, checks: list[tuple[CheckId, str]]) -> None:
        self.total = len(checks)
        self.box.update(label=f"Running {self.total} checks…")

    def on_start(self, check_id: CheckId, title: str) -> None:
        self.box.update(label=f"Checking: {title}… ({self.done}/{self.total})")

    def on_finish(self, result: CheckResult) -> None:
        self.done += 1
        self.box.markdown(f"{label(result.status)} · **{markdown(result.title)}** — {markdown(one_line(result.summary))}")


def run_with_progress(config: RelayConfig, *, label: str = "Running checks…", practice: bool = False
                      ) -> RunReport | None:
    """Run the checklist, showing each check as it finishes; None when the hosting run limit refuses it.

    Every run but a practice run is saved in the history, with the form's 'Customer / ticket' label.
    Practice runs target the console's own in-process lab, so the hosting target policy does not apply to them.
    """
    policy = TargetPolicy.from_environment()
    refusal = admit(1)
    if refusal:
        st.error(refusal, icon=":material/hourglass_top:")
        return None
    deps = Dependencies(policy=TargetPolicy() if practice else policy)
    with st.status(label, expanded=True) as box:
        report = run_checklist(config, observer=StatusObserver(box), deps=deps)
        box.update(label=f"Finished {len(report.results)} checks: {verdict_line(report)}",
                   state="error" if report.problems else "complete", expanded=False)
    if not practice:
        save_report(report, label=str(st.session_state.get(LABEL_KEY) or ""), hide=secret_values(config))
    return report


def verdict_banner(report: RunReport) -> None:
    line = verdict_line(report)
    if report.problems:
        st.error(f"**{line}** — open the checks marked **Fail** below for the cause and the fix.", icon=":material/build:")
    elif report.skipped:
        st.warning(f"**{line}** — open the skipped checks below to see what they need.", icon=":material/pending:")
    elif report.warnings:
        st.warning(f"**{line}** — read the warnings below before you rely on this setup.", icon=":material/warning:")
    else:
        st.success(f"**{line}** — every check passed.", icon=":material/rocket_launch:")


def results_table(report: RunReport) -> None:
    import pandas as pd

    frame = pd.DataFrame([{"Status": word(r.status), "Check": visible(r.title), "Id": str(r.check_id),
                           "Summary": visible(r.summary), "Time (ms)": r.duration_ms} for r in report.results])
    colours = {word(s): c for s, c in STATUS_COLOURS.items()}
    styled = frame.style.map(lambda v: f"background-color: {colours.get(v, '')}", subset=["Status"])
    st.dataframe(styled, hide_index=True, width="stretch")


def check_section(result: CheckResult) -> None:
    """One check: summary, details, the server's words, masked transcript and the fix."""
    with st.expander(f"{label(result.status)} · {markdown(result.title)} · `{result.check_id}`",
                     expanded=result.status in OPEN_BY_DEFAULT):
        st.markdown(f"{label(result.status)} — {markdown(result.summary)}")
        if result.details:
            st.text(visible(result.details))
        if result.reply:
            st.caption("Server reply")
            st.code(visible(result.reply), language=None)
        if result.remediation:
            st.info(f"**How to fix:** {markdown(result.remediation)}", icon=":material/build:")
        if result.guide_section:
            st.caption(f"Setup guide: {markdown(result.guide_section)}")
        if result.transcript:
            st.caption("Transcript (passwords and tokens masked)")
            st.code(visible("\n".join(result.transcript)), language=None)


def render_downloads(report: RunReport, *, key: str) -> None:
    columns = st.columns(3)
    for column, item in zip(columns, downloads(report), strict=True):
        column.download_button(item.label, data=item.data, icon=":material/download:", file_name=item.file_name, mime=item.mime,
                               key=f"{key}.download.{item.file_name.rsplit('.', 1)[1]}", on_click="ignore",
                               width="stretch")


def render_report(report: RunReport, *, key: str, downloadable: bool = True) -> None:
    """The whole results view for one report."""
    verdict_banner(report)
    target = f"{report.host}:{report.port} ({report.security})"
    st.caption(f"Run {markdown(report.run_id)} · {markdown(report.profile)} · {markdown(target)} · "
               f"sender {markdown(report.sender or '—')} · {report.started_at:%Y-%m-%d %H:%M:%S %Z}")
    results_table(report)
    if downloadable:
        render_downloads(report, key=key)
    st.subheader("Check by check")
    for result in report.results:
        check_section(result)
