"""The error decoder view: each recognised reply or AADSTS error with its cause, fix and guide section."""

from __future__ import annotations

from typing import Any

import streamlit as st

from checks.safe_text import markdown, visible

EXAMPLE = ("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. "
           "Visit https://aka.ms/smtp_auth_disabled for more information.")
MAX_TEXT = 20_000


def explain(text: str) -> tuple[Any, ...]:
    from checks.knowledge.catalog import explain_all

    return tuple(explain_all(text[:MAX_TEXT]))


def show(explanation: Any) -> None:
    code = " ".join(c for c in (explanation.code, explanation.enhanced_code) if c)
    kind = "temporary (retry later may work)" if explanation.temporary else "permanent"
    with st.container(border=True):
        st.markdown(f"#### {markdown(explanation.title)}")
        st.caption(f"{markdown(code or '—')} · {explanation.source.value.upper()} · {kind}"
                   + ("" if explanation.known else " · not in the catalog: guidance from the reply's class"))
        if explanation.matched:
            st.code(visible(explanation.matched), language=None)
        st.markdown(f"**Cause:** {markdown(explanation.cause)}")
        st.info(f"**How to fix:** {markdown(explanation.fix)}", icon=":material/build:")
        if explanation.guide_section:
            st.caption(f"Setup guide: {markdown(explanation.guide_section)}")
