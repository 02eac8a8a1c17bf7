"""What a finding built from the catalog carries: the reply code or AADSTS code and the catalog entry it matched."""

from __future__ import annotations

from dataclasses import dataclass

from checks.model import Facts


@dataclass(frozen=True)
class ReplyFacts(Facts):
    """A finding for an SMTP reply: its code and the catalog entry that explained it (the history keys causes by it)."""

    reply_code: int
    knowledge_entry: str


@dataclass(frozen=True)
class AadstsFacts(Facts):
    """A finding for an Entra ID error: its AADSTS number, when the answer named one."""

    aadsts: int | None
