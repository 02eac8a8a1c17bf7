"""Check a relay: pick a setup, fill in what the guide asks for, run every check, read the answer first."""

import streamlit as st

from checks.settings.config import ProfileId
from console import share
from console.app_secrets import secrets_section
from console.forms import profile_label
from console.relay_form import (
    auth_picker,
    load_message,
    load_settings_control,
    profile_picker,
    relay_form,
    save_settings_button,
    signed_in_note,
    take_pending,
)
from console.results import render_report, run_with_progress
from console.state import REPORT_KEY, form_values, keep_form

st.title("Check a relay")
st.caption("Fill in the settings exactly as in your application; the answer and the fix appear under **Run "
           "checks**. Passwords and secrets stay in this session: never saved, logged or put in a report or link.")

keep_form(st.session_state, default_profile=str(secrets_section("defaults").get("profile") or "gmail"))
if share.open_link(st.session_state, st.query_params):
    st.info("Settings filled in from the link. Type the password or secret, then run the checks.",
            icon=":material/link:")
load_message()
profile_id = profile_picker([p.value for p in ProfileId], profile_label)
auth_picker(profile_id)
if profile_id == ProfileId.M365_OAUTH2:
    signed_in_note()

relay_form(profile_id)
config = take_pending(st.session_state)
if config is not None:
    st.session_state[REPORT_KEY] = run_with_progress(config)
link = share.remember_link(st.session_state, st.query_params, form_values(st.session_state))

report = st.session_state.get(REPORT_KEY)
if report is not None:
    render_report(report, key="check", known=form_values(st.session_state))

with st.container(horizontal=True):
    save_settings_button()
    with st.popover("Copy link", icon=":material/link:"):
        st.caption("Opens this form with these settings for a colleague (no password or secret); it does not "
                   "run the checks.")
        st.code(share.share_url(st.context.url, link), language=None, wrap_lines=True)
with st.expander("Load settings from a file"):
    load_settings_control()
