"""`tls`: STARTTLS (or implicit TLS) negotiated, TLS 1.2+, and a certificate we really verified."""

from __future__ import annotations

import datetime as dt
import smtplib
import ssl
from dataclasses import dataclass

from checks.knowledge.guide import GuideSection
from checks.knowledge.network import live_commands
from checks.knowledge.replies import finding_for_reply
from checks.model import CheckId, Finding, Status
from checks.run_state import CheckContext
from checks.settings.config import Security
from checks.settings.limits import CERTIFICATE_WARNING_DAYS
from checks.settings.profiles import relay_provider
from checks.smtp.conversation import Step, broken_conversation, conversation, run_mask
from checks.smtp.facts import CertificateFacts, Greeting, TlsFacts
from checks.smtp.session import BoundedSMTP, ProtocolViolation
from checks.smtp.target import Target, connect
from checks.smtp.tls_context import client_context, unverified_context

OLD_VERSIONS = ("SSLv3", "TLSv1", "TLSv1.1")
OLD_PROTOCOL_REASONS = ("UNSUPPORTED_PROTOCOL", "TLSV1_ALERT_PROTOCOL_VERSION", "NO_PROTOCOLS_AVAILABLE",
                        "VERSION_TOO_LOW")
UNKNOWN_ISSUER_CODES = (2, 18, 19, 20, 21)  # OpenSSL X509_V_ERR_*: issuer unknown / self-signed / chain incomplete


def run_context(ctx: CheckContext) -> ssl.SSLContext:
    return ctx.state.ssl_context(lambda: client_context(ctx.config.ca_file, ctx.deps.ssl_context))


def check_tls(ctx: CheckContext) -> Finding:
    config = ctx.config
    smtp = conversation(ctx)
    step = Step(smtp)
    try:
        if config.security is Security.STARTTLS:
            if not smtp.has_extn("starttls"):
                return _no_starttls(ctx, step)
            answer = smtp.start_tls(lambda: run_context(ctx))
            if answer.code != 220:
                return finding_for_reply(Status.FAIL, "STARTTLS is advertised but refused", answer,
                                         transcript=step.transcript())
        else:
            smtp.wrap(run_context(ctx))
    except ssl.SSLCertVerificationError as exc:
        return _certificate_failure(ctx, exc, step)
    except (ssl.SSLEOFError, ssl.SSLZeroReturnError, ConnectionError) as exc:
        if not smtp.handshaking:
            return broken_conversation(step, exc, waiting_for="STARTTLS reply", ctx=ctx)
        return _handshake_cut(ctx, step)
    except ssl.SSLError as exc:
        return _handshake_failure(ctx, exc, step)
    except TimeoutError as exc:
        if not smtp.handshaking:
            return broken_conversation(step, exc, waiting_for="STARTTLS reply", ctx=ctx)
        return _handshake_stalled(ctx, step)
    except (ProtocolViolation, smtplib.SMTPServerDisconnected, OSError) as exc:
        return broken_conversation(step, exc, waiting_for="STARTTLS reply", ctx=ctx)
    return _negotiated(ctx, smtp, step)


