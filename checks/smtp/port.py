"""`port`: can we open a TCP connection to the relay, and if not, is it refused, dropped or unreachable."""

from __future__ import annotations

import errno

from checks.knowledge.guide import GuideSection
from checks.knowledge.network import live_commands
from checks.model import Finding, Status
from checks.run_state import CheckContext
from checks.settings.config import Security
from checks.settings.limits import ALTERNATIVE_PROBE_SECONDS
from checks.settings.profiles import profile, relay_provider
from checks.settings.providers import alternative_port
from checks.smtp.probe import smtp_greets, tls_handshake_completes
from checks.smtp.target import Target, connect, targets


def alternative_answers(address: str, port: int, security: Security, *, timeout: float, server_name: str) -> bool:
    """Whether the provider's other port really serves mail here: a TLS handshake (implicit TLS) or a 220."""
    if security is Security.TLS:
        return tls_handshake_completes(address, port, timeout=timeout, server_name=server_name)
    return smtp_greets(address, port, timeout=timeout)


def check_port(ctx: CheckContext) -> Finding:
    config = ctx.config
    candidates = targets(ctx)
    if not candidates:
        return Finding(Status.ERROR, "No address to connect to.", details="dns.host gave no address.")
    refused = [(t, why) for t in candidates if (why := ctx.deps.policy.address_refusal(t.address))]
    if refused:
        return Finding(Status.FAIL, f"Not connecting to {config.host}: {refused[0][1]}.",
                       remediation="Ask whoever hosts this console to allow this target, or run the console or the "
                                   "CLI on your own machine.", guide_section=GuideSection.NETWORK.value)
    failures: list[tuple[Target, OSError]] = []
    for target in candidates:
        started = ctx.deps.clock()
        try:
            sock = connect(target, ctx.step_timeout())
        except OSError as exc:
            failures.append((target, exc))
            continue
        latency_ms = (ctx.deps.clock() - started) * 1000
        ctx.state.socket = sock  # the first SMTP step starts the conversation on it
        via = f" (via --connect-to for {config.host})" if config.connect_to else ""
        return Finding(
            Status.PASS, f"Connected to {target.address} port {target.port} in {latency_ms:.0f} ms{via}.",
            details="\n".join([f"Tried {t.address}:{t.port}: {describe(e)}" for t, e in failures]),
            facts=Target(target.address, target.port, round(latency_ms, 1)),
        )
    return _unreachable(ctx, failures)


def describe(exc: OSError) -> str:
    if isinstance(exc, TimeoutError):
        return "no answer (timed out)"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    return exc.strerror or type(exc).__name__


def _unreachable(ctx: CheckContext, failures: list[tuple[Target, OSError]]) -> Finding:
    config = ctx.config
    target, exc = failures[0]
    tried = "\n".join(f"{t.address}:{t.port}: {describe(e)}" for t, e in failures)
    kind = ""
    if isinstance(exc, TimeoutError):
        kind = "port.timeout"
        summary = (f"No answer from {target.address} port {target.port} {ctx.waited()}: "
                   f"the connection is silently dropped.")
        cause = (f"A firewall, the hosting provider or the ISP is dropping outbound traffic to port {target.port} "
                 f"(cloud hosts and some ISPs block outbound SMTP ports), or the server is down.")
        fix = (f"Allow outbound TCP {target.port} to {config.host} on the firewall / security group, or ask the "
               f"network or hosting provider to unblock it.")
    elif isinstance(exc, ConnectionRefusedError):
        kind = "port.refused"
        summary = f"Connection refused by {target.address} port {target.port}."
        cause = ("Nothing listens on that port at that address, or a firewall actively rejects the connection "
                 "(wrong host or port, or a local mail-filter / antivirus redirect).")
        guide_host = profile(config.profile).host_for(config.cloud)
        fix = (f"Check host and port: the guide uses {guide_host} port 587." if guide_host
               else "Check the host and port with the mail server's administrator (submission is usually 587).")
    else:
        summary = f"Cannot reach {target.address} port {target.port}: {describe(exc)}."
        cause = "This machine has no route to that address (no network, no IPv6 route, or a VPN/proxy in the way)."
        fix = "Check this machine's network connection and routes, or try from the server that runs the application."
    if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH) and ":" in target.address:
        fix += " The address is IPv6: the machine may lack IPv6 connectivity."
    if not config.connect_to:
        alt_port, alt_security = alternative_port(relay_provider(config), config.port)
        probe_timeout = min(ALTERNATIVE_PROBE_SECONDS, ctx.step_timeout())
        policy = ctx.deps.policy
        if policy.restricted and alt_port not in policy.ports:
            tried += f"\nAlternative port {alt_port}: not tried (this hosted console may not test it)"
        elif alternative_answers(target.address, alt_port, alt_security, timeout=probe_timeout,
                                 server_name=config.host):
            mode = "implicit TLS (security: tls)" if alt_security is Security.TLS else "STARTTLS"
            fix += (f" Port {alt_port} on the same host answers: the provider also accepts {mode} there, so "
                    f"setting port {alt_port} with {mode} should work from this network.")
            proof = "a TLS handshake completed" if alt_security is Security.TLS else "an SMTP server greets"
            tried += f"\nAlternative port {alt_port}: {proof}"
        else:
            tried += f"\nAlternative port {alt_port}: no mail service answers there either"
    return Finding(Status.FAIL, summary, details=f"Cause: {cause}\n{tried}", remediation=fix,
                   guide_section=GuideSection.NETWORK.value, facts=target,
                   commands=live_commands(kind, config.host, target.port))
