"""DNS checks: does the relay host resolve (and to what), and who hosts the sender domain's mail (MX, SPF)."""

from __future__ import annotations

import ipaddress
from typing import Any

from checks.run_state import CheckContext
from checks.dns.lookup import (
    SYSTEM,
    Lookup,
    getaddrinfo_addresses,
    ipv4_first,
    make_resolver,
    name_text,
    query_all,
    resolver_label,
)
from checks.knowledge.guide import GuideSection
from checks.model import Finding, ProfileId, RelayConfig, Status
from checks.settings.profiles import profile, provider_of_host

PROVIDER_NAMES = {"google": "Google (Gmail/Workspace)", "microsoft": "Microsoft 365"}
RELAY_HOSTS = {"google": "smtp.gmail.com", "microsoft": "smtp.office365.com"}
# What a domain's SPF must include to let the provider's servers send for it (global, GCC High, 21Vianet).
SPF_INCLUDES = {
    "google": ("include:_spf.google.com",),
    "microsoft": ("include:spf.protection.outlook.com", "include:spf.protection.office365.us",
                  "include:spf.protection.partner.outlook.cn"),
}
GOOGLE_MX_SUFFIXES = (".google.com", ".googlemail.com")
MICROSOFT_MX_SUFFIXES = (".mail.protection.outlook.com", ".mail.protection.office365.us",
                         ".mail.protection.partner.outlook.cn")
FIX_DNS_SERVER = ("Check the DNS server / firewall for port 53 (UDP and TCP): from this machine run "
                  "`nslookup {name} {server}`, or give a reachable server with --nameserver IP[:PORT].")


def _resolver_for(ctx: CheckContext) -> tuple[Any, str]:
    resolver = make_resolver(ctx.config, injected=ctx.deps.resolver, timeout=ctx.step_timeout())
    if resolver is not None and ctx.deps.resolver is None and ctx.config.nameserver is None:
        return resolver, SYSTEM
    return resolver, resolver_label(ctx.config, resolver)


