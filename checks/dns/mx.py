"""`dns.mx`: who hosts the sender domain's mail (MX), and whether that provider is the relay's (SPF: domain.spf)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from checks.dns.facts import MxFacts
from checks.dns.failures import (
    FIX_DNS_SERVER,
    error_text,
    resolver_for,
    server_failure_finding,
    timeout_finding,
)
from checks.dns.lookup import (
    SYSTEM,
    Lookup,
    name_text,
    query_all,
)
from checks.knowledge.guide import GuideSection
from checks.model import Finding, Status
from checks.run_state import CheckContext
from checks.settings.config import ProfileId, RelayConfig
from checks.settings.profiles import relay_provider
from checks.settings.providers import PROVIDERS, display_name, provider_of_mx


def mx_provider(exchange: str) -> str:
    """'google', 'microsoft' or '' for an MX host name."""
    return provider_of_mx(exchange) or ""


def _txt(rdata: Any) -> str:
    return b"".join(rdata.strings).decode("utf-8", errors="replace")


def check_mx(ctx: CheckContext) -> Finding:
    """dns.mx: who receives the sender domain's mail (MX); its SPF record is kept for domain.spf to judge."""
    config = ctx.config
    domain = config.sender_domain
    if domain is None:
        return Finding(Status.SKIP, "No sender address: nothing to look up.", guide_section=GuideSection.NETWORK)
    timeout = ctx.step_timeout()
    resolver, label = resolver_for(ctx)
    if resolver is None:
        return Finding(
            Status.SKIP, f"Not run: no DNS resolver configuration to look up {domain}'s MX and SPF records.",
            details="/etc/resolv.conf is missing or names no nameserver; the operating system's resolver cannot "
                    "answer MX or TXT questions.",
            remediation="Give a DNS server with --nameserver IP[:PORT].", guide_section=GuideSection.NETWORK,
            facts=MxFacts(SYSTEM, domain),
        )
    mx, txt = query_all(resolver, [(domain, "MX"), (domain, "TXT")], lifetime=timeout)
    return _judge_mx(config, domain, label, timeout, mx, txt)


def _judge_mx(config: RelayConfig, domain: str, label: str, timeout: float, mx: Lookup, txt: Lookup) -> Finding:
    facts = MxFacts(label, domain)
    if mx.nxdomain or txt.nxdomain:
        return Finding(
            Status.FAIL, f"The sender domain {domain} does not exist (NXDOMAIN).",
            details=f"Resolver: {label}. {error_text(mx.error or txt.error)}",
            remediation=f"Check the sender address's domain ({config.sender or config.username}): receivers reject "
                        "mail from a domain that does not exist.",
            guide_section=GuideSection.NETWORK, facts=facts,
        )
    if mx.error is not None and txt.error is not None:
        if mx.timed_out or txt.timed_out:
            return timeout_finding(f"{domain} (MX/TXT)", label, timeout, domain, facts)
        return server_failure_finding(f"{domain} (MX/TXT)", label, mx.error, domain, facts)

    lines = [f"Resolver: {label}."]
    problems: list[tuple[str, str]] = []  # (summary sentence, remediation)

    exchanges = sorted(((rdata.preference, name_text(rdata.exchange), ttl) for rdata, ttl in mx.records),
                       key=lambda item: (item[0], item[1]))
    null_mx = len(exchanges) == 1 and exchanges[0][1] in ("", ".")
    facts = replace(facts, mx=() if null_mx else tuple(exchange for _, exchange, _ in exchanges),
                    mx_records=tuple(exchanges))
    lines += [f"MX {p} {e or '.'} (TTL {t} s)" for p, e, t in exchanges]
    if mx.error is not None:
        lines.append(f"MX query failed: {error_text(mx.error)}")
        problems.append((f"The MX lookup for {domain} failed.", FIX_DNS_SERVER.format(name=domain, server="")))
    elif not exchanges or null_mx:
        lines.append("No MX record (null MX: the domain declares it receives no mail)." if null_mx
                     else "No MX record.")
        problems.append((f"{domain} has no MX record: receivers may reject mail from a domain that cannot "
                         "receive mail.",
                         f"Publish MX records for {domain} (the mail provider's admin console lists them), or send "
                         "from an address of a domain that receives mail."))

    first = next((e for _, e, _ in exchanges if e), "")
    provider = provider_of_mx(first) if first and not null_mx else None
    facts = replace(facts, provider=provider or "")
    if exchanges and not null_mx:
        lines.append(f"Mail for {domain} is received by "
                     f"{display_name(provider)}.")

    spf_records = [_txt(rdata) for rdata, _ in txt.records if _txt(rdata).lower().startswith("v=spf1")]
    facts = replace(facts, spf=spf_records[0] if spf_records else "")  # judged by domain.spf (includes, redirect=, lookups)
    relay = relay_provider(config)
    if txt.error is not None:
        lines.append(f"TXT query failed: {error_text(txt.error)}")

    if relay and provider and relay != provider and config.profile is not ProfileId.CUSTOM:
        include = PROVIDERS[relay].service(config.cloud).spf_include
        problems.insert(0, (
            f"The domain's mail is hosted by {PROVIDERS[provider].name} but the relay is {PROVIDERS[relay].name}: "
            f"messages from this domain sent via {PROVIDERS[relay].name} may fail SPF/DMARC.",
            f"Either relay through the domain's own provider ({PROVIDERS[provider].guide_host()}) with a mailbox of "
            f"that domain, or authorise {PROVIDERS[relay].name} for it: add {include} to the SPF record, set up DKIM "
            f"for {domain} there, and make sure the sender is a mailbox of the relay's account/tenant.",
        ))

    if problems:
        return Finding(
            Status.WARN, " ".join(summary for summary, _ in problems), details="\n".join(lines),
            remediation=" ".join(dict.fromkeys(fix for _, fix in problems)),
            guide_section=GuideSection.NETWORK, facts=facts,
        )
    return Finding(Status.PASS, f"{domain}'s mail is hosted by {display_name(provider)}.", details="\n".join(lines),
                   guide_section=GuideSection.NETWORK, facts=facts)
