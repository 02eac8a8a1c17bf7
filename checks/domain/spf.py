"""domain.spf: the sender domain's SPF as checkdmarc evaluates it (includes, redirect=, the 10-lookup limit)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from checks.domain.facts import SpfFacts
from checks.domain.resolver import BoundedResolver, bounded_resolver, dns_timeout, no_resolver
from checks.knowledge.guide import GuideSection
from checks.model import Finding, Status
from checks.run_state import CheckContext
from checks.settings.profiles import relay_provider
from checks.settings.providers import PROVIDERS

LOOKUP_LIMIT = 10  # RFC 7208 section 4.6.4
SECTION = GuideSection.NETWORK


def evaluate(domain: str, resolver: BoundedResolver) -> dict[str, Any]:
    """checkdmarc's SPF result: record, valid, dns_lookups, parsed (the include tree), warnings, error."""
    # lazy: checkdmarc loads only when the sender-domain checks run
    from checkdmarc.spf import check_spf

    return check_spf(domain, resolver=resolver, timeout=resolver.lifetime, retries=0)


def followed(parsed: dict[str, Any] | None, path: tuple[tuple[str, str], ...] = ()) -> Iterator[
        tuple[tuple[str, str], ...]]:
    """Every include:/redirect= that was followed, as the chain of (term, domain) that leads to it."""
    if not isinstance(parsed, dict):
        return
    for mechanism in parsed.get("mechanisms") or []:
        if mechanism.get("mechanism") == "include":
            chain = (*path, ("include:", str(mechanism.get("value", "")).lower()))
            yield chain
            yield from followed(mechanism.get("parsed"), chain)
    redirect = parsed.get("redirect")
    if isinstance(redirect, dict):
        chain = (*path, ("redirect=", str(redirect.get("domain", "")).lower()))
        yield chain
        yield from followed(redirect.get("parsed"), chain)


def _text(chain: tuple[tuple[str, str], ...]) -> str:
    return " -> ".join(term + domain for term, domain in chain)


def check_spf(ctx: CheckContext) -> Finding:
    """SPF exists, needs at most 10 DNS lookups, and authorises the relay's provider through any chain."""
    domain = ctx.config.sender_domain or ""
    resolver, label = bounded_resolver(ctx)
    if resolver is None:
        return no_resolver(f"{domain}'s SPF")
    result = evaluate(domain, resolver)
    provider = relay_provider(ctx.config)
    facts = SpfFacts(label, domain, result.get("record"), bool(result.get("valid")), result.get("dns_lookups"),
                     result.get("error"))
    if resolver.timeouts:
        return dns_timeout(f"{domain}'s SPF", label, resolver.timeouts, facts)
    include = PROVIDERS[provider].service(ctx.config.cloud).spf_include if provider \
        else "include:<your mail provider's SPF domain>"
    record = result.get("record")
    if not record:
        return Finding(Status.WARN, f"{domain} has no SPF record: receivers cannot tell that the relay may send for "
                       "it, and often file its mail as spam.", details=f"Resolver: {label}. {result.get('error', '')}",
                       remediation=f"Publish one TXT record for {domain}: \"v=spf1 {include} -all\".",
                       guide_section=SECTION, facts=facts)
    chains = list(followed(result.get("parsed")))
    lookups = int(result.get("dns_lookups") or 0)
    lines = [f"Resolver: {label}.", f"SPF \"{record}\"", f"DNS lookups: {lookups} of {LOOKUP_LIMIT} allowed."]
    lines += [_text(chain) for chain in chains] + [f"checkdmarc: {w}" for w in result.get("warnings") or []]
    problems: list[tuple[str, str]] = []
    if lookups > LOOKUP_LIMIT:
        problems.append((f"{domain}'s SPF needs {lookups} DNS lookups; receivers stop at {LOOKUP_LIMIT} and SPF then "
                         "fails (permerror) for every message.",
                         "Remove includes no longer used, or replace some with their ip4:/ip6: ranges, until at most "
                         f"{LOOKUP_LIMIT} lookups remain."))
    elif result.get("error"):
        problems.append((f"{domain}'s SPF does not evaluate: {result['error']}",
                         "Correct the record, or the include:/redirect= target it names."))
    if provider is not None:
        via = next((c for c in chains if c[-1][1] in PROVIDERS[provider].spf_domains), None)
        facts = replace(facts, authorised=via is not None, authorised_via=_text(via) if via else "")
        if via is None and lookups <= LOOKUP_LIMIT:
            problems.append((f"{domain}'s SPF does not authorise {PROVIDERS[provider].name} ({include}).",
                             f"Add {include} to the SPF record of {domain}, before the final -all / ~all."))
    if problems:
        return Finding(Status.WARN, " ".join(p for p, _ in problems), details="\n".join(lines),
                       remediation=" ".join(dict.fromkeys(f for _, f in problems)), guide_section=SECTION,
                       facts=facts)
    how = f"authorises {PROVIDERS[provider].name} via {facts.authorised_via}" if provider else "evaluates"
    return Finding(Status.PASS, f"{domain}'s SPF {how}; {lookups} of {LOOKUP_LIMIT} DNS lookups.",
                   details="\n".join(lines), facts=facts)
