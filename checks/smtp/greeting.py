"""`smtp.greeting`: a 220 banner arrives in time and EHLO lists capabilities; other services on the port are named."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass

from checks.knowledge.guide import GuideSection
from checks.knowledge.replies import finding_for_reply
from checks.model import Facts, Finding, Status
from checks.run_state import CheckContext
from checks.settings.config import Security
from checks.settings.limits import SILENT_PROBE_SECONDS
from checks.settings.providers import Provider, provider_of_host
from checks.smtp.conversation import (
    Step,
    broken_conversation,
    conversation,
    recognise_service,
)
from checks.smtp.session import BoundedSMTP, ProtocolViolation, SmtpReply


@dataclass(frozen=True)
class Greeting(Facts):
    """What smtp.greeting saw: the 220 banner and the EHLO capabilities (upper case, sorted)."""

    banner: str
    capabilities: tuple[str, ...]




def _probe_silent_peer(smtp: BoundedSMTP, ctx: CheckContext) -> str:
    """After a silent greeting, poke once: a web server answers a command line with 'HTTP/1.x 400'."""
    seconds = min(SILENT_PROBE_SECONDS, ctx.deadline.remaining())
    if seconds <= 0 or smtp.sock is None:
        return ""
    try:
        smtp.sock.settimeout(seconds)
        smtplib.SMTP.send(smtp, "EHLO probe\r\n")
        data = smtp.sock.recv(200).decode("latin-1")
    except OSError:
        return ""
    return data.splitlines()[0] if data else ""


def check_greeting(ctx: CheckContext) -> Finding:
    config = ctx.config
    smtp = conversation(ctx)
    step = Step(smtp)
    try:
        banner = smtp.reply()
    except TimeoutError as exc:
        first = _probe_silent_peer(smtp, ctx)
        service = recognise_service(first)
        if service:
            return broken_conversation(step, ProtocolViolation("not SMTP", first), waiting_for="greeting", ctx=ctx)
        finding = broken_conversation(step, exc, waiting_for="220 greeting", ctx=ctx)
        if config.security is Security.STARTTLS and config.port == 465:
            return Finding(Status.FAIL, finding.summary, details="Port 465 expects implicit TLS: the server waits "
                           "for a TLS handshake before it greets.", remediation="Set security to tls (implicit TLS) "
                           "for port 465, or use port 587 with STARTTLS.", guide_section=GuideSection.NETWORK.value,
                           transcript=finding.transcript)
        return finding
    except (ProtocolViolation, smtplib.SMTPServerDisconnected, OSError) as exc:
        return broken_conversation(step, exc, waiting_for="220 greeting", ctx=ctx)
    if banner.code != 220:
        return finding_for_reply(Status.FAIL, "The server refused the session", banner,
                                 transcript=step.transcript())
    try:
        ehlo_code, _ = smtp.ehlo()
    except (ProtocolViolation, smtplib.SMTPServerDisconnected, OSError) as exc:
        return broken_conversation(step, exc, waiting_for="EHLO reply", ctx=ctx)
    if ehlo_code != 250:
        return finding_for_reply(Status.FAIL, "The server rejected EHLO",
                                 SmtpReply(ehlo_code, (smtp.ehlo_resp or b"").decode("utf-8", "replace")),
                                 transcript=step.transcript())
    features = sorted(k.upper() for k in smtp.esmtp_features)
    expected = provider_of_host(config.host)
    details = f"Banner: {banner}\nEHLO capabilities: {', '.join(features) or 'none'}"
    facts = Greeting(str(banner), tuple(features))
    if expected is Provider.MICROSOFT and "Microsoft" not in banner.text and not config.connect_to:
        return Finding(Status.WARN, "The server greets, but not like Microsoft 365.", details=details,
                       remediation="Something between you and Microsoft (a proxy or a mail filter) answers instead.",
                       guide_section=GuideSection.NETWORK.value, reply=str(banner),
                       transcript=step.transcript(), facts=facts)
    return Finding(Status.PASS, f"Greeting received: {banner.text.splitlines()[0][:120]}", details=details,
                   reply=str(banner), transcript=step.transcript(), facts=facts)
