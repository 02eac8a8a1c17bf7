"""The results view: live progress, the verdict card first, pictures of the path and the timing, then each check
(problems first), the table and the downloads."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from checks.model import CheckId, CheckResult, CommandLanguage, RunReport, Status
from checks.redact import secret_values
from checks.report.export import to_csv, to_json, to_markdown
from checks.run_state import Dependencies
from checks.runner import run_checklist
from checks.safe_text import markdown, one_line, visible
from checks.settings.config import RelayConfig
from checks.target_policy import TargetPolicy
from console.answer import Answer, Tone, answer, reading_order, root_cause
from console.commands import layout
from console.history_store import LABEL_KEY, save_report
from console.hosting import admit
from console.icons import label, word
from console.pictures import path_dot, timeline_chart

OPEN_BY_DEFAULT = (Status.FAIL, Status.ERROR, Status.WARN)
CODE_LANGUAGE = {CommandLanguage.SHELL: "bash", CommandLanguage.POSTFIX: "ini", CommandLanguage.TEXT: None}
TICK_SECONDS = 0.25
CARD_KEY = "verdict_card"
TONE_BOX = {Tone.PROBLEM: (st.error, ":material/build:"), Tone.CAUTION: (st.warning, ":material/warning:"),
            Tone.GOOD: (st.success, ":material/rocket_launch:")}


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


class QueueObserver:
    """Runner observer for a worker thread: hands each event to the script thread through a queue."""

    def __init__(self, events: queue.Queue) -> None:
        self.events = events

    def on_plan(self, checks: list[tuple[CheckId, str]]) -> None:
        self.events.put(("plan", checks))

    def on_start(self, check_id: CheckId, title: str) -> None:
        self.events.put(("start", title))

    def on_finish(self, result: CheckResult) -> None:
        self.events.put(("finish", result))


class LiveStatus:
    """The st.status box of a run: a line per finished check and a label with the waiting step's elapsed time."""

    def __init__(self, box: Any, clock: Callable[[], float] = time.monotonic) -> None:
        self.box, self.clock = box, clock
        self.total = self.done = 0
        self.waiting: dict[str, float] = {}  # title -> when it started

    def apply(self, event: str, payload: Any) -> None:
        if event == "plan":
            self.total = len(payload)
        elif event == "start":
            self.waiting[payload] = self.clock()
        elif event == "finish":
            self.done += 1
            self.waiting.pop(payload.title, None)
            self.box.markdown(f"{label(payload.status)} · **{markdown(payload.title)}** — "
                              f"{markdown(one_line(payload.summary))}")

    def label(self) -> str:
        if not self.waiting:
            return f"Running {self.total} checks… ({self.done}/{self.total})"
        title, since = min(self.waiting.items(), key=lambda item: item[1])
        return f"Checking: {title}… ({self.done}/{self.total}) · {self.clock() - since:.0f} s"


def run_with_progress(config: RelayConfig, *, label: str = "Running checks…", practice: bool = False
                      ) -> RunReport | None:
    """Run the checklist in a worker thread while the status box counts the waiting step's seconds; None when
    the hosting run limit refuses the run. Every run but a practice run is saved in the history, with the form's
    'Customer / ticket' label. Practice runs target the console's own lab: no target policy."""
    policy = TargetPolicy.from_environment()
    refusal = admit(1)
    if refusal:
        st.error(refusal, icon=":material/hourglass_top:")
        return None
    deps = Dependencies(policy=TargetPolicy() if practice else policy)
    events: queue.Queue = queue.Queue()
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["report"] = run_checklist(config, observer=QueueObserver(events), deps=deps)
        except BaseException as exc:  # noqa: BLE001 - handed to the script thread, raised there
            outcome["error"] = exc

    holder = st.empty()  # the live box goes once the verdict card can answer
    with holder.status(label, expanded=True) as box:
        live = LiveStatus(box)
        worker = threading.Thread(target=work, name="relay-run", daemon=True)
        worker.start()
        while worker.is_alive() or not events.empty():
            while not events.empty():
                live.apply(*events.get_nowait())
            box.update(label=live.label())
            worker.join(timeout=TICK_SECONDS)
        if "error" in outcome:
            raise outcome["error"]
    holder.empty()
    report = outcome["report"]
    if not practice:
        save_report(report, label=str(st.session_state.get(LABEL_KEY) or ""), hide=secret_values(config))
    return report