def _negotiated(ctx: CheckContext, smtp: BoundedSMTP, step: Step) -> Finding:
    version, cipher = smtp.sock.version() or "", (smtp.sock.cipher() or ("",))[0]
    cert = verified_certificate_facts(smtp.sock.getpeercert())
    if ctx.config.security is Security.STARTTLS:
        try:
            smtp.ehlo()
        except (ProtocolViolation, smtplib.SMTPServerDisconnected, OSError) as exc:
            return broken_conversation(step, exc, waiting_for="EHLO reply after STARTTLS", ctx=ctx)
    days = cert.days_left(ctx.deps.now()) if cert else None
    facts = TlsFacts(version, cipher, cert.subject if cert else "", cert.issuer if cert else "", days,
                     cert.not_after.date().isoformat() if cert else None,
                     tuple(sorted(k.upper() for k in smtp.esmtp_features)))
    details = (f"Protocol {version}, cipher {cipher}.\nCertificate: {cert.subject}, issued by {cert.issuer}, "
               f"valid until {cert.not_after:%Y-%m-%d} ({days} days)." if cert else f"Protocol {version}.")
    if version in OLD_VERSIONS:
        return Finding(Status.FAIL, f"TLS negotiated at {version}, below TLS 1.2.", details=details,
                       remediation="Providers refuse TLS below 1.2 (Microsoft answers 421 4.7.66): update the "
                                   "application's TLS library or OS.", guide_section=GuideSection.NETWORK.value,
                       transcript=step.transcript(), facts=facts,
                       commands=live_commands("tls.old_protocol", ctx.config.host, ctx.config.port))
    if days is not None and days < CERTIFICATE_WARNING_DAYS:
        return Finding(Status.WARN, f"TLS {version} works, but the server certificate expires in {days} days.",
                       details=details, remediation="Renew the server certificate before it expires.",
                       guide_section=GuideSection.NETWORK.value, transcript=step.transcript(), facts=facts)
    how = "STARTTLS" if ctx.config.security is Security.STARTTLS else "Implicit TLS"
    return Finding(Status.PASS, f"{how} negotiated: {version}, certificate valid for {ctx.config.host}.",
                   details=details, transcript=step.transcript(), facts=facts)


def _no_starttls(ctx: CheckContext, step: Step) -> Finding:
    config = ctx.config
    provider = relay_provider(config)
    greeting = ctx.facts(CheckId.SMTP_GREETING, Greeting)
    cause = "The server does not offer STARTTLS on this port, so the password would travel in clear text."
    if provider:
        cause += (" The real provider always offers it: a firewall's 'SMTP inspection' (e.g. ESMTP fixup) or a "
                  "proxy in the path is removing it.")
    fix = ("Turn off SMTP inspection on the firewall for this host, so STARTTLS reaches the application."
           if provider else "Enable STARTTLS on the server (a certificate and TLS for the submission port), or "
           "use a port that offers it (587), or implicit TLS on 465.")
    return Finding(Status.FAIL, f"STARTTLS is not offered on port {config.port}.",
                   details=f"Cause: {cause}\nEHLO capabilities: "
                           f"{', '.join(greeting.capabilities if greeting else ())}",
                   remediation=fix,
                   guide_section=GuideSection.NETWORK.value, transcript=step.transcript())


def _handshake_cut(ctx: CheckContext, step: Step) -> Finding:
    old = _old_protocol(ctx, step, "The server closed the connection during the TLS 1.2+ handshake.")
    if old is not None:
        return old
    return Finding(Status.FAIL, "The connection was cut in the middle of the TLS handshake.",
                   details="The server (or something between) closed or reset the connection after TLS began.",
                   remediation="A firewall's SMTP/TLS inspection, an antivirus mail shield or the server's own TLS "
                               "setup aborts the handshake: check the server's TLS logs, or try from another "
                               "network.", guide_section=GuideSection.NETWORK.value, transcript=step.transcript())


def _handshake_stalled(ctx: CheckContext, step: Step) -> Finding:
    return Finding(Status.FAIL, f"No TLS handshake {ctx.waited()}: it was never completed.",
                   details="The server accepted the connection but never finished the TLS handshake (it stalls, "
                           "answers far too slowly, or is not a TLS service).",
                   remediation="Check that host, port and security match (587 + STARTTLS or 465 + implicit TLS) "
                               "and that no proxy holds TLS connections.",
                   guide_section=GuideSection.NETWORK.value, transcript=step.transcript())


