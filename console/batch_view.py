"""The batch screen's parts: read the file and the secrets it names, run with a progress bar, then the setups
by verdict and cause in plain words, a chart of causes, and any setup opened into its full result."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from checks.batch.file import BatchFileError, BatchSetup, load_batch, load_secrets, secrets_environ
from checks.batch.report import batch_to_csv, batch_to_json, batch_verdict_line, summary_to_csv
from checks.batch.run import DEFAULT_JOBS, MAX_JOBS, BatchReport, SetupOutcome, run_batch
from checks.knowledge.reader import explain
from checks.model import CheckResult, Verdict
from checks.safe_text import markdown, visible
from checks.settings.fields import ENV_REFERENCES
from console.answer import answer
from console.history_store import LABEL_KEY, save_batch_report
from console.hosting import HostingLimits, admit, allowed_jobs, batch_refusal
from console.pictures import causes_chart
from console.results import render_report

REPORT_KEY = "batch.report"
EXAMPLE_CSV = (
    "name,profile,host,username,sender,password_env\n"
    "shop-gmail,gmail,smtp.gmail.com,shop@gmail.com,shop@gmail.com,SHOP_APP_PASSWORD\n"
    "crm-m365,m365-basic,smtp.office365.com,crm@contoso.example,crm@contoso.example,CRM_PASSWORD\n"
)
VERDICT_WORDS = {Verdict.READY: "Ready", Verdict.INCOMPLETE: "Not proven yet", Verdict.PROBLEMS: "Problems to fix"}
_PARENTHESES = re.compile(r"\s*\([^()]*\)")
_ADDRESS = re.compile(r"\S+@\S+")


@dataclass(frozen=True)
class BatchInputs:
    """What the screen runs: the setups and where their `*_env` references are looked up (holds secrets)."""

    setups: tuple[BatchSetup, ...]
    environ: Mapping[str, str]
    jobs: int


def read_setups(*, upload: Any = None, pasted: str = "") -> tuple[BatchSetup, ...]:
    """The uploaded file (else the pasted text); BatchFileError with the reason when unusable."""
    if upload is not None:
        return tuple(load_batch(upload.getvalue(), name=getattr(upload, "name", "") or "upload.csv"))
    if pasted.strip():
        looks_toml = pasted.lstrip().startswith(("[[", "#"))
        return tuple(load_batch(pasted.encode("utf-8"), name="pasted.toml" if looks_toml else "pasted.csv"))
    raise BatchFileError("Upload a batch file or paste one first.")


def secret_names(setups: tuple[BatchSetup, ...]) -> tuple[str, ...]:
    """The secret names the setups refer to (password_env = NAME ...), each once, in order of appearance."""
    names = [str(s.values[ref]).strip() for s in setups for ref in ENV_REFERENCES if s.values.get(ref)]
    return tuple(dict.fromkeys(n for n in names if n))


def read_inputs(setups: tuple[BatchSetup, ...], *, secrets_text: str = "", use_environment: bool = False,
                jobs: int = DEFAULT_JOBS, limits: HostingLimits | None = None) -> BatchInputs:
    """The setups with their secrets (the one-line secrets box, then the environment if allowed); BatchFileError
    when beyond what this console allows (batch size, environment lookups; jobs are capped)."""
    limits = limits or HostingLimits.from_environment()
    refusal = batch_refusal(len(setups), uses_environment=use_environment, limits=limits)
    if refusal:
        raise BatchFileError(refusal)
    secrets = load_secrets(secrets_lines(secrets_text).encode("utf-8"), name="secrets") if secrets_text.strip() else {}
    environ = secrets_environ(secrets, os.environ if use_environment else None)
    return BatchInputs(setups, environ, allowed_jobs(max(1, min(MAX_JOBS, int(jobs))), limits))


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
                          text=f"{self.done}/{self.total} setups checked · {self.problems} with problems")


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


def cause_label(result: CheckResult) -> str:
    """A problem's cause in a few plain words, the same for every setup with that cause: the catalog's title of
    the server's reply, else the summary's first sentence without codes, dates, addresses or values."""
    if result.reply:
        explanation = explain(result.reply)
        if explanation.known:
            return f"{result.title}: {explanation.title}"
    sentence = re.split(r"(?<=[a-z)])\.\s", result.summary.strip(), maxsplit=1)[0].rstrip(".")
    words = _ADDRESS.sub("the address", _PARENTHESES.sub("", sentence)).strip()
    return words if len(words) <= 90 else words[:89].rstrip() + "…"


def cause_of(outcome: SetupOutcome) -> str:
    """The setup's first problem (or the reason it is not proven) in words; '' when ready."""
    found = answer(outcome.report)
    if outcome.verdict is Verdict.READY or found.step is None:
        return ""
    return cause_label(found.step)


