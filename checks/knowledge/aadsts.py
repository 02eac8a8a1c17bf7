"""Entra ID (AADSTS) errors from the token and authorize endpoints -> cause and fix in the guide's words."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from checks.knowledge.aadsts_codes import aadsts_code, codes_in, decoded
from checks.knowledge.catalog import explain_aadsts
from checks.knowledge.facts import AadstsFacts
from checks.knowledge.guide import GuideSection
from checks.model import Finding, Status

__all__ = ["aadsts_code", "codes_in", "decoded", "explain", "server_words"]

_MARKUP = re.compile(r"<[^>]{0,200}>")  # the authorize endpoint answers errors as an HTML page
_NOISE = re.compile(r"\s*(Trace ID|Correlation ID|Timestamp):.*$", re.S)


def server_words(error: Mapping[str, Any] | str) -> str:
    """The server's message without markup or trace/correlation ids (first lines only)."""
    text = str(error.get("error_description") or error.get("error") or "") if isinstance(error, Mapping) else error
    return _NOISE.sub("", _MARKUP.sub("", text)).strip()[:600]


def explain(error: Mapping[str, Any] | str, *, doing: str, status: Status = Status.FAIL) -> Finding:
    """A Finding for an Entra ID error returned while `doing`; cause and fix from the knowledge catalog."""
    code = aadsts_code(error)
    words = server_words(error)
    label = f"AADSTS{code}" if code is not None else (error.get("error", "error") if isinstance(error, Mapping)
                                                       else "error")
    known = explain_aadsts(f"AADSTS{code}") if code is not None else None
    if known is None or not known.known:
        return Finding(status, f"Entra ID refused {doing} ({label}).", details=words,
                       remediation="Look the code up in Entra ID > Sign-in logs (search the correlation id).",
                       guide_section=GuideSection.M365_APP_REGISTRATION, reply=words,
                       facts=AadstsFacts(code))
    return Finding(status, f"{known.cause} ({label}, while {doing})", details=words, remediation=known.fix,
                   guide_section=known.guide_section, reply=words, facts=AadstsFacts(code),
                   commands=known.commands)