def _step_line(found: Answer) -> str:
    step = found.step
    if step is None:
        return "Every check passed."
    where = {Status.FAIL: "Broke at", Status.ERROR: "The check broke at", Status.WARN: "Warning from",
             Status.SKIP: "Could not check"}[step.status]
    return f"**{where} {markdown(step.title)}:** {markdown(found.cause)}"


def verdict_card(report: RunReport, *, known: Mapping[str, str] | None = None, stale: str = "") -> None:
    """The answer first: verdict, the first broken step's cause and fix, commands to copy, the go-live horizon."""
    found = answer(report, known=known)
    box, icon = TONE_BOX[found.tone]
    with st.container(border=True, key=CARD_KEY):
        if stale:
            st.caption(f":material/history: {stale}")
        box(f"**{found.headline}**", icon=icon)
        st.markdown(_step_line(found))
        if found.fix:
            st.markdown(f"**Fix:** {markdown(found.fix)}")
        for command in found.commands:
            if command.title:
                st.caption(markdown(command.title))
            st.code(layout(command.code) if command.language is CommandLanguage.POWERSHELL else command.code,
                    language=CODE_LANGUAGE.get(command.language, command.language.value))
        if found.horizon:
            today = report.started_at.date()
            dates = " · ".join(d.describe(today) for d in found.horizon)
            st.markdown(f":material/event: **Go-live horizon:** {dates}")
        target = f"{report.host}:{report.port} ({report.security})"
        st.caption(f"Run {markdown(report.run_id)} · {markdown(report.profile)} · {markdown(target)} · "
                   f"sender {markdown(report.sender or '—')} · "
                   f"{report.started_at:%Y-%m-%d %H:%M:%S %Z}")


def path_picture(report: RunReport) -> None:
    st.graphviz_chart(path_dot(report), width="stretch")


def timeline(report: RunReport) -> None:
    st.altair_chart(timeline_chart(report.results), width="stretch", height=40 + 22 * len(report.results))


def results_table(report: RunReport) -> None:
    rows = [{"Status": word(r.status), "Check": visible(r.title), "Id": str(r.check_id), "Summary": visible(r.summary),
             "Time (ms)": r.duration_ms} for r in reading_order(report)]
    st.dataframe(rows, hide_index=True, width="stretch", column_config={
        "Status": st.column_config.TextColumn(width=90), "Check": st.column_config.TextColumn(width=200),
        "Id": st.column_config.TextColumn(width=130), "Summary": st.column_config.TextColumn(width="large"),
        "Time (ms)": st.column_config.NumberColumn(width=80)})


def check_section(report: RunReport, result: CheckResult) -> None:
    """One check: summary, details, the server's words, masked transcript and the fix; skips name the root."""
    with st.expander(f"{label(result.status)} · {markdown(result.title)} · `{result.check_id}`",
                     expanded=result.status in OPEN_BY_DEFAULT):
        root = root_cause(report, result) if result.status is Status.SKIP else result
        if root is not result:
            st.markdown(f"{label(result.status)} — not run because **{markdown(root.title)}** ended with "
                        f"**{word(root.status)}**: {markdown(root.summary)}")
        else:
            st.markdown(f"{label(result.status)} — {markdown(result.summary)}")
        if result.details and result.details.strip() != result.summary.strip():
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
        column.download_button(item.label, data=item.data, icon=":material/download:", file_name=item.file_name,
                               mime=item.mime, key=f"{key}.download.{item.file_name.rsplit('.', 1)[1]}",
                               on_click="ignore", width="stretch")


def render_report(report: RunReport, *, key: str, downloadable: bool = True, known: Mapping[str, str] | None = None,
                  stale: str = "") -> None:
    """The whole results view for one report: answer, pictures, checks problems-first, table, downloads."""
    verdict_card(report, known=known, stale=stale)
    st.markdown("##### The path of the conversation")
    path_picture(report)
    st.markdown("##### Check by check")
    for result in reading_order(report):
        check_section(report, result)
    with st.expander("Timeline: how long each step took"):
        timeline(report)
    with st.expander("All checks as a table"):
        results_table(report)
    if downloadable:
        render_downloads(report, key=key)
