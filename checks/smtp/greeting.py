"""The SMTP conversation's checks: greeting + EHLO, AUTH offered, sign-in, and the optional test message."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, make_msgid

from checks.run_state import CheckContext
from checks.knowledge.replies import finding_for_reply
from checks.knowledge.guide import GuideSection
from checks.model import AuthMethod, Finding, Secret, Security, Status
from checks.smtp.port import SMTP_RESOURCE, waited
from checks.settings.profiles import profile, provider_of_host
from checks.smtp.session import BoundedSMTP, ProtocolViolation, SmtpReply

NOT_SMTP_SIGNATURES = (
    ("HTTP/", "a web (HTTP) server"),
    ("SSH-", "an SSH server"),
    ("+OK", "a POP3 mail server"),
    ("* OK", "an IMAP mail server"),
    ("\x15\x03", "a TLS service (it expects a TLS handshake, not plain SMTP)"),
    ("\x16\x03", "a TLS service (it expects a TLS handshake, not plain SMTP)"),
)
SILENT_PROBE_SECONDS = 0.5
OAUTH_TOKEN_RESOURCE = "oauth.smtp_token"
OAUTH_USER_RESOURCE = "oauth.token_user"


def conversation(ctx: CheckContext) -> BoundedSMTP:
    smtp = ctx.resource(SMTP_RESOURCE)
    if smtp is None:
        raise RuntimeError("no SMTP conversation: the port check did not connect")
    return smtp


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
            return Finding(Status.FAIL, f"The {waiting_for} did not arrive complete {waited(ctx)}.",
                           details=f"The server started it but sent only {partial!r} - far too slowly (a tarpit, "
                                   "or a connection that stalls).",
                           remediation=fix, guide_section=GuideSection.NETWORK.value, reply=partial,
                           transcript=transcript)
        return Finding(Status.FAIL, f"No {waiting_for} {waited(ctx)}.",
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
    facts = {"banner": str(banner), "capabilities": features}
    if expected == "microsoft" and "Microsoft" not in banner.text and not config.connect_to:
        return Finding(Status.WARN, "The server greets, but not like Microsoft 365.", details=details,
                       remediation="Something between you and Microsoft (a proxy or a mail filter) answers instead.",
                       guide_section=GuideSection.NETWORK.value, reply=str(banner),
                       transcript=step.transcript(), facts=facts)
    return Finding(Status.PASS, f"Greeting received: {banner.text.splitlines()[0][:120]}", details=details,
                   reply=str(banner), transcript=step.transcript(), facts=facts)


def needed_mechanisms(method: AuthMethod) -> tuple[str, ...]:
    if method in (AuthMethod.OAUTH2, AuthMethod.OAUTH2_APP):
        return ("XOAUTH2",)
    return ("PLAIN", "LOGIN")


def check_auth_mechanisms(ctx: CheckContext) -> Finding:
    config = ctx.config
    smtp = conversation(ctx)
    offered = smtp.mechanisms()
    needed = needed_mechanisms(config.auth)
    facts = {"mechanisms": list(offered)}
    if not offered:
        if config.security is Security.NONE:
            fix = "Servers advertise AUTH only over TLS: set security to STARTTLS (port 587) as the guide says."
        elif provider_of_host(config.host) == "microsoft":
            fix = ("Microsoft 365 always offers AUTH after STARTTLS on smtp.office365.com port 587: check that "
                   "you reach Microsoft and not a relay or filter in between.")
        else:
            fix = "Enable SMTP AUTH (client submission) on this server and port, or use the submission port 587."
        return Finding(Status.FAIL, "The server offers no SMTP AUTH on this port: sign-in is impossible.",
                       details=f"EHLO capabilities: {', '.join(sorted(k.upper() for k in smtp.esmtp_features))}",
                       remediation=fix, guide_section=profile(config.profile).guide_section.value, facts=facts)
    usable = [m for m in needed if m in offered]
    if not usable:
        return Finding(Status.FAIL, f"The server offers AUTH {' '.join(offered)}, but this setup needs "
                       f"{' or '.join(needed)}.",
                       remediation=("Use an OAuth2-capable server (smtp.office365.com offers XOAUTH2)."
                                    if "XOAUTH2" in needed else "Use an authentication method the server offers."),
                       guide_section=profile(config.profile).guide_section.value, facts=facts)
    return Finding(Status.PASS, f"SMTP AUTH offered: {' '.join(offered)} ({usable[0]} will be used).", facts=facts)


def _xoauth2(user: str, token: Secret) -> Callable[[bytes | None], str]:
    def respond(challenge: bytes | None = None) -> str:
        # Gmail answers a failed XOAUTH2 with a 334 JSON challenge; the client must answer with an empty line.
        return "" if challenge is not None else f"user={user}\x01auth=Bearer {token.reveal()}\x01\x01"

    return respond


def _authenticate(ctx: CheckContext, smtp: BoundedSMTP) -> tuple[SmtpReply, str]:
    config = ctx.config
    if config.auth in (AuthMethod.OAUTH2, AuthMethod.OAUTH2_APP):
        token = ctx.resource(OAUTH_TOKEN_RESOURCE)
        user = config.username or ctx.resource(OAUTH_USER_RESOURCE) or config.sender or ""
        code, message = _auth_or_reply(smtp, "XOAUTH2", _xoauth2(user, token))
        return SmtpReply(code, message), "XOAUTH2"
    mechanism = "PLAIN" if "PLAIN" in smtp.mechanisms() else "LOGIN"
    smtp.user, smtp.password = config.username or "", config.password.reveal() if config.password else ""
    try:
        method = smtp.auth_plain if mechanism == "PLAIN" else smtp.auth_login
        code, message = _auth_or_reply(smtp, mechanism, method)
    finally:
        smtp.user = smtp.password = ""
    return SmtpReply(code, message), mechanism


def _auth_or_reply(smtp: BoundedSMTP, mechanism: str, method: Callable) -> tuple[int, str]:
    try:
        code, message = smtp.auth(mechanism, method, initial_response_ok=True)
    except smtplib.SMTPAuthenticationError as exc:
        code, message = exc.smtp_code, exc.smtp_error
    return code, message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)


def check_credentials(ctx: CheckContext) -> Finding:
    config = ctx.config
    smtp = conversation(ctx)
    step = Step(smtp)
    try:
        reply, mechanism = _authenticate(ctx, smtp)
    except (ProtocolViolation, smtplib.SMTPServerDisconnected, OSError) as exc:
        return broken_conversation(step, exc, waiting_for="reply to AUTH", ctx=ctx)
    who = config.username or ctx.resource(OAUTH_USER_RESOURCE) or config.sender
    if reply.code == 235:
        return Finding(Status.PASS, f"Signed in as {who} with AUTH {mechanism}.", reply=str(reply),
                       transcript=step.transcript(), facts={"mechanism": mechanism, "user": who})
    if config.auth in (AuthMethod.OAUTH2, AuthMethod.OAUTH2_APP):
        decoded = _explain_xoauth2(ctx, reply, step)
        if decoded is not None:
            return decoded
    return finding_for_reply(Status.FAIL, f"Sign-in as {who} refused",
                             reply, transcript=step.transcript(), facts={"mechanism": mechanism})


def _explain_xoauth2(ctx: CheckContext, reply: SmtpReply, step: Step) -> Finding | None:
    from checks.oauth.tenant import explain_xoauth2_failure
    from checks.oauth.claims import decode_claims

    token = ctx.resource(OAUTH_TOKEN_RESOURCE)
    finding = explain_xoauth2_failure(reply.code, reply.text, decode_claims(token) if token else {})
    if finding is None:
        return None
    return Finding(finding.status, finding.summary, details=finding.details, remediation=finding.remediation,
                   guide_section=finding.guide_section, reply=str(reply), transcript=step.transcript(),
                   facts=dict(finding.facts))


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
                   facts={"run_id": ctx.run_id})

