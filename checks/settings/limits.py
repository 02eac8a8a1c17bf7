"""One place for the engine's fixed timeouts and warning horizons (the per-run ones are settings: timeout, deadline)."""

from __future__ import annotations

# Warning horizons: how long before an end date a check (or the run history) starts to warn.
SECRET_WARNING_DAYS = 30  # the setup guide: renew the client secret a month before it expires
CERTIFICATE_WARNING_DAYS = 30  # the server certificate: the same month, so both warnings come together
BASIC_AUTH_WARNING_DAYS = 30  # Microsoft's Basic auth switch-off for SMTP AUTH
REFRESH_TOKEN_WARNING_DAYS = 30  # a refresh token left unused
REFRESH_TOKEN_INACTIVE_DAYS = 90  # Entra ID's default lifetime of an unused refresh token (docs/providers.md)

# Network waits below the per-step timeout.
DNS_TRIES_PER_STEP = 3  # a DNS wait is split into tries: a lost UDP packet is asked again, not waited out
SILENT_PROBE_SECONDS = 0.5  # after a silent greeting: one poke to recognise a web server on the SMTP port
ALTERNATIVE_PROBE_SECONDS = 3.0  # when the port is unreachable: is the provider's other submission port open?
