"""Audit a tenant: an administrator signs in (read-only), the setup's registration, consent, policies and sender are
read and held against the guide; SMTP AUTH comes from a pasted read-only PowerShell script."""

import streamlit as st

from checks.audit.graph_reads import AUDIT_PERMISSIONS
from checks.audit.powershell import script_for
from checks.safe_text import markdown
from console import audit
from console.relay_form import oauth_fields, show_outcome
from console.results import render_report
from console.state import form_values, keep_form

st.title("Audit a tenant")
st.caption("For administrators, before go-live: read the whole Microsoft 365 OAuth2 configuration in one pass "
           "instead of waiting for the first error. The sign-in only reads; its token stays in this session.")

with st.expander("Practice first: audit a lab tenant (nothing leaves this machine)", icon=":material/science:"):
    practices = {item.id: item for item in audit.practice_scenarios()}
    picked = practices[st.radio("Lab tenant", list(practices), format_func=lambda pid: practices[pid].title,
                                key="audit.practice")]
    st.caption(markdown(picked.description))
    if st.button("Audit this lab tenant", icon=":material/play_arrow:", key="audit.practice_run"):
        with st.spinner("Signing the lab's administrator in and reading the lab tenant…"):
            st.session_state[audit.REPORT_KEY] = audit.practice_report(picked.id)

blocked = audit.refusal()
if blocked is not None:
    st.error(markdown(blocked), icon=":material/block:")
    report = st.session_state.get(audit.REPORT_KEY)
    if report is not None:
        render_report(report, key="audit")
    st.stop()

keep_form(st.session_state, default_profile="m365-oauth2")
if "state" in st.query_params or "error" in st.query_params:  # the browser came back from Microsoft
    with st.spinner("Finishing the sign-in and reading the tenant…"):
        st.session_state[audit.OUTCOME_KEY] = audit.finish_audit_sign_in(st.session_state,
                                                                          st.query_params.to_dict())
        if st.session_state.get(audit.TOKEN_KEY) is not None:
            audit.audit_now(st.session_state)
    st.query_params.clear()  # the code is single-use; keep it out of the address bar

st.markdown("##### 1. Register this page's redirect URI")
st.markdown("Entra ID > App registrations > your app > **Authentication** > **Web** > Redirect URIs:")
st.code(audit.audit_redirect_uri(st.context.url), language=None)

st.markdown("##### 2. The setup to audit")
oauth_fields()
st.text_input("Application's redirect URI (the portal's callback)", key=audit.CALLBACK_KEY,
              placeholder="https://portal.example.com/oauth/callback",
              help="The audit looks for exactly this URI on the app's Web platform.")

st.markdown("##### 3. SMTP AUTH settings (Graph cannot read them)")
sender = str(form_values(st.session_state).get("sender") or "<sender>")
st.caption("Run this read-only script in Exchange Online PowerShell and paste its whole output below.")
st.code(script_for(sender), language="powershell")
st.text_area("PowerShell output", key=audit.POWERSHELL_KEY, height=160,
             placeholder="SmtpClientAuthenticationDisabled : False …")

st.markdown("##### 4. Sign in as an administrator and audit")
with st.expander("What the sign-in asks for, and why"):
    st.markdown("\n".join(f"- **{name}** (delegated, read-only): {why}." for name, why in AUDIT_PERMISSIONS.items()))
admin = st.session_state.get(audit.ADMIN_KEY)
if admin is None:
    st.text_input("Administrator account (optional)", key=audit.ADMIN_HINT_KEY, placeholder="admin@contoso.com",
                  help="Pre-fills the Microsoft sign-in. Not the sender: an administrator who may read the tenant.")
    st.button("Sign in as an administrator", type="primary", icon=":material/key:", on_click=audit.on_start,
              args=(st.session_state, st.context.url))
else:
    st.success(f"Signed in as **{markdown(admin)}** (read-only).", icon=":material/check_circle:")
    left, right = st.columns(2)
    left.button("Audit again", type="primary", icon=":material/refresh:", on_click=audit.on_audit,
                args=(st.session_state,), width="stretch")
    right.button("Forget the sign-in", on_click=audit.forget, args=(st.session_state,), width="stretch")

outcome = st.session_state.pop(audit.OUTCOME_KEY, None)
if outcome is not None:
    show_outcome(outcome)
    if outcome.ok and outcome.auth_uri:
        st.link_button("Open the Microsoft sign-in", outcome.auth_uri, type="primary")

report = st.session_state.get(audit.REPORT_KEY)
if report is not None:
    st.divider()
    render_report(report, key="audit")
