"""Streamlit entry of the SMTP relay console: page config and navigation, nothing else."""

import streamlit as st

st.set_page_config(page_title="SMTP relay console", page_icon="✉️", layout="wide")  # an emoji: no icon download
st.navigation({
    "Diagnose": [
        st.Page("pages/practice_lab.py", title="Practice lab", icon=":material/science:", default=True),
        st.Page("pages/check_relay.py", title="Check a relay", icon=":material/mail:", url_path="check"),
    ],
    "Tools": [
        st.Page("pages/sign_in.py", title="Sign in with Microsoft", icon=":material/key:", url_path="sign_in"),
        st.Page("pages/audit.py", title="Audit a tenant", icon=":material/policy:", url_path="audit"),
        st.Page("pages/decode_error.py", title="Decode an error", icon=":material/manage_search:", url_path="decode"),
        st.Page("pages/inspect_token.py", title="Inspect a token", icon=":material/badge:", url_path="token"),
        st.Page("pages/batch.py", title="Batch check", icon=":material/playlist_add_check:", url_path="batch"),
        st.Page("pages/open_report.py", title="Open a report", icon=":material/folder_open:", url_path="report"),
        st.Page("pages/history.py", title="History", icon=":material/history:", url_path="history"),
    ],
    "Guide": [
        st.Page("pages/setup_guide.py", title="Setup guide", icon=":material/checklist:", url_path="guide"),
    ],
}).run()
