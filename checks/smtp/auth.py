"""`auth.mechanisms` (SMTP AUTH offered with a mechanism this setup needs) and `auth.credentials` (the sign-in itself)."""

from __future__ import annotations

import smtplib
from collections.abc import Callable

from checks.knowledge.guide import GuideSection
from checks.knowledge.network import live_commands
from checks.knowledge.replies import finding_for_reply
from checks.model import Finding, Status
from checks.oauth.claims import decode_claims, explain_xoauth2_failure
from checks.run_state import CheckContext
from checks.settings.config import AuthMethod, Security
from checks.settings.profiles import profile
from checks.settings.providers import Provider, provider_of_host
from checks.settings.secret import Secret
from checks.smtp.conversation import Step, broken_conversation, conversation
from checks.smtp.facts import Mechanisms, SignedIn
from checks.smtp.session import BoundedSMTP, ProtocolViolation, SmtpReply


def needed_mechanisms(method: AuthMethod) -> tuple[str, ...]:
    if method in (AuthMethod.OAUTH2, AuthMethod.OAUTH2_APP):
        return ("XOAUTH2",)
    return ("PLAIN", "LOGIN")


def check_auth_mechanisms(ctx: CheckContext) -> Finding:
    config = ctx.config
    smtp = conversation(ctx)
    offered = smtp.mechanisms()
    needed = needed_mechanisms(config.auth)
    facts = Mechanisms(tuple(offered))
    if not offered:
        if config.security is Security.NONE:
            fix = "Servers advertise AUTH only over TLS: set security to STARTTLS (port 587) as the guide says."
        elif provider_of_host(config.host) is Provider.MICROSOFT:
            fix = ("Microsoft 365 always offers AUTH after STARTTLS on smtp.office365.com port 587: check that "
                   "you reach Microsoft and not a relay or filter in between.")
        else:
            fix = "Enable SMTP AUTH (client submission) on this server and port, or use the submission port 587."
        return Finding(Status.FAIL, "The server offers no SMTP AUTH on this port: sign-in is impossible.",
                       details=f"EHLO capabilities: {', '.join(sorted(k.upper() for k in smtp.esmtp_features))}",
                       remediation=fix, guide_section=profile(config.profile).guide_section.value, facts=facts,
                       commands=live_commands("auth.mechanisms.none_offered", config.host, config.port))
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
        token = ctx.state.smtp_token
        user = config.username or ctx.state.token_user or config.sender or ""
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


def _auth_unanswered(ctx: CheckContext, step: Step) -> Finding:
    """The server greeted, negotiated TLS and answered EHLO, then went silent on AUTH: an auth penalty."""
    fix = ("Wait a few minutes and run again without retrying in between (each failed try makes the delay "
           "longer); check the password with another mail client; and look in the server's log for failed "
           "sign-ins from this address (Dovecot auth_failure_delay, Postfix/Exchange throttling, fail2ban).")
    if ctx.deadline.expired:
        fix += f" The whole run may take {ctx.config.deadline:g} s: raise the deadline for a slow server."
    return Finding(
        Status.FAIL, f"No reply to AUTH {ctx.waited()}, although the greeting, TLS and EHLO worked.",
        details="The server is holding back its answer to the sign-in. Servers do this after failed sign-ins "
                "from the same address (an authentication penalty or tarpit, e.g. Dovecot's per-IP delay), or "
                "while their password backend (LDAP, a database) does not answer.",
        remediation=fix, guide_section=GuideSection.NETWORK.value, transcript=step.transcript())


def check_credentials(ctx: CheckContext) -> Finding:
    config = ctx.config
    smtp = conversation(ctx)
    step = Step(smtp)
    try:
        reply, mechanism = _authenticate(ctx, smtp)
    except TimeoutError as exc:
        if getattr(exc, "partial", ""):
            return broken_conversation(step, exc, waiting_for="reply to AUTH", ctx=ctx)
        return _auth_unanswered(ctx, step)
    except (ProtocolViolation, smtplib.SMTPServerDisconnected, OSError) as exc:
        return broken_conversation(step, exc, waiting_for="reply to AUTH", ctx=ctx)
    who = config.username or ctx.state.token_user or config.sender
    if reply.code == 235:
        return Finding(Status.PASS, f"Signed in as {who} with AUTH {mechanism}.", reply=str(reply),
                       transcript=step.transcript(), facts=SignedIn(mechanism, who or ""))
    if config.auth in (AuthMethod.OAUTH2, AuthMethod.OAUTH2_APP):
        decoded = _explain_xoauth2(ctx, reply, step)
        if decoded is not None:
            return decoded
    return finding_for_reply(Status.FAIL, f"Sign-in as {who} refused",
                             reply, transcript=step.transcript(),
                             values={"mailbox": who or "", "username": who or "", "host": config.host,
                                     "port": str(config.port)})


def _explain_xoauth2(ctx: CheckContext, reply: SmtpReply, step: Step) -> Finding | None:
    token = ctx.state.smtp_token
    finding = explain_xoauth2_failure(reply.code, reply.text, decode_claims(token) if token else {})
    if finding is None:
        return None
    return Finding(finding.status, finding.summary, details=finding.details, remediation=finding.remediation,
                   guide_section=finding.guide_section, reply=str(reply), transcript=step.transcript(),
                   facts=finding.facts, commands=finding.commands)
