"""What the sender-domain checks found, as typed facts (domain.dmarc reads SPF's and DKIM's)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from checks.model import Facts


@dataclass(frozen=True)
class SpfFacts(Facts):
    """domain.spf: the record as checkdmarc evaluated it, and whether it authorises the relay's provider."""

    resolver: str
    domain: str
    record: str | None = None
    valid: bool = False
    dns_lookups: int | None = None
    error: str | None = None
    authorised: bool | None = None  # None: no known relay provider to look for
    authorised_via: str = ""
    timeouts: tuple[str, ...] = ()


@dataclass(frozen=True)
class DkimFacts(Facts):
    """domain.dkim: each provider selector's state ('key', 'none', 'cname-only', 'revoked', 'timeout', 'error')."""

    resolver: str
    domain: str
    selectors: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DmarcFacts(Facts):
    """domain.dmarc: the record, its policy and alignment tags, and what relayed mail aligns through."""

    resolver: str
    domain: str
    record: str | None = None
    location: str | None = None
    valid: bool = False
    p: str | None = None
    aspf: str | None = None
    adkim: str | None = None
    error: Any = None
    aligned_by: tuple[str, ...] = ()
    timeouts: tuple[str, ...] = ()
