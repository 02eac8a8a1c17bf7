"""`sender`: the relay accepts the configured sender (MAIL FROM), and for OAuth2 it is the user's primary address."""

from __future__ import annotations

import smtplib

from checks.context import CheckContext
from checks.explain_reply import finding_for_reply
from checks.model import AuthMethod, Finding, Status
from checks.smtp_checks import Step, broken_conversation, conversation
from checks.smtp_session import ProtocolViolation

OAUTH = (AuthMethod.OAUTH2, AuthMethod.OAUTH2_APP)


def check_sender(ctx: CheckContext) -> Finding:
    if ctx.config.auth in OAUTH:
        from checks.oauth_sender import check_graph_sender

        return check_graph_sender(ctx)
    return check_mail_from(ctx)


def check_mail_from(ctx: CheckContext) -> Finding:
    """MAIL FROM on the signed-in conversation, then RSET: the envelope sender is accepted without sending."""
    config = ctx.config
    sender = config.sender or config.username or ""
    smtp = conversation(ctx)
    step = Step(smtp)
    try:
        reply = smtp.command("MAIL", f"FROM:<{sender}>")
        if reply.code == 250:
            smtp.command("RSET")
    except (ProtocolViolation, smtplib.SMTPServerDisconnected, OSError) as exc:
        return broken_conversation(step, exc, waiting_for="reply to MAIL FROM", ctx=ctx)
    if reply.code != 250:
        return finding_for_reply(Status.FAIL, f"The relay refuses {sender} as sender", reply,
                                 transcript=step.transcript())
    differs = config.username and sender.lower() != config.username.lower()
    if differs:
        return Finding(Status.WARN, f"MAIL FROM {sender} accepted, but it differs from the signed-in {config.username}.",
                       details="Microsoft 365 checks Send As rights only when the message is submitted "
                               "(550 5.7.60 / SendAsDenied after DATA); Gmail rewrites the From address.",
                       remediation=f"Use {config.username} as sender, or prove Send As with a test message "
                                   "(--send-test-to).", reply=str(reply), transcript=step.transcript())
    return Finding(Status.PASS, f"The relay accepts {sender} as sender (MAIL FROM).", reply=str(reply),
                   transcript=step.transcript())