def cause_counts(batch: BatchReport) -> dict[str, int]:
    """Setups by cause of their first problem, most frequent first."""
    counts = Counter(cause_of(o) for o in batch.outcomes if o.verdict is Verdict.PROBLEMS)
    return dict(counts.most_common())


def verdict_counts(batch: BatchReport) -> dict[str, int]:
    """Setups by verdict, in words ('Ready': 3, 'Problems to fix': 1)."""
    counts = Counter(outcome.verdict for outcome in batch.outcomes)
    return {VERDICT_WORDS[v]: counts.get(v, 0) for v in Verdict}


def ordered(batch: BatchReport) -> tuple[SetupOutcome, ...]:
    """Problems first, then not proven, then ready; file order within each."""
    rank = {Verdict.PROBLEMS: 0, Verdict.INCOMPLETE: 1, Verdict.READY: 2}
    return tuple(sorted(batch.outcomes, key=lambda o: rank[o.verdict]))


def setup_rows(outcomes: tuple[SetupOutcome, ...]) -> list[dict[str, str]]:
    """The table: setup, cause (kept next to the name so a phone shows it), verdict, host."""
    return [{"Setup": visible(o.name), "Cause": visible(cause_of(o)) or "—", "Verdict": VERDICT_WORDS[o.verdict],
             "Host": f"{o.report.host}:{o.report.port}"} for o in outcomes]


def render_summary(batch: BatchReport) -> tuple[SetupOutcome, ...]:
    """Verdict banner, setups by verdict and the table of setups; returns the table's order."""
    line = batch_verdict_line(batch)
    if batch.problems:
        st.error(f"**{line}** — select a setup below for its cause and fix.", icon=":material/build:")
    else:
        st.success(f"**{line}**", icon=":material/check_circle:")
    with st.container(horizontal=True):
        st.metric("Setups", len(batch.outcomes))
        for name, count in verdict_counts(batch).items():
            st.metric(name, count)
    return ordered(batch)


def render_causes_chart(batch: BatchReport) -> None:
    counts = cause_counts(batch)
    if counts:
        st.markdown("##### Setups by cause")
        st.altair_chart(causes_chart(counts), width="stretch", height=40 + 28 * len(counts))


def render_downloads(batch: BatchReport) -> None:
    stem = f"relay-batch-{batch.batch_id}"
    files = (("CSV (every check)", f"{stem}.csv", batch_to_csv(batch), "text/csv"),
             ("JSON", f"{stem}.json", batch_to_json(batch), "application/json"),
             ("Summary CSV", f"{stem}-summary.csv", summary_to_csv(batch), "text/csv"))
    with st.container(horizontal=True):
        for label, name, text, mime in files:
            st.download_button(label, icon=":material/download:", data=text.encode("utf-8"), file_name=name,
                               mime=mime, key=f"batch.download.{name}", on_click="ignore")


def render_batch(batch: BatchReport) -> None:
    """The whole results view of a batch: summary, causes chart, the setups table; a selected row opens."""
    if batch.not_run:
        st.warning(f"{len(batch.not_run)} setups did not finish.")
    outcomes = render_summary(batch)
    render_causes_chart(batch)
    st.markdown("##### Setups (select one to open its full result)")
    picked = st.dataframe(setup_rows(outcomes), hide_index=True, width="stretch", on_select="rerun",
                          selection_mode="single-row", key="batch.table",
                          column_config={"Setup": st.column_config.TextColumn(width="small"),
                                         "Cause": st.column_config.TextColumn(width="large")})
    render_downloads(batch)
    if picked.selection.rows:
        outcome = outcomes[picked.selection.rows[0]]
        st.markdown(f"#### {markdown(outcome.name)}")
        render_report(outcome.report, key=f"batch.{outcome.name}", downloadable=False)
