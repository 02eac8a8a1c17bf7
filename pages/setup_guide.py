"""Setup guide: the guide's steps as a checklist, each linked to the check that verifies it."""

import streamlit as st

from checks.registry import SPECS
from console import guide_progress
from console.guide_steps import GUIDE_URL, PARTS, PROFILE_OF_PART

st.title("Setup guide")
st.caption(f"The steps of the [SMTP relay setup guide]({GUIDE_URL}). Tick them off as you go (the ticks are kept in "
           "this page's address); each names the check of this console that verifies it.")

guide_progress.read_link(st.session_state, st.query_params)
for part, steps in PARTS.items():
    done = sum(bool(st.session_state.get(guide_progress.tick_key(s.id))) for s in steps)
    with st.expander(f"{part} · {done}/{len(steps)} done", expanded=guide_progress.is_open(st.session_state, part)):
        for step in steps:
            st.checkbox(step.text, key=guide_progress.tick_key(step.id), on_change=guide_progress.on_tick,
                        args=(st.session_state, part))
            checks = ", ".join(f"**{SPECS[c].title}** (`{c}`)" for c in step.verified_by)
            where = f" · [Open the page]({step.link})" if step.link else ""
            st.caption(f"Verified by: {checks or 'you (no automatic check)'} · Guide: [{step.section}]({GUIDE_URL})"
                       f"{where}")
            if step.helper_page:
                st.page_link(step.helper_page, label="Open the page that helps with this step",
                             icon=":material/arrow_forward:")
        st.page_link("pages/check_relay.py", label="Run the checks for this setup", icon=":material/play_arrow:",
                     query_params={"profile": PROFILE_OF_PART[part]})
guide_progress.write_link(st.session_state, st.query_params)