def _handshake_failure(ctx: CheckContext, exc: ssl.SSLError, step: Step) -> Finding:
    reason = exc.reason or str(exc)
    if any(r in reason.upper() for r in OLD_PROTOCOL_REASONS):
        return Finding(Status.FAIL, "The server offers only TLS older than 1.2.", details=f"OpenSSL: {reason}",
                       remediation="TLS 1.0/1.1 are refused by current clients and providers: enable TLS 1.2 or 1.3 "
                                   "on the server.", guide_section=GuideSection.NETWORK.value,
                       transcript=step.transcript(),
                       commands=live_commands("tls.old_protocol", ctx.config.host, ctx.config.port))
    if "WRONG_VERSION_NUMBER" in reason.upper() and ctx.config.security is Security.TLS:
        return Finding(Status.FAIL, "The server answered the TLS handshake in plain text: this port uses STARTTLS, "
                       "not implicit TLS.", details=f"OpenSSL: {reason}",
                       remediation="Set security to STARTTLS (port 587), or use the server's implicit-TLS port (465).",
                       guide_section=GuideSection.NETWORK.value, transcript=step.transcript(),
                       commands=live_commands("tls.wrong_mode", ctx.config.host, ctx.config.port))
    old = _old_protocol(ctx, step, f"OpenSSL: {reason}")
    if old is not None:
        return old
    return Finding(Status.FAIL, "The TLS handshake failed: the other side does not speak TLS correctly.",
                   details=f"OpenSSL: {reason}", remediation="Check that host, port and security match "
                   "(587 + STARTTLS or 465 + implicit TLS) and that nothing in between tampers with TLS.",
                   guide_section=GuideSection.NETWORK.value, transcript=step.transcript())


def _certificate_failure(ctx: CheckContext, exc: ssl.SSLCertVerificationError, step: Step) -> Finding:
    config = ctx.config
    look = second_look(ctx)
    cert = look.certificate if look else None
    shown = (f"Certificate: {cert.subject}, names {', '.join(cert.names) or 'none'}, issued by {cert.issuer}, "
             f"valid until {cert.not_after:%Y-%m-%d}." if cert else "The certificate could not be read a second time.")
    facts = TlsFacts(certificate_issuer=cert.issuer if cert else "", verify_code=exc.verify_code)
    provider = relay_provider(config)
    kind = ""
    if exc.verify_code == 10:
        summary = f"The server certificate has expired{f' (on {cert.not_after:%Y-%m-%d})' if cert else ''}."
        fix = "The server's administrator must renew the certificate; clients will refuse it until then."
        if provider:
            fix = ("The real provider's certificate is never expired: something in the path presents an old "
                   "certificate (a proxy or a stale gateway). Check the network path.")
    elif exc.verify_code == 62:
        kind = "tls.cert_name"
        names = ", ".join(cert.names) if cert else "other names"
        summary = f"The certificate is not valid for {config.host}: it names {names}."
        fix = "Use the host name the certificate names, or have the certificate reissued with this name."
    elif exc.verify_code in UNKNOWN_ISSUER_CODES:
        kind = "tls.cert_untrusted"
        issuer = cert.issuer if cert else "an unknown issuer"
        summary = f"The certificate is issued by an untrusted authority: {issuer}."
        fix = ("Add the issuing CA with --ca-file if it is your own, or install the server's full certificate "
               "chain.")
        if provider:
            summary = f"TLS is intercepted: the certificate for {config.host} is issued by {issuer}."
            fix = ("A TLS-inspecting proxy or firewall replaces the provider's certificate. Exempt "
                   f"{config.host} from TLS inspection, or (if the application supports it) trust the proxy's CA "
                   "(for this console: --ca-file with the proxy's CA).")
    else:
        summary = f"The server certificate failed verification: {exc.verify_message}."
        fix = "Check the certificate chain the server presents."
    return Finding(Status.FAIL, summary, details=f"OpenSSL: {exc.verify_message} (code {exc.verify_code})\n{shown}",
                   remediation=fix, guide_section=GuideSection.NETWORK.value, transcript=step.transcript(),
                   facts=facts, commands=live_commands(kind, config.host, config.port))


