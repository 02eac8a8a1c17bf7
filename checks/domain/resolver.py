"""The run's resolver for checkdmarc: every query bounded by the step timeout and the run deadline, no shared cache."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import dns.exception

from checks.dns.failures import resolver_for
from checks.domain.facts import DmarcFacts, SpfFacts
from checks.knowledge.guide import GuideSection
from checks.model import Finding, Status
from checks.run_state import CheckContext


def _without_shared_cache() -> None:
    """checkdmarc keeps one process-wide answer cache keyed by name only; a run must see its own resolver's DNS
    (--nameserver, the lab, a record fixed a minute ago), so its answers are never shared between runs."""
    # lazy: checkdmarc loads only when the sender-domain checks run
    import checkdmarc.utils
    from expiringdict import ExpiringDict

    if checkdmarc.utils.DNS_CACHE.max_age != 0:
        checkdmarc.utils.DNS_CACHE = ExpiringDict(max_len=1, max_age_seconds=0)  # every entry is stale at once


class BoundedResolver:
    """Passes each query to the run's resolver with a lifetime capped by the step timeout and the run deadline.

    It remembers the queries that timed out: checkdmarc reports some timeouts as 'no record'.
    """

    def __init__(self, resolver: Any, *, step_timeout: Callable[[], float], remaining: Callable[[], float]) -> None:
        self._resolver = resolver
        self._step_timeout = step_timeout
        self._remaining = remaining
        self._lock = threading.Lock()
        self.timeouts: list[str] = []

    @property
    def lifetime(self) -> float:
        return self._step_timeout()

    def resolve(self, qname: Any, rdtype: Any = "A", *args: Any, lifetime: float | None = None, **kwargs: Any) -> Any:
        budget = min(lifetime or self._step_timeout(), self._remaining())
        try:
            if budget <= 0:
                raise dns.exception.Timeout(timeout=0.0)
            return self._resolver.resolve(qname, rdtype, *args, lifetime=budget, **kwargs)
        except dns.exception.Timeout:
            with self._lock:
                self.timeouts.append(f"{str(qname).rstrip('.')} {rdtype}")
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._resolver, name)


def bounded_resolver(ctx: CheckContext) -> tuple[BoundedResolver | None, str]:
    """The run's resolver (injected, --nameserver or the system's) wrapped for checkdmarc, and its label."""
    resolver, label = resolver_for(ctx)
    if resolver is None:
        return None, label
    _without_shared_cache()
    return BoundedResolver(resolver, step_timeout=ctx.step_timeout, remaining=ctx.deadline.remaining), label


def no_resolver(what: str) -> Finding:
    """The skip when no resolver is configured (no /etc/resolv.conf and no --nameserver)."""
    return Finding(Status.SKIP, f"Not run: no DNS resolver to look up {what}.",
                   remediation="Give a DNS server with --nameserver IP[:PORT].", guide_section=GuideSection.NETWORK)


def dns_timeout(what: str, label: str, timeouts: list[str], facts: SpfFacts | DmarcFacts) -> Finding:
    """The warning when DNS did not answer in time (the domain checks never fail)."""
    return Finding(Status.WARN, f"{what} could not be checked: DNS did not answer in time.",
                   details=f"Resolver: {label}. Timed out: {', '.join(timeouts[:3])}.",
                   remediation="Check the DNS server (--nameserver) or raise the timeout, then run again.",
                   guide_section=GuideSection.NETWORK, facts=replace(facts, timeouts=tuple(timeouts)))
