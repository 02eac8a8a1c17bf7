"""The batch screen's parts: read the inputs, run with a progress bar, summary by verdict, failing-checks chart."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from checks.batch.file import BatchFileError, BatchSetup, load_batch, load_secrets, secrets_environ
from checks.batch.report import (
    batch_to_csv,
    batch_to_json,
    batch_verdict_line,
    problem_counts,
    summary_rows,
    summary_to_csv,
)
from checks.batch.run import DEFAULT_JOBS, MAX_JOBS, BatchReport, SetupOutcome, run_batch
from checks.model import Verdict
from checks.safe_text import markdown, one_line, visible
from console.history_store import LABEL_KEY, save_batch_report
from console.hosting import HostingLimits, admit, allowed_jobs, batch_refusal
from console.results import render_report

REPORT_KEY = "batch.report"
EXAMPLE_CSV = (
    "name,profile,host,username,sender,password_env\n"
    "shop-gmail,gmail,smtp.gmail.com,shop@gmail.com,shop@gmail.com,SHOP_APP_PASSWORD\n"
    "crm-m365,m365-basic,smtp.office365.com,crm@contoso.example,crm@contoso.example,CRM_PASSWORD\n"
)
VERDICT_WORDS = {Verdict.READY: "Ready", Verdict.INCOMPLETE: "Not proven yet", Verdict.PROBLEMS: "Problems to fix"}


@dataclass(frozen=True)
class BatchInputs:
    """What the screen runs: the setups and where their `*_env` references are looked up (holds secrets)."""

    setups: tuple[BatchSetup, ...]
    environ: Mapping[str, str]
    jobs: int


def read_inputs(*, upload: Any = None, pasted: str = "", secrets_text: str = "", use_environment: bool = False,
                jobs: int = DEFAULT_JOBS, limits: HostingLimits | None = None) -> BatchInputs:
    """The uploaded file (else the pasted text) and the secrets; BatchFileError with the reason when unusable
    or beyond what this console allows (batch size, environment lookups; jobs are capped)."""
    limits = limits or HostingLimits.from_environment()
    if upload is not None:
        setups = load_batch(upload.getvalue(), name=getattr(upload, "name", "") or "upload.csv")
    elif pasted.strip():
        looks_toml = pasted.lstrip().startswith(("[[", "#"))
        setups = load_batch(pasted.encode("utf-8"), name="pasted.toml" if looks_toml else "pasted.csv")
    else:
        raise BatchFileError("Upload a batch file or paste one first.")
    refusal = batch_refusal(len(setups), uses_environment=use_environment, limits=limits)
    if refusal:
        raise BatchFileError(refusal)
    secrets = load_secrets(secrets_lines(secrets_text).encode("utf-8"), name="secrets") if secrets_text.strip() else {}
    environ = secrets_environ(secrets, os.environ if use_environment else None)
    return BatchInputs(tuple(setups), environ, allowed_jobs(max(1, min(MAX_JOBS, int(jobs))), limits))


def secrets_lines(text: str) -> str:
    """The one-line secrets box ('A=1; B=2') as NAME=value lines (a value may hold ';' unless NAME= follows)."""
    return re.sub(r";\s*(?=[A-Za-z_][A-Za-z0-9_]*\s*=)", "\n", text)


class ProgressBar:
    """Batch observer that moves an st.progress bar (runs on the script thread)."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar
        self.total = self.done = self.problems = 0

    def on_batch_plan(self, names: list[str]) -> None:
        self.total = len(names)
        self.bar.progress(0.0, text=f"Checking {self.total} setups…")

    def on_setup_finish(self, outcome: SetupOutcome) -> None:
        self.done += 1
        self.problems += outcome.verdict is Verdict.PROBLEMS
        self.bar.progress(self.done / max(1, self.total),
                          text=f"{self.done}/{self.total} setups checked · {self.problems} with problems "
                               f"· last: {markdown(one_line(outcome.name, 60))}")


