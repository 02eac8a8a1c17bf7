"""Setup guide: the guide's steps as a checklist, each linked to the check that verifies it."""

import streamlit as st

from checks.registry import SPECS
from console.guide_steps import PARTS

st.title("Setup guide")
st.caption("The steps of the SMTP relay setup guide. Tick them off as you go; each names the check of this "
           "console that verifies it, so a failed check points you back here.")

for part, steps in PARTS.items():
    done = sum(bool(st.session_state.get(f"guide.{s.id}")) for s in steps)
    with st.expander(f"{part} · {done}/{len(steps)} done", expanded=part.startswith("Gmail")):
        for step in steps:
            st.checkbox(step.text, key=f"guide.{step.id}")
            checks = ", ".join(f"**{SPECS[c].title}** (`{c}`)" for c in step.verified_by)
            st.caption(f"Verified by: {checks or 'you (no automatic check)'} · Guide: {step.section}")
            if step.helper_page:
                st.page_link(step.helper_page, label="Open the page that helps with this step", icon=":material/arrow_forward:")
        st.page_link("pages/check_relay.py", label="Run the checks for this setup", icon=":material/play_arrow:")
