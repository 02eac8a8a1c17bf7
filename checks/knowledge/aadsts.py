"""Entra ID (AADSTS) errors from the token and authorize endpoints -> cause and fix in the guide's words."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from checks.knowledge.guide import GuideSection
from checks.model import Finding, Status

_CODE = re.compile(r"AADSTS(\d{4,7})")
_MARKUP = re.compile(r"<[^>]{0,200}>")  # the authorize endpoint answers errors as an HTML page
_NOISE = re.compile(r"\s*(Trace ID|Correlation ID|Timestamp):.*$", re.S)

def aadsts_code(error: Mapping[str, Any] | str) -> int | None:
    """The AADSTS number of an MSAL error dict or an error text, or None."""
    if isinstance(error, Mapping):
        codes = error.get("error_codes") or []
        if codes and isinstance(codes[0], int):
            return codes[0]
        error = str(error.get("error_description") or "")
    found = _CODE.search(error)
    return int(found.group(1)) if found else None


def server_words(error: Mapping[str, Any] | str) -> str:
    """The server's message without markup or trace/correlation ids (first lines only)."""
    text = str(error.get("error_description") or error.get("error") or "") if isinstance(error, Mapping) else error
    return _NOISE.sub("", _MARKUP.sub("", text)).strip()[:600]


def explain(error: Mapping[str, Any] | str, *, doing: str, status: Status = Status.FAIL) -> Finding:
    """A Finding for an Entra ID error returned while `doing`; cause and fix from the knowledge catalog."""
    from checks.knowledge.catalog import explain_aadsts

    code = aadsts_code(error)
    words = server_words(error)
    label = f"AADSTS{code}" if code is not None else (error.get("error", "error") if isinstance(error, Mapping)
                                                       else "error")
    known = explain_aadsts(f"AADSTS{code}") if code is not None else None
    if known is None or not known.known:
        return Finding(status, f"Entra ID refused {doing} ({label}).", details=words,
                       remediation="Look the code up in Entra ID > Sign-in logs (search the correlation id).",
                       guide_section=GuideSection.M365_APP_REGISTRATION, reply=words,
                       facts={"aadsts": code})
    return Finding(status, f"{known.cause} ({label}, while {doing})", details=words, remediation=known.fix,
                   guide_section=known.guide_section, reply=words, facts={"aadsts": code})
