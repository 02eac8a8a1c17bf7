"""Inspect a token: what an access token allows, for whom, and until when (the token is never stored)."""

import datetime as dt

import streamlit as st

from checks.safe_text import markdown
from console.tokens import claim_rows, countdown, inspect, permission_table

st.title("Inspect a token")
st.caption("Paste an access token to see its audience, permissions and expiry. It is decoded here without "
           "contacting anyone, is not kept after you leave the page, and is never shown back.")

token = st.text_input("Access token", type="password", placeholder="eyJ0eXAiOiJKV1Qi…",
                      help="From an MSAL response (access_token) or an Authorization: Bearer header.")
facts = inspect(token) if token.strip() else None
if token.strip() and facts is None:
    st.error("This is not a JWT access token (three base64 parts separated by dots). Microsoft access tokens "
             "for SMTP and Graph are JWTs; a refresh token is not, and cannot be inspected.")

if facts is not None:
    st.markdown(f"**Audience:** {markdown(facts.audience)} · **User:** {markdown(facts.user) or '— (app-only token)'}")

    @st.fragment(run_every=1)
    def expiry() -> None:
        text = countdown(facts.expires, dt.datetime.now(dt.UTC))
        if text.startswith("expired"):
            st.error(f"Token {text}. **How to fix:** access tokens live about an hour; get a new one from the "
                     "refresh token (run the checks again), or sign in again if the refresh token expired too.",
                     icon=":material/timer:")
        else:
            st.success(f"Token {text}.", icon=":material/timer:")

    expiry()
    st.markdown("##### Permissions the setup needs")
    if facts.requirements:
        st.dataframe(permission_table(facts.requirements), hide_index=True, width="stretch")
        if not all(r.present for r in facts.requirements):
            st.info("**How to fix:** add the missing permission under API permissions (delegated), click "
                    "'Grant admin consent', then sign in again for a new token.", icon=":material/build:")
    else:
        st.warning("This token is neither for Exchange Online (SMTP) nor for Microsoft Graph. An SMTP token "
                   "must be issued for https://outlook.office.com (scope SMTP.Send): one token carries one "
                   "resource's permissions.")
    st.markdown(f"**Scopes (scp):** {markdown(', '.join(facts.scopes)) or '—'} · "
                f"**Roles:** {markdown(', '.join(facts.roles)) or '—'}")
    st.markdown("##### All claims")
    st.dataframe(claim_rows(facts.claims), hide_index=True, width="stretch")
