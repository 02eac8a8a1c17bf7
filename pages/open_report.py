"""Open a report: one saved report shows as after a run; two compare older -> newer; a batch opens as its runs."""

import streamlit as st

from checks.safe_text import markdown
from console.reports_io import load_reports_once, render_comparison, run_rows
from console.results import render_report

st.title("Open a report")
st.caption("Upload a report CSV or JSON saved from this console or the command line, or a batch report. Upload "
           "two (before and after a fix) to see what changed; they are compared by run time, older to newer.")

uploads = st.file_uploader("Report files", type=["csv", "json"], accept_multiple_files=True, key="report.files")
loaded = load_reports_once(st.session_state, ((f.name, f.getvalue()) for f in uploads or []))
for error in loaded.errors:
    st.error(markdown(error), icon=":material/description:")
for note in loaded.notes:
    st.info(markdown(note))
if len(loaded.reports) == 1:
    render_report(loaded.reports[0], key="opened")
elif len(loaded.reports) == 2:
    render_comparison(loaded.reports[0], loaded.reports[1], (loaded.names[0], loaded.names[1]))
if len(loaded.reports) > 1:
    st.subheader(f"The {len(loaded.reports)} runs, oldest first")
    picked = st.dataframe(run_rows(loaded.reports, loaded.names), hide_index=True, width="stretch",
                          on_select="rerun", selection_mode="single-row", key="report.runs")
    rows = picked.selection.rows
    if rows:
        render_report(loaded.reports[rows[0]], key=f"opened.{rows[0]}")
    else:
        st.caption("Select a row to open that run in full.")
elif not loaded.reports and not loaded.errors:
    st.info("No report yet. Run a check (or a practice scenario) and download its CSV to try this page.")
