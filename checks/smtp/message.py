"""`send.test`: one short message tagged with the run id, accepted by the relay (only with --send-test-to)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, make_msgid

from checks.knowledge.replies import finding_for_reply
from checks.model import Finding, Status
from checks.run_state import CheckContext
from checks.smtp.conversation import (
    Step,
    broken_conversation,
    conversation,
)
from checks.smtp.facts import SentTest
from checks.smtp.session import ProtocolViolation, SmtpReply


def test_message(ctx: CheckContext, sender: str, recipient: str) -> bytes:
    run_id = ctx.run_id
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = f"Relay console test {run_id}"
    message["Date"] = format_datetime(ctx.deps.now())
    message["Message-ID"] = make_msgid(idstring=run_id, domain=sender.rpartition("@")[2])
    message["X-Relay-Console-Run"] = run_id
    message.set_content(f"This test message was sent by the relay console, run {run_id}.\n"
                        f"If you can read it, the relay delivers mail from {sender}.\n")
    return message.as_bytes(policy=SMTP_POLICY)


def check_send_test(ctx: CheckContext) -> Finding:
    config = ctx.config
    smtp = conversation(ctx)
    step = Step(smtp)
    sender = config.sender or config.username or ""
    recipient = config.send_test_to or ""
    try:
        for verb, argument in (("MAIL", f"FROM:<{sender}>"), ("RCPT", f"TO:<{recipient}>")):
            reply = smtp.command(verb, argument)
            if reply.code != 250:
                return finding_for_reply(Status.FAIL, f"{verb} {argument} refused", reply,
                                         transcript=step.transcript())
        code, message = smtp.data(test_message(ctx, sender, recipient))
        reply = SmtpReply(code, message.decode("utf-8", "replace"))
    except smtplib.SMTPDataError as exc:
        reply = SmtpReply(exc.smtp_code, exc.smtp_error.decode("utf-8", "replace"))
        return finding_for_reply(Status.FAIL, "DATA refused", reply, transcript=step.transcript())
    except (ProtocolViolation, smtplib.SMTPServerDisconnected, OSError) as exc:
        return broken_conversation(step, exc, waiting_for="reply to the test message", ctx=ctx)
    if reply.code != 250:
        return finding_for_reply(Status.FAIL, "The test message was refused", reply,
                                 transcript=step.transcript())
    return Finding(Status.PASS, f"Test message accepted for {recipient} (subject 'Relay console test {ctx.run_id}').",
                   details="Accepted by the relay is not yet delivered: look for it in the recipient's mailbox "
                           "(and spam folder).", reply=str(reply), transcript=step.transcript(),
                   facts=SentTest(ctx.run_id))
