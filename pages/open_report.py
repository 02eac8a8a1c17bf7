"""Open a report: one saved report shows as after a run; two show side by side with what changed."""

import streamlit as st

from checks.safe_text import markdown
from console.reports_io import load_reports, render_comparison
from console.results import render_report

st.title("Open a report")
st.caption("Upload a report CSV (or JSON) saved from this console or the command line. Upload two — before and "
           "after a fix — to see what changed.")

uploads = st.file_uploader("Report files", type=["csv", "json"], accept_multiple_files=True, key="report.files")
loaded = load_reports((f.name, f.getvalue()) for f in uploads or [])
for error in loaded.errors:
    st.error(markdown(error))
for note in loaded.notes:
    st.info(markdown(note))
if len(loaded.reports) == 1:
    render_report(loaded.reports[0], key="opened", downloadable=False)
elif len(loaded.reports) == 2:
    render_comparison(loaded.reports[0], loaded.reports[1], loaded.names)
elif not loaded.errors:
    st.info("No report yet. Run a check (or a practice scenario) and download its CSV to try this page.")
