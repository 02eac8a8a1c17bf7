"""The run's one SMTP conversation and what every SMTP step shares: its transcript, broken-conversation verdicts."""

from __future__ import annotations

import smtplib
from collections.abc import Callable

from checks.knowledge.guide import GuideSection
from checks.model import Finding, Status
from checks.redact import redact, secret_values
from checks.run_state import CheckContext
from checks.smtp.session import BoundedSMTP, ProtocolViolation


def run_mask(ctx: CheckContext) -> Callable[[str], str]:
    """Masks every secret of the run (settings, tokens, AUTH payloads sent so far) in text from the server."""
    return lambda text: redact(text, secret_values(ctx.config, ctx.run_secrets()))


NOT_SMTP_SIGNATURES = (
    ("HTTP/", "a web (HTTP) server"),
    ("SSH-", "an SSH server"),
    ("+OK", "a POP3 mail server"),
    ("* OK", "an IMAP mail server"),
    ("\x15\x03", "a TLS service (it expects a TLS handshake, not plain SMTP)"),
    ("\x16\x03", "a TLS service (it expects a TLS handshake, not plain SMTP)"),
)


def conversation(ctx: CheckContext) -> BoundedSMTP:
    """The run's SMTP conversation, started by the first SMTP step on the socket the port check connected."""
    state = ctx.state
    if state.smtp is None:
        if state.socket is None:
            raise RuntimeError("no SMTP conversation: the port check did not connect")
        smtp = BoundedSMTP(local_hostname=ctx.config.ehlo_name, step_timeout=ctx.step_timeout,
                           clock=ctx.deps.clock, on_secret=ctx.add_secret, mask=run_mask(ctx))
        smtp.attach(state.socket, ctx.config.host)
        state.smtp, state.socket = smtp, None
    return state.smtp


class Step:
    """Marks where a check's part of the shared transcript begins."""

    def __init__(self, smtp: BoundedSMTP) -> None:
        self.smtp, self.start = smtp, len(smtp.transcript)

    def transcript(self) -> tuple[str, ...]:
        return tuple(self.smtp.transcript[self.start:])


def recognise_service(first_line: str) -> str | None:
    return next((name for prefix, name in NOT_SMTP_SIGNATURES if first_line.startswith(prefix)), None)


def broken_conversation(step: Step, exc: Exception, *, waiting_for: str, ctx: CheckContext) -> Finding:
    """A verdict for a server that went silent, hung up, or spoke something that is not SMTP."""
    transcript = step.transcript()
    if isinstance(exc, TimeoutError):
        partial = getattr(exc, "partial", "")
        fix = ("Check that the host and port belong to an SMTP server and that no proxy or antivirus mail shield "
               "holds the connection.")
        if ctx.deadline.expired:
            fix += f" The whole run may take {ctx.config.deadline:g} s: raise the deadline for a slow server."
        if partial:
            return Finding(Status.FAIL, f"The {waiting_for} did not arrive complete {ctx.waited()}.",
                           details=f"The server started it but sent only {partial!r} - far too slowly (a tarpit, "
                                   "or a connection that stalls).",
                           remediation=fix, guide_section=GuideSection.NETWORK.value, reply=partial,
                           transcript=transcript)
        return Finding(Status.FAIL, f"No {waiting_for} {ctx.waited()}.",
                       details="The server accepted the connection and then said nothing.",
                       remediation=fix, guide_section=GuideSection.NETWORK.value, transcript=transcript)
    if isinstance(exc, ProtocolViolation):
        service = recognise_service(exc.first_line)
        summary = (f"The port answers, but it is {service}, not SMTP." if service
                   else f"The server broke the SMTP protocol: {exc.reason}.")
        return Finding(Status.FAIL, summary, details=f"It sent: {exc.first_line!r}" if exc.first_line else "",
                       remediation="Check host and port: the guide's relays are smtp.gmail.com / smtp.office365.com "
                                   "port 587 with STARTTLS.",
                       guide_section=GuideSection.NETWORK.value, reply=exc.first_line, transcript=transcript)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return Finding(Status.FAIL, f"The server closed the connection instead of sending its {waiting_for}.",
                       remediation="The server or a firewall in between refuses this client; check its logs or "
                                   "try from another network.",
                       guide_section=GuideSection.NETWORK.value, transcript=transcript)
    if isinstance(exc, ConnectionResetError):
        return Finding(Status.FAIL, f"The server reset the connection instead of sending its {waiting_for}.",
                       remediation="The server or a firewall in between aborts this conversation; check the "
                                   "server's logs or try from another network.",
                       guide_section=GuideSection.NETWORK.value, transcript=transcript)
    if isinstance(exc, OSError):
        reason = exc.strerror or str(exc) or type(exc).__name__
        return Finding(Status.FAIL, f"The connection failed while waiting for the {waiting_for}: {reason}.",
                       guide_section=GuideSection.NETWORK.value, transcript=transcript)
    raise exc
