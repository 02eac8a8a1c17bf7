"""`sender` with a password: the relay accepts the configured sender (MAIL FROM, then RCPT TO at the sender)."""

from __future__ import annotations

import smtplib

from checks.knowledge.replies import finding_for_reply
from checks.model import Finding, Status
from checks.run_state import CheckContext
from checks.smtp.conversation import Step, broken_conversation, conversation
from checks.smtp.session import ProtocolViolation, SmtpReply


def check_mail_from(ctx: CheckContext) -> Finding:
    """MAIL FROM then RCPT TO the sender itself, then RSET: many relays judge the sender only at RCPT."""
    config = ctx.config
    sender = config.sender or config.username or ""
    smtp = conversation(ctx)
    step = Step(smtp)
    try:
        reply = smtp.command("MAIL", f"FROM:<{sender}>")
        stage = "MAIL FROM"
        if reply.code == 250:
            # Postfix's reject_sender_login_mismatch and similar policies answer only at RCPT TO.
            reply, stage = smtp.command("RCPT", f"TO:<{sender}>"), "RCPT TO"
            smtp.command("RSET")
    except (ProtocolViolation, smtplib.SMTPServerDisconnected, OSError) as exc:
        return broken_conversation(step, exc, waiting_for="reply to MAIL FROM", ctx=ctx)
    note = ""
    if reply.code not in (250, 251) and stage == "RCPT TO" and not about_sender(reply):
        note = f"RCPT TO itself was refused for another reason ({str(reply).splitlines()[0][:160]})."
    elif reply.code not in (250, 251):
        return finding_for_reply(Status.FAIL, f"The relay refuses {sender} as sender (at {stage})", reply,
                                 transcript=step.transcript())
    differs = config.username and sender.lower() != config.username.lower()
    if differs:
        return Finding(Status.WARN, f"{sender} is accepted as envelope sender, but it differs from the signed-in "
                       f"{config.username}.",
                       details="Microsoft 365 checks Send As rights only when the message is submitted "
                               f"(550 5.7.60 / SendAsDenied after DATA); Gmail rewrites the From address. {note}",
                       remediation=f"Use {config.username} as sender, or prove Send As with a test message "
                                   "(--send-test-to).", reply=str(reply), transcript=step.transcript())
    return Finding(Status.PASS, f"The relay accepts {sender} as sender (no message sent).", details=note,
                   reply=str(reply), transcript=step.transcript())


def about_sender(reply: SmtpReply) -> bool:
    """Does a refused RCPT TO blame the sender (policy, x.7.x) rather than the recipient (x.1.x, unknown user)?"""
    text = reply.text.lower()
    return "sender" in text or text.split(" ", 1)[0].startswith(("5.7.", "4.7."))
