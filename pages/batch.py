"""Batch check: many relay setups from one CSV or TOML file, checked together, summarised by verdict and cause."""

import streamlit as st

from checks.batch.file import BatchFileError
from checks.batch.run import DEFAULT_JOBS, MAX_JOBS
from checks.safe_text import markdown
from console.batch_view import (
    EXAMPLE_CSV,
    REPORT_KEY,
    read_inputs,
    read_setups,
    render_batch,
    run_with_progress,
    secret_names,
)
from console.history_store import label_input
from console.hosting import HostingLimits, allowed_jobs

st.title("Batch check")
st.caption("Check many relay setups at once — one per customer, site or application. A **CSV** has a `name` "
           "column plus setting columns (`profile`, `host`, `port`, `security`, `username`, `sender`, "
           "`password_env`, …); a **TOML** file has one `[[setup]]` table per setup. Files never hold a password: "
           "`password_env` names a secret you give below.")
with st.expander("Example batch file"):
    st.code(EXAMPLE_CSV, language="csv")

upload = st.file_uploader("Batch file", type=["csv", "toml"], key="batch.upload")
pasted = st.text_area("…or paste the batch file here", key="batch.text", height=120,
                      placeholder="name,profile,host,username,sender,password_env")
try:
    setups, problem = read_setups(upload=upload, pasted=pasted), ""
except BatchFileError as exc:
    setups, problem = (), str(exc)
names = secret_names(setups)
limits = HostingLimits.from_environment()
most_jobs = allowed_jobs(MAX_JOBS, limits)

with st.form("batch", border=True):
    if setups:
        st.caption(f"{len(setups)} setups in the file" + (f"; the secrets it names: {markdown(', '.join(names))}"
                                                          if names else "."))
    secrets_text = st.text_input(
        "Secrets (NAME=value; NAME2=value)", key="batch.secrets", type="password", autocomplete="new-password",
        placeholder="SHOP_APP_PASSWORD=…; CRM_PASSWORD=…",
        help="Hidden while you type or share the screen; kept in this session's memory only, never shown in "
             "results or files.")
    use_environment = limits.environment_lookups and st.checkbox(
        "Also look up names in this server's environment variables", key="batch.use_env", value=False,
        help="Off by default: a batch file could otherwise send this server's secrets to any host it names.")
    jobs = st.number_input("Setups checked at the same time", min_value=1, max_value=most_jobs,
                           value=min(DEFAULT_JOBS, most_jobs), key="batch.jobs")
    if limits.max_batch_setups is not None:
        st.caption(f"This console checks at most {limits.max_batch_setups} setups per batch, {most_jobs} at a time.")
    label_input()
    run = st.form_submit_button("Run the batch", icon=":material/play_arrow:", type="primary", key="batch.run")

if run:
    try:
        if problem:
            raise BatchFileError(problem)
        inputs = read_inputs(setups, secrets_text=secrets_text, use_environment=use_environment, jobs=int(jobs),
                             limits=limits)
    except BatchFileError as exc:
        st.error(markdown(str(exc)), icon=":material/description:")
        st.session_state.pop(REPORT_KEY, None)
    else:
        st.session_state[REPORT_KEY] = run_with_progress(inputs)

report = st.session_state.get(REPORT_KEY)
if report is not None:
    render_batch(report)
