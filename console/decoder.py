"""The error decoder view: what was read of a paste, then each decisive fragment with its cause and fix."""

from __future__ import annotations

from typing import Any

import streamlit as st

from checks.knowledge.reader import explain_all, given_values, read_paste
from checks.safe_text import markdown, visible

EXAMPLE = ("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. "
           "Visit https://aka.ms/smtp_auth_disabled for more information.")
CODE_LANGUAGES = {"powershell": "powershell", "shell": "bash", "python": "python", "javascript": "javascript",
                  "csharp": "csharp", "php": "php", "properties": "properties"}  # others: plain text


def read(text: str, values: dict[str, str] | None = None) -> Any:
    """The paste read whole (the reader itself bounds what it reads and says so); `values` fill the commands."""
    return read_paste(text, values=values)


def explain(text: str, values: dict[str, str] | None = None) -> tuple[Any, ...]:
    """Each decisive fragment explained, best first; class guidance when nothing decisive was found."""
    return read(text, values).explanations or tuple(explain_all(text, values=values))


def known_values() -> dict[str, str]:
    """Optional values the user knows (mailbox, host, tenant) that fill the copy-ready commands."""
    with st.expander("Fill the commands with your values (optional)"):
        mailbox, host, tenant = st.columns(3)
        return given_values(username=mailbox.text_input("Mailbox that signs in", key="decode.mailbox"),
                            host=host.text_input("Relay host", key="decode.host"),
                            tenant=tenant.text_input("Tenant (ID or domain)", key="decode.tenant"))


def show_reading(reading: Any) -> None:
    st.caption(markdown(reading.summary()))


def show(explanation: Any) -> None:
    code = " ".join(c for c in (explanation.code, explanation.enhanced_code) if c)
    kind = "temporary (retry later may work)" if explanation.temporary else "permanent"
    where = f" · line {explanation.line:,}" if explanation.line else ""
    with st.container(border=True):
        st.markdown(f"#### {markdown(explanation.title)}")
        st.caption(f"{markdown(code or '—')} · {explanation.source.value.upper()} · {kind}{where}"
                   + ("" if explanation.known else " · not in the catalog: guidance from the reply's class"))
        if explanation.matched:
            st.code(visible(explanation.matched), language=None)
        st.markdown(f"**Cause:** {markdown(explanation.cause)}")
        if explanation.negative:
            st.success("Not a relay problem: the relay setup and its sign-in are fine. Do not change passwords, "
                       "app passwords, SMTP AUTH or consent for this.", icon=":material/check_circle:")
        st.info(f"**How to fix:** {markdown(explanation.fix)}", icon=":material/build:")
        if explanation.client_fix:
            st.info(f"**In {markdown(explanation.client)}:** {markdown(explanation.client_fix)}",
                    icon=":material/terminal:")
        for command in explanation.commands:
            if command.title:
                st.caption(markdown(command.title))
            st.code(visible(command.code), language=CODE_LANGUAGES.get(str(command.language)))
        details = [f"Proved by the check `{explanation.check}`" if explanation.check else "",
                   f"Setup guide: {markdown(explanation.guide_section)}" if explanation.guide_section else "",
                   ("Sources: " + ", ".join(markdown(s) for s in explanation.sources)) if explanation.sources else ""]
        for line in (d for d in details if d):
            st.caption(line)
