"""Batch check: many relay setups from one CSV or TOML file, checked together, summarised by verdict."""

import streamlit as st

from checks.batch.file import BatchFileError
from checks.batch.run import DEFAULT_JOBS, MAX_JOBS
from checks.safe_text import markdown
from console.batch_view import EXAMPLE_CSV, REPORT_KEY, read_inputs, render_batch, run_with_progress
from console.history_store import label_input
from console.hosting import HostingLimits, allowed_jobs

st.title("Batch check")
st.markdown(
    "Check many relay setups at once — one per customer, site or application. Give a **CSV** with a `name` "
    "column plus setting columns (`profile`, `host`, `port`, `security`, `username`, `sender`, `password_env`, …) "
    "or a **TOML** file with one `[[setup]]` table per setup. Passwords are never written in the file: "
    "`password_env` names an entry of the secrets box below."
)
with st.expander("Example batch file"):
    st.code(EXAMPLE_CSV, language="csv")

upload = st.file_uploader("Batch file", type=["csv", "toml"], key="batch.upload")
pasted = st.text_area("…or paste the batch file here", key="batch.text", height=150,
                      placeholder="name,profile,host,username,sender,password_env")
limits = HostingLimits.from_environment()
secrets_text = st.text_input(
    "Secrets (NAME=value; NAME2=value)", key="batch.secrets", type="password", autocomplete="new-password",
    placeholder="SHOP_APP_PASSWORD=…; CRM_PASSWORD=…",
    help="Hidden while you type or share the screen; kept in this session's memory only, never shown in results "
         "or files.")
use_environment = limits.environment_lookups and st.checkbox(
    "Also look up names in this server's environment variables", key="batch.use_env", value=False,
    help="Off by default: a batch file could otherwise send this server's secrets to any host it names.")
most_jobs = allowed_jobs(MAX_JOBS, limits)
jobs = st.number_input("Setups checked at the same time", min_value=1, max_value=most_jobs,
                       value=min(DEFAULT_JOBS, most_jobs), key="batch.jobs")
if limits.max_batch_setups is not None:
    st.caption(f"This console checks at most {limits.max_batch_setups} setups per batch, {most_jobs} at a time.")

label_input()
if st.button("Run the batch", icon=":material/play_arrow:", type="primary", key="batch.run"):
    try:
        inputs = read_inputs(upload=upload, pasted=pasted, secrets_text=secrets_text,
                             use_environment=use_environment, jobs=int(jobs), limits=limits)
    except BatchFileError as exc:
        st.error(markdown(str(exc)), icon=":material/description:")
    else:
        st.session_state[REPORT_KEY] = run_with_progress(inputs)

report = st.session_state.get(REPORT_KEY)
if report is not None:
    render_batch(report)
