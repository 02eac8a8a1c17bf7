"""The History page's parts: filters, a verdict timeline per setup, the runs table, one run, two compared."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import streamlit as st

from checks.history.records import StoredRun
from checks.history.store import RunFilter, RunNotFound, RunStore
from checks.model import Verdict
from checks.safe_text import markdown, visible
from console.reports_io import render_comparison
from console.results import render_report

VERDICT_COLOURS = {Verdict.READY: "#2e7d32", Verdict.INCOMPLETE: "#f9a825", Verdict.PROBLEMS: "#c62828"}
VERDICT_WORDS = {Verdict.READY: "Ready", Verdict.INCOMPLETE: "Not proven yet", Verdict.PROBLEMS: "Problems"}
ANY = "Any verdict"
LIMITS = (50, 200, 1000)
RUN_PARAM = "run"
COMPARE_PARAM = "compare"


def filters() -> RunFilter:
    """The filter row: label or setup, host, verdict, since, how many."""
    name_col, host_col, verdict_col, since_col, limit_col = st.columns([3, 3, 2, 2, 1])
    name = name_col.text_input("Customer / ticket or setup", key="history.name", placeholder="contains…")
    host = host_col.text_input("Relay host", key="history.host", placeholder="smtp.office365.com")
    verdict = verdict_col.selectbox("Verdict", [ANY, *Verdict], key="history.verdict",
                                    format_func=lambda v: v if v == ANY else VERDICT_WORDS[Verdict(v)])
    since = since_col.date_input("Since", value=None, key="history.since")
    limit = limit_col.selectbox("Runs", LIMITS, key="history.limit")
    return RunFilter(name=name.strip(), host=host.strip(), verdict=None if verdict == ANY else Verdict(verdict),
                     since=dt.datetime.combine(since, dt.time(), dt.UTC) if since else None, limit=int(limit))


def timeline(runs: Sequence[StoredRun]) -> None:
    """One row per setup, one mark per run, coloured by its verdict (Vega-Lite, drawn offline)."""
    # lazy: pandas/altair load only when a table or chart is drawn
    import altair as alt
    import pandas as pd

    frame = pd.DataFrame([{"Started": r.started_at.replace(tzinfo=None), "Setup": visible(r.setup),
                           "Verdict": VERDICT_WORDS[r.verdict], "Run": r.run_id, "Label": visible(r.label),
                           "Problems": ", ".join(r.problems)} for r in runs])
    colours = alt.Scale(domain=list(VERDICT_WORDS.values()), range=list(VERDICT_COLOURS.values()))
    chart = alt.Chart(frame).mark_square(size=90).encode(
        x=alt.X("Started:T", title="Started (UTC)"), y=alt.Y("Setup:N", title=None),
        color=alt.Color("Verdict:N", scale=colours, legend=alt.Legend(orient="bottom")),
        tooltip=["Setup", "Label", "Started:T", "Verdict", "Problems", "Run"])
    st.altair_chart(chart, width="stretch")


def runs_table(runs: Sequence[StoredRun]) -> list[str]:
    """The runs, newest first; returns the ids of the rows the user selected."""
    rows = [{"Started (UTC)": r.started_at.strftime("%Y-%m-%d %H:%M"), "Setup": visible(r.setup),
             "Customer / ticket": visible(r.label), "Host": visible(f"{r.host}:{r.port}"),
             "Verdict": VERDICT_WORDS[r.verdict], "Problems": ", ".join(r.causes or r.problems),
             "By": visible(r.user), "Run": r.run_id} for r in runs]
    event = st.dataframe(rows, hide_index=True, width="stretch", on_select="rerun", selection_mode="multi-row",
                         key="history.table")
    return [runs[i].run_id for i in event.selection.rows if i < len(runs)]


def _stored(store: RunStore, run_id: str) -> StoredRun | None:
    try:
        return store.get(run_id)
    except RunNotFound as exc:
        st.error(str(exc), icon=":material/search_off:")
        return None


def open_run(store: RunStore, run_id: str) -> None:
    """One stored run in the same result view as after a run."""
    stored = _stored(store, run_id)
    if stored is None:
        return
    who = f" · by {markdown(stored.user)}" if stored.user else ""
    label = f" · {markdown(stored.label)}" if stored.label else ""
    st.subheader(f"{markdown(stored.setup)}{label}")
    st.caption(f"Saved from {markdown(stored.source or 'unknown')}{who} · tool version {markdown(stored.tool_version)}"
               f" · link: `?{RUN_PARAM}={stored.run_id}`")
    render_report(stored.report(), key=f"history.{stored.run_id}")


def compare_runs(store: RunStore, run_ids: Sequence[str]) -> None:
    """Two stored runs compared check by check, older -> newer whatever the selection order."""
    found = [s for s in (_stored(store, i.strip()) for i in run_ids[:2]) if s is not None]
    if len(found) != 2:
        if len(run_ids) < 2:
            st.info("Give two runs to compare: ?compare=OLD,NEW", icon=":material/compare_arrows:")
        return
    before, after = sorted(found, key=lambda s: s.started_at)
    names = tuple(f"{visible(s.setup)} {s.started_at:%Y-%m-%d %H:%M}" for s in (before, after))
    render_comparison(before.report(), after.report(), names)
    st.caption(f"Link to this comparison: `?{COMPARE_PARAM}={before.run_id},{after.run_id}`")
