"""`smtp.greeting`: a 220 banner arrives in time and EHLO lists capabilities; other services on the port are named."""

from __future__ import annotations

import smtplib

from checks.knowledge.guide import GuideSection
from checks.knowledge.replies import finding_for_reply
from checks.model import CheckId, Finding, Status
from checks.run_state import CheckContext
from checks.settings.config import Security
from checks.settings.limits import SILENT_PROBE_SECONDS
from checks.settings.providers import Provider, provider_of_host
from checks.smtp.conversation import Step, broken_conversation, conversation, recognise_service
from checks.smtp.facts import Greeting
from checks.smtp.probe import tls_handshake_completes
from checks.smtp.session import BoundedSMTP, ProtocolViolation, SmtpReply
from checks.smtp.target import Target
from checks.workers import DaemonExecutor

TLS_RECORDS = ("\x15\x03", "\x16\x03")  # a TLS alert or handshake record: the port speaks TLS


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


def _speaks_tls(ctx: CheckContext) -> bool:
    """A silent server that completes a TLS handshake on a second connection is an implicit-TLS port."""
    connected = ctx.facts(CheckId.PORT, Target)
    seconds = min(SILENT_PROBE_SECONDS, ctx.deadline.remaining())
    if connected is None or not connected.address or seconds <= 0:
        return False
    return tls_handshake_completes(connected.address, connected.port, timeout=seconds, server_name=ctx.config.host)


def _implicit_tls(ctx: CheckContext, finding: Finding) -> Finding:
    port = ctx.config.port
    return Finding(Status.FAIL, f"Port {port} uses implicit TLS: the server waits for a TLS handshake before it "
                   "greets, so a STARTTLS client hears nothing.",
                   details="The server did not send a 220 greeting, but it completed a TLS handshake (or answered "
                           "plain text with a TLS alert): it expects TLS from the first byte.",
                   remediation=f"Set security to tls (implicit TLS) for port {port}, or use the server's STARTTLS "
                               "port (usually 587) with security starttls.",
                   guide_section=GuideSection.NETWORK.value, transcript=finding.transcript)


def check_greeting(ctx: CheckContext) -> Finding:
    config = ctx.config
    smtp = conversation(ctx)
    step = Step(smtp)
    try:
        banner = smtp.reply()
    except TimeoutError as exc:
        handshake = DaemonExecutor(1, name="tls-probe").submit(_speaks_tls, ctx)  # alongside the poke below
        first = _probe_silent_peer(smtp, ctx)
        service = recognise_service(first)
        finding = broken_conversation(step, exc, waiting_for="220 greeting", ctx=ctx)
        if config.security is not Security.TLS and (first.startswith(TLS_RECORDS) or handshake.result()):
            return _implicit_tls(ctx, finding)
        if service:
            return broken_conversation(step, ProtocolViolation("not SMTP", first), waiting_for="greeting", ctx=ctx)
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
