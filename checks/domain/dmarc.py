"""domain.dmarc: the sender domain's DMARC policy (via checkdmarc) and whether relayed mail can align with it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from checks.domain.facts import DkimFacts, DmarcFacts, SpfFacts
from checks.domain.resolver import BoundedResolver, bounded_resolver, dns_timeout, no_resolver
from checks.knowledge.guide import GuideSection
from checks.model import CheckId, Finding, Status
from checks.run_state import CheckContext

SECTION = GuideSection.NETWORK
ALIGNMENT = {"r": "relaxed", "s": "strict"}


def evaluate(domain: str, resolver: BoundedResolver) -> dict[str, Any]:
    """checkdmarc's DMARC result for `domain` (record, location, valid, tags, warnings, error)."""
    # lazy: checkdmarc loads only when the sender-domain checks run
    from checkdmarc.dmarc import check_dmarc

    return check_dmarc(domain, resolver=resolver, timeout=resolver.lifetime, retries=0)


def _tag(result: dict[str, Any], name: str) -> str:
    tag = (result.get("tags") or {}).get(name) or {}
    return str(tag.get("value", "")) if isinstance(tag, dict) else ""


def check_dmarc(ctx: CheckContext) -> Finding:
    """DMARC exists with an enforcing policy; SPF (domain.spf) or DKIM (domain.dkim) gives relayed mail alignment."""
    domain = ctx.config.sender_domain or ""
    resolver, label = bounded_resolver(ctx)
    if resolver is None:
        return no_resolver(f"{domain}'s DMARC record")
    result = evaluate(domain, resolver)
    policy = _tag(result, "p")
    facts = DmarcFacts(label, domain, result.get("record"), result.get("location"), bool(result.get("valid")),
                       policy or None, _tag(result, "aspf") or None, _tag(result, "adkim") or None,
                       result.get("error"))
    if resolver.timeouts:
        return dns_timeout(f"{domain}'s DMARC", label, resolver.timeouts, facts)
    publish = (f"Publish a TXT record at _dmarc.{domain}: \"v=DMARC1; p=none; rua=mailto:<a mailbox for reports>\", "
               "read the reports for a few weeks, then raise p to quarantine or reject.")
    if not result.get("record"):
        return Finding(Status.WARN, f"{domain} has no DMARC record: large receivers (Gmail, Yahoo, Microsoft) treat "
                       "mail from domains without DMARC with suspicion.", details=str(result.get("error") or ""),
                       remediation=publish, guide_section=SECTION, facts=facts)
    spf, dkim_found = ctx.facts(CheckId.DOMAIN_SPF, SpfFacts), ctx.facts(CheckId.DOMAIN_DKIM, DkimFacts)
    spf_ok = spf.authorised if spf else None
    dkim = dkim_found.selectors if dkim_found else {}
    dkim_ok = bool(dkim) and all(state == "key" for state in dkim.values())
    aligned = [name for name, ok in (("SPF", spf_ok), ("DKIM", dkim_ok)) if ok]
    facts = replace(facts, aligned_by=tuple(aligned))
    lines = [f"Resolver: {label}.", f"DMARC \"{result['record']}\" at _dmarc.{result.get('location') or domain}",
             f"Policy p={policy}; SPF alignment {ALIGNMENT.get(facts.aspf or 'r', facts.aspf)}, DKIM alignment "
             f"{ALIGNMENT.get(facts.adkim or 'r', facts.adkim)}.",
             f"Relayed mail aligns through: {', '.join(aligned) or 'nothing found (see domain.spf and domain.dkim)'}."]
    lines += [f"checkdmarc: {w}" for w in result.get("warnings") or []]
    if result.get("error"):
        return Finding(Status.WARN, f"{domain}'s DMARC record is invalid: {result['error']}", details="\n".join(lines),
                       remediation="Correct the record (tags separated by ';', v=DMARC1 first, then p=).",
                       guide_section=SECTION, facts=facts)
    if spf_ok is False and not dkim_ok:
        return Finding(Status.WARN, f"{domain} publishes DMARC p={policy}, but mail sent through the relay aligns "
                       "through neither SPF nor DKIM: it fails DMARC" + (" and is rejected or quarantined."
                                                                         if policy in ("reject", "quarantine")
                                                                         else "."),
                       details="\n".join(lines), remediation="Authorise the provider in SPF (domain.spf) and publish "
                       "its DKIM selectors (domain.dkim).", guide_section=SECTION, facts=facts)
    if policy == "none":
        return Finding(Status.WARN, f"{domain}'s DMARC policy is p=none (monitoring only): spoofed mail in the "
                       "domain's name is still delivered.", details="\n".join(lines),
                       remediation="Once the reports show your own mail passing, raise p to quarantine, then reject.",
                       guide_section=SECTION, facts=facts)
    return Finding(Status.PASS, f"{domain} publishes DMARC p={policy}"
                   + (f"; relayed mail aligns through {' and '.join(aligned)}." if aligned else "."),
                   details="\n".join(lines), facts=facts)
