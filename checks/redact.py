"""Last line of defence: strip any secret value of the run from text before it leaves the engine."""

from __future__ import annotations

import base64
from collections.abc import Iterable

from checks.settings.config import SECRET_FIELDS, RelayConfig
from checks.settings.secret import MASK, Secret


def secret_values(config: RelayConfig, extra: Iterable[str] = ()) -> tuple[str, ...]:
    """Every secret string of the run and its base64 form, longest first (so overlaps mask fully)."""
    values: set[str] = set()
    for name in SECRET_FIELDS:
        secret = getattr(config, name)
        if isinstance(secret, Secret) and len(secret.reveal()) >= 4:
            values.add(secret.reveal())
    values.update(v for v in extra if v and len(v) >= 4)
    encoded = {base64.b64encode(v.encode()).decode().rstrip("=") for v in values}
    return tuple(sorted(values | {e for e in encoded if len(e) >= 6}, key=len, reverse=True))


def redact(text: str, secrets: Iterable[str]) -> str:
    for value in secrets:
        if value in text:
            text = text.replace(value, MASK)
    return text
