"""The one masker: every form of the run's secrets in outside text (echoed replies, errors) becomes ********.

Forms masked: the exact secret, reversed, as hex (either case), as base64 (standard and URL-safe) at each of
the three byte offsets a secret can sit at inside a larger payload (so the password inside an AUTH PLAIN
payload is caught wherever the payload starts), and - for secrets of 8 to 256 characters - any 8 characters
in a row of it (an echo split across lines or cut short).

`redact(text, secrets)` masks secrets of any length: use it on outside text before it is shown or stored.
`guard(text, secrets)` is the last line of defence on whole outputs that mix outside text with our own
templates: it masks only secrets of at least GUARD_MIN_LENGTH characters, so a short password ("relay") never
masks our own words ("relay-console.invalid").
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Iterable

from checks.settings.config import SECRET_FIELDS, RelayConfig
from checks.settings.secret import MASK, Secret

GUARD_MIN_LENGTH = 8
WINDOW = 8  # characters in a row of a secret that count as a leak
MAX_WINDOWED = 256  # longer secrets (tokens) are matched whole and in their encodings only
MIN_ENCODED = 4  # shorter base64/hex fragments would mask ordinary words


def secret_values(config: RelayConfig, extra: Iterable[str] = ()) -> tuple[str, ...]:
    """Every secret string of the run (the settings' secrets plus `extra`), whatever its length."""
    values = {getattr(config, name).reveal() for name in SECRET_FIELDS if isinstance(getattr(config, name), Secret)}
    values.update(str(v) for v in extra if v)
    return tuple(sorted(v for v in values if v))


def _base64_cores(data: bytes) -> set[str]:
    """The base64 characters that depend only on `data`, for each of the 3 offsets it may start at."""
    cores = set()
    for offset in range(3):
        padded = b"\0" * offset + data
        first, last = (8 * offset + 5) // 6, (8 * len(padded)) // 6
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            core = encode(padded).decode("ascii")[first:last]
            if len(core) >= MIN_ENCODED:
                cores.add(core)
    return cores


def forms(secret: str) -> set[str]:
    """The strings that reveal `secret` (see the module docstring)."""
    data = secret.encode("utf-8")
    found = {secret, secret[::-1], data.hex(), data.hex().upper()} | _base64_cores(data)
    if WINDOW < len(secret) <= MAX_WINDOWED:
        found |= {secret[i:i + WINDOW] for i in range(len(secret) - WINDOW + 1)}
    return {f for f in found if f}


@functools.lru_cache(maxsize=64)
def _pattern(secrets: tuple[str, ...]) -> re.Pattern[str] | None:
    every = set().union(*(forms(s) for s in secrets)) if secrets else set()
    if not every:
        return None
    alternatives = "|".join(re.escape(f) for f in sorted(every, key=len, reverse=True))
    return re.compile(f"(?=({alternatives}))")  # zero-width: every start position, overlaps included


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every form of every secret masked; overlapping or adjacent stretches become one MASK."""
    pattern = _pattern(tuple(sorted({s for s in secrets if s})))
    if pattern is None or not text:
        return text
    covered = bytearray(len(text))
    for match in pattern.finditer(text):
        covered[match.start():match.start() + len(match.group(1))] = b"\1" * len(match.group(1))
    if not any(covered):
        return text
    out, position = [], 0
    while position < len(text):
        end = position
        while end < len(text) and covered[end] == covered[position]:
            end += 1
        out.append(MASK if covered[position] else text[position:end])
        position = end
    return "".join(out)


def guard(text: str, secrets: Iterable[str]) -> str:
    """The last line of defence for mixed text: `redact` with the secrets long enough to be unambiguous."""
    return redact(text, [s for s in secrets if len(s) >= GUARD_MIN_LENGTH])
