"""Practice lab: run the checks against built-in lab servers; works offline with no configuration."""

import streamlit as st

from console import practice
from console.results import render_report, run_with_progress
from console.state import load_form

st.title("Practice lab")
st.caption("See what a working relay and each common mistake look like: the checks run against **lab servers "
           "inside the console** that answer like Gmail or Microsoft 365. Nothing leaves this machine.")

items = {item.id: item for item in practice.scenarios()}
practice.keep_picker(st.session_state, st.query_params)
pick_col, result_col = st.columns([1, 2], gap="medium")
with pick_col:
    family = st.selectbox("Kind of problem", practice.FAMILIES, key="practice.family",
                          on_change=practice.on_family_change, args=(st.session_state,))
    chosen = items[st.selectbox("Scenario", practice.in_family(family), format_func=lambda sid: items[sid].title,
                                key="practice.scenario")]
    practice.remember_link(st.session_state, st.query_params, chosen.id)
    st.caption(f"{chosen.description} {practice.expectation(chosen)}")
    with st.container(horizontal=True):
        run = st.button("Run this scenario", icon=":material/play_arrow:", type="primary")
        load = st.button("Load into Check a relay", icon=":material/edit_note:", type="tertiary")
if load:
    load_form(st.session_state, practice.lab_values(chosen.id))
    st.session_state.pop("check.report", None)
    st.switch_page("pages/check_relay.py")

with result_col:
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
    if report is None:
        st.info("Pick a scenario and press **Run this scenario**: the answer appears here.",
                icon=":material/arrow_back:")
    else:
        ran = st.session_state.get("practice.report_of")
        stale = "" if ran == chosen.id else f"From the scenario you ran before ({items[ran].title})."
        render_report(report, key="practice", stale=stale)
