"""Sign in with Microsoft: get the refresh token the Microsoft 365 OAuth2 setup needs, as the portal does."""

import streamlit as st

from checks.safe_text import markdown
from console import signin
from console.relay_form import oauth_fields, show_outcome
from console.state import SIGNED_IN_KEY, keep_form

st.title("Sign in with Microsoft")
st.caption("For the Microsoft 365 (OAuth2) setup: sign in as the sender's account, like the portal's pop-up "
           "does when you save its configuration. The refresh token stays in this session, on the server.")
keep_form(st.session_state, default_profile="m365-oauth2")

if "state" in st.query_params or "error" in st.query_params:  # the browser came back from Microsoft
    with st.spinner("Finishing the sign-in…"):
        st.session_state[signin.OUTCOME_KEY] = signin.finish_sign_in(st.session_state, st.query_params.to_dict())
    st.query_params.clear()  # the code is single-use; keep it out of the address bar

signed_in = st.session_state.get(SIGNED_IN_KEY)
if signed_in is not None:
    st.success(f"Signed in as **{markdown(signed_in.account or 'your account')}**. The checks use this sign-in.", icon=":material/check_circle:")
    st.page_link("pages/check_relay.py", label="Run the checks with this sign-in", icon=":material/play_arrow:")
    st.button("Sign out", on_click=signin.sign_out, args=(st.session_state,))

st.markdown("##### 1. Register this console's redirect URI")
st.markdown("Entra ID > App registrations > your app > **Authentication** > Add a platform > **Web** > "
            "Redirect URIs:")
st.code(signin.redirect_uri(st.context.url), language=None)

st.markdown("##### 2. Your app registration, then sign in")
with st.form("signin", border=True):
    oauth_fields()
    with st.container(horizontal=True):
        st.form_submit_button("Sign in with Microsoft", type="primary", key="oauth.start",
                              on_click=signin.on_start_sign_in, args=(st.session_state, st.context.url))
        st.form_submit_button("Get a device code", key="oauth.device_start", on_click=signin.on_start_device,
                              args=(st.session_state,))
    st.caption("A device code is for a console without a browser on the same machine; it needs Authentication > "
               "'Allow public client flows' = Yes on the app registration.")
waiting = st.session_state.get(signin.DEVICE_KEY)
if waiting is not None:
    st.info(markdown(waiting.message or f"Open {waiting.verification_uri} and enter the code below."))
    st.code(waiting.user_code, language=None)
    st.button("I have signed in", key="oauth.device_finish", type="primary", on_click=signin.on_finish_device,
              args=(st.session_state,), help="Waits at most a minute for Microsoft to confirm.")

outcome = st.session_state.pop(signin.OUTCOME_KEY, None)
if outcome is not None:
    show_outcome(outcome)
    if outcome.ok and outcome.auth_uri and "devicelogin" not in outcome.auth_uri:
        st.link_button("Open the Microsoft sign-in", outcome.auth_uri, type="primary")
