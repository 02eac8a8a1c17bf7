"""domain.dkim: the relay provider's DKIM selectors are published for the sender domain, with a key behind them."""

from __future__ import annotations

from checks.dns.lookup import Lookup, name_text, query_all
from checks.domain.facts import DkimFacts
from checks.domain.resolver import bounded_resolver, no_resolver
from checks.knowledge.guide import GuideSection
from checks.model import Finding, Status
from checks.run_state import CheckContext
from checks.settings.profiles import relay_provider
from checks.settings.providers import PROVIDERS

SECTION = GuideSection.NETWORK


def _txt(lookup: Lookup) -> str:
    return " ".join(b"".join(rdata.strings).decode("utf-8", "replace") for rdata, _ in lookup.records)


def _key_state(text: str) -> str:
    """'key', 'revoked' (p= empty) or 'none' for a selector's TXT text."""
    tags = {name.strip().lower(): value.strip() for name, _, value in (part.partition("=") for part in text.split(";"))}
    if "p" not in tags:
        return "none"
    return "key" if tags["p"] else "revoked"


def check_dkim(ctx: CheckContext) -> Finding:
    """Each of the provider's selectors (selector1/selector2 for Microsoft 365, google for Google) has a DKIM key."""
    domain = ctx.config.sender_domain or ""
    provider = PROVIDERS[relay_provider(ctx.config)]
    resolver, label = bounded_resolver(ctx)
    if resolver is None:
        return no_resolver(f"{domain}'s DKIM selectors")
    names = [f"{selector}._domainkey.{domain}" for selector in provider.dkim_selectors]
    answers = query_all(resolver, [(name, "TXT") for name in names], lifetime=ctx.step_timeout())
    lines = [f"Resolver: {label}."]
    states: dict[str, str] = {}
    for name, answer in zip(names, answers, strict=True):
        chain = " -> ".join(name_text(target) for _, target, _ in answer.cnames)
        if answer.timed_out:
            states[name] = "timeout"
        elif answer.error is not None and not answer.nxdomain:
            states[name] = "error"
        else:
            states[name] = _key_state(_txt(answer)) if answer.records else ("cname-only" if chain else "none")
        lines.append(f"{name}: {states[name]}" + (f" (CNAME -> {chain})" if chain else ""))
    facts = DkimFacts(label, domain, states)
    published = [n for n, s in states.items() if s == "key"]
    if any(s in ("timeout", "error") for s in states.values()):
        return Finding(Status.WARN, f"DKIM selectors of {domain} could not be looked up.", details="\n".join(lines),
                       remediation="Check the DNS server (--nameserver) or raise the timeout, then run again.",
                       guide_section=SECTION, facts=facts)
    if len(published) == len(names):
        return Finding(Status.PASS, f"{provider.name}'s DKIM selector(s) for {domain} are published with a key "
                       f"({', '.join(provider.dkim_selectors)}).", details="\n".join(lines), facts=facts)
    missing = [n for n in names if n not in published]
    waiting = [n for n in missing if states[n] in ("cname-only", "revoked")]
    summary = (f"DKIM for {domain} is not signed by {provider.name}: {', '.join(missing)} "
               + ("points to no key yet (signing not enabled)." if waiting else "is not published.")
               + " Mail then carries no DKIM signature of the domain, so DMARC rests on SPF alone.")
    return Finding(Status.WARN, summary, details="\n".join(lines), remediation=provider.dkim_setup,
                   guide_section=SECTION, facts=facts)
