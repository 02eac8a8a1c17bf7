"""What the admin enters for an audit besides the sign-in."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from checks.settings.config import RelayConfig
from checks.settings.secret import Secret


@dataclass(frozen=True)
class AuditInput:
    """What the admin enters besides the sign-in: the setup's IDs, secret, sender and the app's callback."""

    client_id: str
    sender: str
    app_callback: str = ""
    client_secret: Secret | None = None
    secret_expires: dt.date | None = None
    relay_profile: str = "m365-oauth2"


def audit_input(config: RelayConfig, app_callback: str = "") -> AuditInput:
    """The audit's view of the settings: IDs, secret, sender, the app's callback."""
    return AuditInput(client_id=(config.client_id or "").strip(), sender=(config.sender or config.username or ""),
                      app_callback=app_callback.strip(), client_secret=config.client_secret,
                      secret_expires=config.secret_expires, relay_profile=config.profile.value)