def _is_internal(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_reserved


def _error_text(error: BaseException | None) -> str:
    text = str(error) if error is not None else ""
    return text if len(text) <= 300 else text[:297] + "..."


def _timeout_finding(what: str, label: str, timeout: float, name: str, **facts: Any) -> Finding:
    server = "the system's DNS server" if label == SYSTEM else f"the DNS server {label}"
    return Finding(
        Status.FAIL, f"No answer from {server} for {what} within {timeout:.3g} s.",
        details=f"Resolver: {label}. Timeout: {timeout:.3g} s (the step timeout, or what was left of the run "
                "deadline).",
        remediation=FIX_DNS_SERVER.format(name=name, server="" if label == SYSTEM else label.rsplit(":", 1)[0]),
        guide_section=GuideSection.NETWORK, facts={"resolver": label, **facts},
    )


def _server_failure_finding(what: str, label: str, error: BaseException | None, name: str,
                            **facts: Any) -> Finding:
    server = "the system's DNS server" if label == SYSTEM else f"the DNS server {label}"
    return Finding(
        Status.FAIL, f"{server[0].upper()}{server[1:]} gave no usable answer for {what}.",
        details=f"Resolver: {label}. {_error_text(error)}",
        remediation=FIX_DNS_SERVER.format(name=name, server="" if label == SYSTEM else label.rsplit(":", 1)[0])
        + " A SERVFAIL or REFUSED reply means that server cannot or will not resolve public names.",
        guide_section=GuideSection.NETWORK, facts={"resolver": label, **facts},
    )


# --- dns.host -----------------------------------------------------------------------------------------


def _ip_literal(host: str) -> str | None:
    candidate = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def check_host(ctx: CheckContext) -> Finding:
    """dns.host: the relay host's addresses (A, AAAA) with TTLs and CNAME chain, from the chosen resolver."""
    config = ctx.config
    literal = _ip_literal(config.host)
    if literal is not None:
        return Finding(
            Status.PASS, f"{literal} is an IP address: no DNS lookup needed.",
            details="Connecting to an IP address: the TLS certificate must then name that address "
                    "(provider certificates name host names only, so TLS verification will fail for them).",
            remediation="Prefer the provider's host name (smtp.office365.com / smtp.gmail.com) unless this is "
                        "your own relay whose certificate lists the IP address.",
            guide_section=GuideSection.NETWORK, facts={"addresses": [literal], "ip_literal": True},
        )

    host = config.host.rstrip(".")
    timeout = ctx.step_timeout()
    resolver, label = _resolver_for(ctx)
    if resolver is None:
        finding = _host_via_getaddrinfo(config, host, timeout)
    else:
        finding = _host_via_dns(config, host, resolver, label, timeout)
    return _soften_for_connect_to(config, finding)


def _host_via_dns(config: RelayConfig, host: str, resolver: Any, label: str, timeout: float) -> Finding:
    a, aaaa = query_all(resolver, [(host, "A"), (host, "AAAA")], lifetime=timeout)
    base_facts = {"resolver": label}
    if a.nxdomain or aaaa.nxdomain:
        return Finding(
            Status.FAIL, f"The name {host} does not exist (NXDOMAIN; resolver: {label}).",
            details=f"Resolver: {label}. {_error_text(a.error or aaaa.error)}",
            remediation="The name does not exist: check the spelling (smtp.office365.com / smtp.gmail.com) "
                        "and that no extra characters were pasted.",
            guide_section=GuideSection.NETWORK, facts={**base_facts, "addresses": []},
        )
    answered = [lk for lk in (a, aaaa) if lk.error is None]
    if not answered:
        if a.timed_out or aaaa.timed_out:
            return _timeout_finding(f"{host} (A/AAAA)", label, timeout, host, addresses=[])
        return _server_failure_finding(f"{host} (A/AAAA)", label, a.error or aaaa.error, host, addresses=[])

    records = [(rdata.address, ttl) for lk in (a, aaaa) for rdata, ttl in lk.records]
    addresses = ipv4_first(address for address, _ in records)
    cnames = next((lk.cnames for lk in answered if lk.cnames), ())
    canonical = next((lk.canonical_name for lk in answered if lk.canonical_name), host)
    lines = [f"Resolver: {label}."]
    lines += [f"CNAME {owner} -> {target} (TTL {ttl} s)" for owner, target, ttl in cnames]
    lines += [f"{'A' if ':' not in address else 'AAAA'} {address} (TTL {ttl} s)" for address, ttl in records]
    for lk in (a, aaaa):
        if lk.error is not None:
            lines.append(f"{lk.rtype} query failed: {_error_text(lk.error)}")
        elif not lk.records:
            lines.append(f"No {lk.rtype} record.")
    facts = {
        **base_facts, "addresses": addresses, "canonical_name": canonical,
        "cname_chain": [target for _, target, _ in cnames],
        "records": [{"address": address, "ttl": ttl} for address, ttl in records],
    }
    if not addresses:
        return Finding(
            Status.FAIL, f"{host} exists but has no IPv4 (A) or IPv6 (AAAA) address.",
            details="\n".join(lines),
            remediation="The name is not a mail server's name: check the host setting "
                        "(smtp.office365.com / smtp.gmail.com).",
            guide_section=GuideSection.NETWORK, facts=facts,
        )

    chain = f" via {' -> '.join(t for _, t, _ in cnames)}" if cnames else ""
    summary = f"{host} resolves to {', '.join(addresses)}{chain}."
    provider = provider_of_host(host)
    internal = [address for address in addresses if _is_internal(address)]
    if provider and internal:
        if config.nameserver is None:
            lines.append(f"{', '.join(internal)} is a private or loopback address, not {PROVIDER_NAMES[provider]}'s.")
            return Finding(
                Status.WARN, f"{host} resolves to the private/loopback address {', '.join(internal)}.",
                details="\n".join(lines),
                remediation="A provider's SMTP host always has public addresses. Look for split-horizon DNS or a "
                            "hosts-file entry redirecting the provider, or a TLS-inspecting gateway / proxy "
                            "intercepting mail (its certificate will not be the provider's). Compare with "
                            "`nslookup " + host + " 1.1.1.1`.",
                guide_section=GuideSection.NETWORK, facts=facts,
            )
        lines.append(f"Note: {', '.join(internal)} is private/loopback; accepted because the nameserver "
                     f"{label} was chosen explicitly (practice lab or test setup).")
    timed_out = [lk.rtype for lk in (a, aaaa) if lk.timed_out]
    if timed_out:
        return Finding(
            Status.WARN, summary + f" The {'/'.join(timed_out)} query timed out.",
            details="\n".join(lines),
            remediation="Some DNS servers or firewalls drop IPv6 (AAAA) or IPv4 queries; clients then wait for "
                        "the timeout on every connection. " + FIX_DNS_SERVER.format(name=host, server=""),
            guide_section=GuideSection.NETWORK, facts=facts,
        )
    return Finding(Status.PASS, summary, details="\n".join(lines), guide_section=GuideSection.NETWORK, facts=facts)


def _host_via_getaddrinfo(config: RelayConfig, host: str, timeout: float) -> Finding:
    addresses, canonical, error = getaddrinfo_addresses(host, timeout=timeout)
    note = ("No usable DNS resolver configuration (/etc/resolv.conf missing or without a nameserver): "
            "asked the operating system (getaddrinfo, which also reads the hosts file); TTL unknown.")
    facts = {"resolver": SYSTEM, "addresses": addresses, "canonical_name": canonical or host, "cname_chain": []}
    if error is not None:
        timed_out = isinstance(error, TimeoutError)
        return Finding(
            Status.FAIL,
            f"The system resolver gave no answer for {host} within {timeout:.3g} s." if timed_out
            else f"{host} could not be resolved by the system resolver ({_error_text(error)}).",
            details=note, remediation=FIX_DNS_SERVER.format(name=host, server="")
            + " Check the spelling (smtp.office365.com / smtp.gmail.com).",
            guide_section=GuideSection.NETWORK, facts=facts,
        )
    lines = [note] + [f"{'AAAA' if ':' in a else 'A'} {a} (TTL unknown)" for a in addresses]
    provider = provider_of_host(host)
    internal = [a for a in addresses if _is_internal(a)]
    if provider and internal:
        return Finding(
            Status.WARN, f"{host} resolves to the private/loopback address {', '.join(internal)}.",
            details="\n".join(lines),
            remediation="A provider's SMTP host always has public addresses: look for a hosts-file entry, "
                        "split-horizon DNS or a TLS-inspecting gateway redirecting the provider.",
            guide_section=GuideSection.NETWORK, facts=facts,
        )
    return Finding(Status.PASS, f"{host} resolves to {', '.join(addresses)} (TTL unknown).",
                   details="\n".join(lines), guide_section=GuideSection.NETWORK, facts=facts)


def _soften_for_connect_to(config: RelayConfig, finding: Finding) -> Finding:
    """With connect_to set the connection does not use this lookup: a DNS failure is then only a warning."""
    if config.connect_to is None or finding.status is not Status.FAIL:
        return finding
    return Finding(
        Status.WARN, finding.summary + f" (Connections go to {config.connect_to}, so the test continues.)",
        details=finding.details, remediation=finding.remediation, guide_section=finding.guide_section,
        facts={**finding.facts, "connect_to": config.connect_to},
    )


# --- dns.mx -------------------------------------------------------------------------------------------


def mx_provider(exchange: str) -> str:
    """'google', 'microsoft' or '' for an MX host name."""
    name = "." + exchange.lower().rstrip(".")
    if name.endswith(GOOGLE_MX_SUFFIXES):
        return "google"
    if name.endswith(MICROSOFT_MX_SUFFIXES):
        return "microsoft"
    return ""


def relay_provider(config: RelayConfig) -> str:
    """The relay's provider: from the host name, else from the profile ('' for a custom server)."""
    return provider_of_host(config.host) or profile(config.profile).provider


def _txt(rdata: Any) -> str:
    return b"".join(rdata.strings).decode("utf-8", errors="replace")


def check_mx(ctx: CheckContext) -> Finding:
    """dns.mx: who receives the sender domain's mail (MX) and whether its SPF lets the relay send for it."""
    config = ctx.config
    domain = config.sender_domain
    if domain is None:
        return Finding(Status.SKIP, "No sender address: nothing to look up.", guide_section=GuideSection.NETWORK)
    timeout = ctx.step_timeout()
    resolver, label = _resolver_for(ctx)
    if resolver is None:
        return Finding(
            Status.SKIP, f"Not run: no DNS resolver configuration to look up {domain}'s MX and SPF records.",
            details="/etc/resolv.conf is missing or names no nameserver; the operating system's resolver cannot "
                    "answer MX or TXT questions.",
            remediation="Give a DNS server with --nameserver IP[:PORT].", guide_section=GuideSection.NETWORK,
            facts={"resolver": SYSTEM, "domain": domain, "mx": [], "provider": "", "spf": ""},
        )
    mx, txt = query_all(resolver, [(domain, "MX"), (domain, "TXT")], lifetime=timeout)
    return _judge_mx(config, domain, label, timeout, mx, txt)


def _judge_mx(config: RelayConfig, domain: str, label: str, timeout: float, mx: Lookup, txt: Lookup) -> Finding:
    facts: dict[str, Any] = {"resolver": label, "domain": domain, "mx": [], "mx_records": [], "provider": "",
                             "spf": ""}
    if mx.nxdomain or txt.nxdomain:
        return Finding(
            Status.FAIL, f"The sender domain {domain} does not exist (NXDOMAIN).",
            details=f"Resolver: {label}. {_error_text(mx.error or txt.error)}",
            remediation=f"Check the sender address's domain ({config.sender or config.username}): receivers reject "
                        "mail from a domain that does not exist.",
            guide_section=GuideSection.NETWORK, facts=facts,
        )
    if mx.error is not None and txt.error is not None:
        if mx.timed_out or txt.timed_out:
            return _timeout_finding(f"{domain} (MX/TXT)", label, timeout, domain, **facts)
        return _server_failure_finding(f"{domain} (MX/TXT)", label, mx.error, domain, **facts)

    lines = [f"Resolver: {label}."]
    problems: list[tuple[str, str]] = []  # (summary sentence, remediation)

    exchanges = sorted(((rdata.preference, name_text(rdata.exchange), ttl) for rdata, ttl in mx.records),
                       key=lambda item: (item[0], item[1]))
    null_mx = len(exchanges) == 1 and exchanges[0][1] in ("", ".")
    facts["mx"] = [] if null_mx else [exchange for _, exchange, _ in exchanges]
    facts["mx_records"] = [{"preference": p, "exchange": e, "ttl": t} for p, e, t in exchanges]
    lines += [f"MX {p} {e or '.'} (TTL {t} s)" for p, e, t in exchanges]
    if mx.error is not None:
        lines.append(f"MX query failed: {_error_text(mx.error)}")
        problems.append((f"The MX lookup for {domain} failed.", FIX_DNS_SERVER.format(name=domain, server="")))
    elif not exchanges or null_mx:
        lines.append("No MX record (null MX: the domain declares it receives no mail)." if null_mx
                     else "No MX record.")
        problems.append((f"{domain} has no MX record: receivers may reject mail from a domain that cannot "
                         "receive mail.",
                         f"Publish MX records for {domain} (the mail provider's admin console lists them), or send "
                         "from an address of a domain that receives mail."))

    provider = next((mx_provider(e) for _, e, _ in exchanges if e), "") if not null_mx else ""
    facts["provider"] = provider
    if exchanges and not null_mx:
        lines.append(f"Mail for {domain} is received by "
                     f"{PROVIDER_NAMES.get(provider, 'another provider or a mail gateway')}.")

    spf_records = [_txt(rdata) for rdata, _ in txt.records if _txt(rdata).lower().startswith("v=spf1")]
    spf_ttl = next((ttl for rdata, ttl in txt.records if _txt(rdata).lower().startswith("v=spf1")), None)
    facts["spf"] = spf_records[0] if spf_records else ""
    relay = relay_provider(config)
    if txt.error is not None:
        lines.append(f"TXT (SPF) query failed: {_error_text(txt.error)}")
        problems.append((f"The SPF (TXT) lookup for {domain} failed.", FIX_DNS_SERVER.format(name=domain, server="")))
    elif not spf_records:
        lines.append("No SPF record (TXT v=spf1).")
        include = SPF_INCLUDES[relay][0] if relay else "include:<your mail provider's SPF domain>"
        problems.append((f"{domain} has no SPF record.",
                         f"Publish one TXT record for {domain} such as \"v=spf1 {include} -all\" so receivers can "
                         "verify that the relay may send for the domain."))
    else:
        lines += [f"SPF \"{record}\" (TTL {spf_ttl} s)" for record in spf_records]
        if len(spf_records) > 1:
            problems.append((f"{domain} has {len(spf_records)} SPF records (only one is allowed: receivers treat "
                             "this as an SPF error).", "Merge them into one v=spf1 TXT record."))
        spf_terms = spf_records[0].lower().split()
        if relay and not any(term in spf_terms for term in SPF_INCLUDES[relay]):
            include = SPF_INCLUDES[relay][0]
            problems.append((f"{domain}'s SPF does not include {PROVIDER_NAMES[relay]} ({include}).",
                             f"Add {include} to the SPF record of {domain} (before the final -all / ~all). If it is "
                             "already reached through another include:, an SPF checker will confirm it."))

    if relay and provider and relay != provider and config.profile is not ProfileId.CUSTOM:
        include = SPF_INCLUDES[relay][0]
        problems.insert(0, (
            f"The domain's mail is hosted by {PROVIDER_NAMES[provider]} but the relay is {PROVIDER_NAMES[relay]}: "
            f"messages from this domain sent via {PROVIDER_NAMES[relay]} may fail SPF/DMARC.",
            f"Either relay through the domain's own provider ({RELAY_HOSTS[provider]}) with a mailbox of that "
            f"domain, or authorise {PROVIDER_NAMES[relay]} for it: add {include} to the SPF record, set up DKIM "
            f"for {domain} there, and make sure the sender is a mailbox of the relay's account/tenant.",
        ))

    if problems:
        return Finding(
            Status.WARN, " ".join(summary for summary, _ in problems), details="\n".join(lines),
            remediation=" ".join(dict.fromkeys(fix for _, fix in problems)),
            guide_section=GuideSection.NETWORK, facts=facts,
        )
    hosted = PROVIDER_NAMES.get(provider, "another provider or a mail gateway")
    spf_note = " and its SPF allows the relay" if relay else ", SPF present"
    return Finding(Status.PASS, f"{domain}'s mail is hosted by {hosted}{spf_note}.", details="\n".join(lines),
                   guide_section=GuideSection.NETWORK, facts=facts)


