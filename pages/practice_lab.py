"""Practice lab: run the checks against built-in lab servers; works offline with no configuration."""

import streamlit as st

from console import practice
from console.results import render_report, run_with_progress
from console.state import load_form

st.title("Practice lab")
st.markdown(
    "New here? This console checks an SMTP relay setup (Gmail, Google Workspace, Microsoft 365) step by step "
    "and tells you what to fix. The practice lab runs it against **lab servers started inside the console** that "
    "answer like Gmail or Microsoft 365 — nothing to configure, nothing leaves this machine. Pick a scenario, "
    "run it, and see what a working setup and each common mistake look like."
)

items = {item.id: item for item in practice.scenarios()}
pick_col, about_col = st.columns([2, 3], gap="large")
with pick_col:
    chosen = items[st.radio("Scenario", list(items), format_func=lambda sid: items[sid].title,
                            key="practice.scenario")]
with about_col, st.container(border=True):
    st.markdown(f"#### {chosen.title}")
    st.markdown(chosen.description)
    st.markdown(practice.expectation(chosen))
    run = st.button("Run this scenario", icon=":material/play_arrow:", type="primary", width="stretch")
    load = st.button("Load into Check a relay", icon=":material/edit_note:", width="stretch",
                     help="Open the relay form with this scenario's settings, to try changes yourself.")
if load:
    load_form(st.session_state, practice.lab_values(chosen.id))
    st.session_state.pop("check.report", None)
    st.switch_page("pages/check_relay.py")

if run:
    try:
        config = practice.lab_config(chosen.id)
    except Exception as exc:  # noqa: BLE001 - show the lab problem, never a traceback
        st.error(f"The practice lab could not start: {type(exc).__name__}. Try again, or restart the console.")
    else:
        st.session_state["practice.report"] = run_with_progress(config, label=f"Running “{chosen.title}”…",
                                                                  practice=True)
        st.session_state["practice.report_of"] = chosen.id

report = st.session_state.get("practice.report")
if report is not None:
    if st.session_state.get("practice.report_of") != chosen.id:
        st.caption("Results below are from the scenario you ran before; run this one to replace them.")
    render_report(report, key="practice")
