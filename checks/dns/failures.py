"""What dns.host and dns.mx share: the run's resolver with its label, and verdicts for a silent or failing DNS server."""

from __future__ import annotations

from typing import Any

from checks.dns.lookup import SYSTEM, dnspython, make_resolver, resolver_label
from checks.knowledge.guide import GuideSection
from checks.model import Facts, Finding, Status
from checks.run_state import CheckContext

FIX_DNS_SERVER = ("Check the DNS server / firewall for port 53 (UDP and TCP): from this machine run "
                  "`nslookup {name} {server}`, or give a reachable server with --nameserver IP[:PORT].")


def resolver_for(ctx: CheckContext) -> tuple[Any, str]:
    answers = ctx.state.dns_answers(lambda: dnspython().resolver.Cache())
    resolver = make_resolver(ctx.config, injected=ctx.deps.resolver, timeout=ctx.step_timeout(), answers=answers)
    if resolver is not None and ctx.deps.resolver is None and ctx.config.nameserver is None:
        return resolver, SYSTEM
    return resolver, resolver_label(ctx.config, resolver)


def error_text(error: BaseException | None) -> str:
    text = str(error) if error is not None else ""
    return text if len(text) <= 300 else text[:297] + "..."


def timeout_finding(what: str, label: str, timeout: float, name: str, facts: Facts) -> Finding:
    server = "the system's DNS server" if label == SYSTEM else f"the DNS server {label}"
    return Finding(
        Status.FAIL, f"No answer from {server} for {what} within {timeout:.3g} s.",
        details=f"Resolver: {label}. Timeout: {timeout:.3g} s (the step timeout, or what was left of the run "
                "deadline).",
        remediation=FIX_DNS_SERVER.format(name=name, server="" if label == SYSTEM else label.rsplit(":", 1)[0]),
        guide_section=GuideSection.NETWORK, facts=facts,
    )


def server_failure_finding(what: str, label: str, error: BaseException | None, name: str,
                           facts: Facts) -> Finding:
    server = "the system's DNS server" if label == SYSTEM else f"the DNS server {label}"
    return Finding(
        Status.FAIL, f"{server[0].upper()}{server[1:]} gave no usable answer for {what}.",
        details=f"Resolver: {label}. {error_text(error)}",
        remediation=FIX_DNS_SERVER.format(name=name, server="" if label == SYSTEM else label.rsplit(":", 1)[0])
        + " A SERVFAIL or REFUSED reply means that server cannot or will not resolve public names.",
        guide_section=GuideSection.NETWORK, facts=facts,
    )

