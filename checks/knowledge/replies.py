"""Turn an SMTP reply into a Finding: the exact words, the cause in plain words and the fix from the catalog."""

from __future__ import annotations

from collections.abc import Mapping

from checks.knowledge.catalog import commands_for, explain_reply
from checks.knowledge.facts import ReplyFacts
from checks.model import Finding, Status
from checks.smtp.session import SmtpReply


def finding_for_reply(status: Status, lead: str, reply: SmtpReply, *, transcript: tuple[str, ...] = (),
                      details: str = "", values: Mapping[str, str] | None = None) -> Finding:
    """A finding whose summary names the reply ('<lead>: <what it means> (535 5.7.139).'), cause, fix and the
    catalog's copy-ready commands filled with `values` (mailbox, host, port...)."""
    explanation = explain_reply(reply.code, reply.text)
    code = " ".join(part for part in (str(reply.code), explanation.enhanced_code) if part)
    meaning = f"{explanation.title} ({code})" if explanation.known else code
    cause = explanation.cause if explanation.known else f"{explanation.title}. {explanation.cause}".strip(". ")
    return Finding(
        status, f"{lead}: {meaning}.",
        details="\n".join(part for part in (details, f"Cause: {cause}") if part),
        remediation=explanation.fix, guide_section=explanation.guide_section, reply=str(reply),
        transcript=transcript, facts=ReplyFacts(reply.code, explanation.entry_id),
        commands=commands_for(explanation.entry_id, values),
    )
