"""The one AADSTS parser: every Entra ID error code in a text, whatever the case or the wrapping.

Bare (AADSTS7000215, aadsts7000215), JSON and MSAL error dicts (error_codes: [7000215], "7000215 - [..."),
URL-encoded redirects (error_description=AADSTS65004%3a+...). Pure text handling: the catalog, the reader and
the OAuth checks all parse codes here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import unquote_plus

_CODE = re.compile(r"AADSTS(\d{4,8})", re.IGNORECASE)  # the one AADSTS pattern; MSAL and browsers vary the case
_LIST = re.compile(r"error_?codes['\"]?\s*[:=]\s*\[\s*(?P<codes>\d[\d,\s]*)\]", re.IGNORECASE)
_MSAL_PREFIX = re.compile(r"(?:errorNo['\"]?\s*:\s*|\b(?:invalid_\w+|interaction_required): |^|[\s\"'])(?P<code>\d{5,8}) - \[")
_ENCODED = re.compile(r"%[0-9A-Fa-f]{2}")

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
