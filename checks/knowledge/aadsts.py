"""Entra ID (AADSTS) errors from the token and authorize endpoints -> cause and fix in the guide's words."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import unquote_plus

from checks.knowledge.catalog import explain_aadsts
from checks.knowledge.guide import GuideSection
from checks.model import Finding, Status

_CODE = re.compile(r"AADSTS(\d{4,8})", re.IGNORECASE)  # the one AADSTS pattern; MSAL and browsers vary the case
_LIST = re.compile(r"error_?codes['\"]?\s*[:=]\s*\[\s*(?P<codes>\d[\d,\s]*)\]", re.IGNORECASE)
_MSAL_PREFIX = re.compile(r"(?:errorNo['\"]?\s*:\s*|\b(?:invalid_\w+|interaction_required): |^|[\s\"'])(?P<code>\d{5,8}) - \[")
_ENCODED = re.compile(r"%[0-9A-Fa-f]{2}")
_MARKUP = re.compile(r"<[^>]{0,200}>")  # the authorize endpoint answers errors as an HTML page
_NOISE = re.compile(r"\s*(Trace ID|Correlation ID|Timestamp):.*$", re.S)

def decoded(text: str) -> str:
    """The text with URL encoding undone when it looks like a redirect (error_description=AADSTS65004%3a+...)."""
    return unquote_plus(text) if _ENCODED.search(text) or "error_description=" in text else text


def codes_in(text: str) -> Iterator[int]:
    """Every AADSTS number in a text, in order: AADSTSnnn in any case, error_codes lists, MSAL's 'nnn - [' form."""
    text = decoded(text)
    for found in _CODE.finditer(text):
        yield int(found.group(1))
    for found in _LIST.finditer(text):
        yield from (int(c) for c in re.findall(r"\d+", found["codes"]))
    for found in _MSAL_PREFIX.finditer(text):
        yield int(found["code"])


def aadsts_code(error: Mapping[str, Any] | str) -> int | None:
    """The AADSTS number of an MSAL error dict or an error text, or None."""
    if isinstance(error, Mapping):
        codes = error.get("error_codes") or []
        if codes and isinstance(codes[0], int):
            return codes[0]
        error = str(error.get("error_description") or "")
    return next(codes_in(str(error)), None)


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
                       facts={"aadsts": code})
    return Finding(status, f"{known.cause} ({label}, while {doing})", details=words, remediation=known.fix,
                   guide_section=known.guide_section, reply=words, facts={"aadsts": code},
                   commands=known.commands)
