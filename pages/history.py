"""History: every saved run, filtered by customer / ticket, host or verdict; a verdict timeline per setup; open
one run (also by link, ?run=ID) or compare two (?compare=OLD,NEW)."""

import streamlit as st

from console.history_store import history_store
from console.history_view import COMPARE_PARAM, RUN_PARAM, compare_runs, filters, open_run, runs_table, timeline

st.title("History")
st.caption("Every run of Check a relay and Batch check (practice runs excepted), and every run saved from the "
           "command line (`run --save`, `watch`). Select one run to open it, two to compare them.")

store = history_store()
if store is None:
    st.info("Run history is turned off on this console (RELAY_CONSOLE_DB).", icon=":material/history_toggle_off:")
    st.stop()

linked, pair = st.query_params.get(RUN_PARAM), st.query_params.get(COMPARE_PARAM)
if linked or pair:
    if st.button("All runs", icon=":material/arrow_back:", key="history.back"):
        st.query_params.clear()
        st.rerun()
    if linked:
        open_run(store, linked)
    else:
        compare_runs(store, pair.split(","))
    st.stop()

query = filters()
runs = store.runs(query)
if not runs:
    st.info("No saved run matches. Runs appear here after Check a relay or Batch check.", icon=":material/history:")
    st.stop()

timeline(runs)
chosen = runs_table(runs)
if len(chosen) == 1:
    st.divider()
    open_run(store, chosen[0])
elif len(chosen) == 2:
    st.divider()
    compare_runs(store, chosen)
elif len(chosen) > 2:
    st.warning("Select one run to open it, or two to compare them.", icon=":material/checklist:")
