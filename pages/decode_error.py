"""Decode an error: paste what a server or Microsoft said, get the cause, the fix and the guide's section."""

import streamlit as st

from console.decoder import EXAMPLE, explain, show

st.title("Decode an error")
st.caption("Paste an SMTP reply, an AADSTS error from a Microsoft sign-in, or a bounce message. Several errors "
           "in one text are each explained.")

text = st.text_area("Error text", key="decode.text", height=160, placeholder=EXAMPLE)
if st.button("Explain", type="primary") or text.strip():
    found = explain(text) if text.strip() else ()
    if not text.strip():
        st.info("Paste an error first, for example:\n\n" + EXAMPLE)
    elif not found:
        st.warning("Nothing in this text looks like an SMTP reply code (such as 535 5.7.3) or an AADSTS error. "
                   "Paste the server's exact words, including the numbers.")
    for explanation in found:
        show(explanation)
