"""Decode an error: paste what a server, a mail library or Microsoft said, get the cause and the fix."""

import streamlit as st

from console.decoder import EXAMPLE, explain, known_values, read, show, show_reading

st.title("Decode an error")
st.caption("Paste an SMTP reply, a mail library's exception, a server log or bounce, or a Microsoft sign-in error "
           "(AADSTS, also inside a redirect URL). Pastes of any size are read; every decisive line is explained, "
           "most decisive first, in the words of the client that printed it.")

text = st.text_area("Error text", key="decode.text", height=160, placeholder=EXAMPLE)
values = known_values()
if st.button("Explain", type="primary") or text.strip():
    if not text.strip():
        st.info("Paste an error first, for example:\n\n" + EXAMPLE)
    else:
        reading = read(text, values)
        show_reading(reading)
        found = reading.explanations or explain(text, values)
        if not any(e.known for e in found):
            st.warning("Nothing in this text is a known reply, sign-in error or network error. Paste the exact "
                       "words, including the numbers (such as 535 5.7.3 or AADSTS7000215).")
        for explanation in found:
            show(explanation)