def run_with_progress(inputs: BatchInputs) -> BatchReport | None:
    """Run the batch with a progress bar (each setup counts as a run of this session and client) and save each
    setup's run in the history; the report holds no secret. None when the hosting run limit refuses it."""
    refusal = admit(len(inputs.setups))
    if refusal:
        st.error(refusal, icon=":material/hourglass_top:")
        return None
    bar = st.progress(0.0, text="Starting…")
    report = run_batch(list(inputs.setups), jobs=inputs.jobs, observer=ProgressBar(bar), environ=inputs.environ)
    bar.progress(1.0, text=batch_verdict_line(report))

    save_batch_report(report, label=str(st.session_state.get(LABEL_KEY) or ""))
    return report


def verdict_counts(batch: BatchReport) -> dict[str, int]:
    """Setups by verdict, in words ('Ready': 3, 'Problems to fix': 1)."""
    counts = Counter(outcome.verdict for outcome in batch.outcomes)
    return {VERDICT_WORDS[v]: counts.get(v, 0) for v in Verdict}


def render_summary(batch: BatchReport) -> None:
    """Verdict banner, setups by verdict, and one table row per setup."""
    line = batch_verdict_line(batch)
    if batch.problems:
        st.error(f"**{line}** — pick a setup below for the cause and the fix.", icon=":material/build:")
    else:
        st.success(f"**{line}**", icon=":material/check_circle:")
    columns = st.columns(1 + len(Verdict))
    columns[0].metric("Setups", len(batch.outcomes))
    for column, (label, count) in zip(columns[1:], verdict_counts(batch).items(), strict=True):
        column.metric(label, count)
    table = [{"Setup": visible(r["setup"]), "Verdict": VERDICT_WORDS[Verdict(r["verdict"])], "Host": f"{r['host']}:{r['port']}",
              "Profile": r["profile"], "Pass": r["pass"], "Warn": r["warn"], "Fail": r["fail"], "Skip": r["skip"],
              "Error": r["error"], "Problems": r["problems"]} for r in summary_rows(batch)]
    st.dataframe(table, hide_index=True, width="stretch")


def render_problem_chart(batch: BatchReport) -> None:
    """Bar chart: in how many setups each check failed or broke."""
    counts = problem_counts(batch)
    st.subheader("Which checks fail most")
    if not counts:
        st.caption("No check failed in any setup.")
        return
    import pandas as pd

    frame = pd.DataFrame({"check": list(counts), "setups": list(counts.values())})
    st.bar_chart(frame, x="check", y="setups", x_label="check", y_label="setups with a fail or error",
                 sort=False)


def render_downloads(batch: BatchReport) -> None:
    stem = f"relay-batch-{batch.batch_id}"
    files = (("CSV (every check)", f"{stem}.csv", batch_to_csv(batch), "text/csv"),
             ("JSON", f"{stem}.json", batch_to_json(batch), "application/json"),
             ("Summary CSV", f"{stem}-summary.csv", summary_to_csv(batch), "text/csv"))
    for column, (label, name, text, mime) in zip(st.columns(3), files, strict=True):
        column.download_button(label, icon=":material/download:", data=text.encode("utf-8"), file_name=name, mime=mime,
                               key=f"batch.download.{name}", on_click="ignore", width="stretch")


def render_setup(batch: BatchReport) -> None:
    """One setup's full results, picked from a list (problems first)."""
    ordered = sorted(batch.outcomes, key=lambda o: o.verdict is not Verdict.PROBLEMS)
    if not ordered:
        return
    st.subheader("One setup in detail")
    by_name = {o.name: o for o in ordered}
    name = st.selectbox("Setup", list(by_name), format_func=lambda n: f"{VERDICT_WORDS[by_name[n].verdict]} · {visible(n)}",
                        key="batch.setup")
    render_report(by_name[name].report, key=f"batch.{name}", downloadable=False)


def render_batch(batch: BatchReport) -> None:
    """The whole results view of a batch."""
    if batch.not_run:
        st.warning(f"{len(batch.not_run)} setups did not finish.")
    render_summary(batch)
    render_downloads(batch)
    render_problem_chart(batch)
    render_setup(batch)
