"""Turn an SMTP reply into a Finding: the exact words, the cause in plain words and the fix from the catalog."""

from __future__ import annotations

from checks.model import Finding, Status
from checks.smtp_session import SmtpReply


def finding_for_reply(status: Status, summary: str, reply: SmtpReply, *, transcript: tuple[str, ...] = (),
                      details: str = "", facts: dict | None = None) -> Finding:
    """A finding whose cause and fix come from the knowledge catalog (or the reply class when unknown)."""
    from checks.knowledge import explain_reply

    explanation = explain_reply(reply.code, reply.text)
    cause = explanation.cause if explanation.known else f"{explanation.title}. {explanation.cause}".strip(". ")
    return Finding(
        status, summary,
        details="\n".join(part for part in (details, f"Cause: {cause}") if part),
        remediation=explanation.fix, guide_section=explanation.guide_section, reply=str(reply),
        transcript=transcript, facts={"reply_code": reply.code, "knowledge_entry": explanation.entry_id,
                                      **(facts or {})},
    )
