"""Check a relay: pick a setup, fill in what the guide asks for, run every check, read the fixes."""

import streamlit as st

from checks.settings.config import ProfileId
from console.app_secrets import secrets_section
from console.forms import profile_label
from console.history_store import label_input
from console.relay_form import (
    load_settings_control,
    profile_picker,
    relay_form,
    save_settings_button,
    signed_in_note,
    take_pending,
    validate_and_queue,
)
from console.results import render_report, run_with_progress
from console.state import REPORT_KEY, keep_form

st.title("Check a relay")
st.caption("Fill in the settings exactly as in your application. Each check tells you what it found and how "
           "to fix it. Passwords and secrets stay in this session: never saved, logged or put in a report.")

keep_form(st.session_state, default_profile=str(secrets_section("defaults").get("profile") or "gmail"))
profile_id = profile_picker([p.value for p in ProfileId], profile_label)
if profile_id == ProfileId.M365_OAUTH2:
    signed_in_note()

relay_form(profile_id)
label_input()

run_col, save_col = st.columns(2)
run_col.button("Run checks", icon=":material/play_arrow:", type="primary", width="stretch", on_click=validate_and_queue,
               args=(st.session_state,))
with save_col:
    save_settings_button()
with st.expander("Load settings from a file"):
    load_settings_control()

config = take_pending(st.session_state)
if config is not None:
    st.session_state[REPORT_KEY] = run_with_progress(config)

report = st.session_state.get(REPORT_KEY)
if report is not None:
    st.divider()
    render_report(report, key="check")