@dataclass(frozen=True)
class PeerLook:
    """What a permissive second handshake saw: the protocol the server agrees to and its certificate."""

    version: str
    certificate: CertificateFacts | None


def second_look(ctx: CheckContext) -> PeerLook | None:
    """Reconnect with a permissive, never-trusting handshake to say why the real one failed (cert or protocol)."""
    config = ctx.config
    connected = ctx.facts(CheckId.PORT, Target)
    if connected is None or not connected.address:
        return None
    try:
        smtp = BoundedSMTP(local_hostname=config.ehlo_name, step_timeout=ctx.step_timeout, clock=ctx.deps.clock,
                           on_secret=ctx.add_secret, mask=run_mask(ctx))
        smtp.attach(connect(connected, ctx.step_timeout()), config.host)
        try:
            if config.security is Security.STARTTLS:
                smtp.reply()
                smtp.ehlo()
                if smtp.start_tls(unverified_context).code != 220:
                    return None
            else:
                smtp.wrap(unverified_context())
            version, der = smtp.sock.version() or "", smtp.sock.getpeercert(binary_form=True)
        finally:
            smtp.goodbye()
    except (OSError, smtplib.SMTPException, ValueError):
        return None
    return PeerLook(version, certificate_facts(der))


def _old_protocol(ctx: CheckContext, step: Step, detail: str) -> Finding | None:
    """The failure explained as 'TLS 1.0/1.1 only' when a permissive second handshake lands there."""
    look = second_look(ctx)
    if look is None or look.version not in OLD_VERSIONS:
        return None
    return Finding(Status.FAIL, "The server offers only TLS older than 1.2.",
                   details=f"{detail}\nA second, permissive handshake negotiated {look.version}.",
                   remediation="TLS 1.0/1.1 are refused by current clients and providers (Microsoft 365 answers "
                               "421 4.7.66): enable TLS 1.2 or 1.3 on the server or gateway.",
                   guide_section=GuideSection.NETWORK.value, transcript=step.transcript(),
                   facts=TlsFacts(look.version),
                   commands=live_commands("tls.old_protocol", ctx.config.host, ctx.config.port))


def verified_certificate_facts(peer: dict | None) -> CertificateFacts | None:
    """Subject, issuer, names and end date of a certificate the handshake verified, as the ssl module decoded it."""
    if not peer or "notAfter" not in peer:
        return None

    def name_of(rdns: tuple) -> str:
        attributes = dict(pair for rdn in rdns for pair in rdn)
        return str(attributes.get("commonName") or attributes.get("organizationName") or "(no name)")

    names = tuple(str(value) for kind, value in peer.get("subjectAltName", ()) if kind in ("DNS", "IP Address"))
    not_after = dt.datetime.fromtimestamp(ssl.cert_time_to_seconds(peer["notAfter"]), dt.UTC)
    return CertificateFacts(name_of(peer.get("subject", ())), name_of(peer.get("issuer", ())), names, not_after)


def certificate_facts(der: bytes | None) -> CertificateFacts | None:
    """Subject, issuer, names and end date from a certificate's DER bytes, verified or not (the second look)."""
    if not der:
        return None
    # ~0.1 s to load: only the second look at a refused certificate needs it (a verified one is read by ssl)
    from cryptography import x509
    from cryptography.x509.oid import ExtensionOID, NameOID

    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return None

    def name_of(name: x509.Name) -> str:
        parts = name.get_attributes_for_oid(NameOID.COMMON_NAME) or name.get_attributes_for_oid(
            NameOID.ORGANIZATION_NAME)
        return str(parts[0].value) if parts else name.rfc4514_string() or "(no name)"

    try:
        san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
        names = tuple(str(n) for n in san.get_values_for_type(x509.DNSName)) + tuple(
            str(ip) for ip in san.get_values_for_type(x509.IPAddress))
    except x509.ExtensionNotFound:
        names = ()
    return CertificateFacts(name_of(cert.subject), name_of(cert.issuer), names, cert.not_valid_after_utc)
