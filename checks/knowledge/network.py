"""Network, TLS and DNS failures as knowledge the live checks share with the decoder.

The live checks (port, tls, dns.host, auth.mechanisms) keep their own situation-specific summary and fix; the copy-ready
commands come from the same catalog entry the decoder uses for the pasted error (ETIMEDOUT, PKIX path
building failed...), so the checklist and the decoder hand out the same commands for the same failure.
"""

from __future__ import annotations

from checks.model import Command

# live failure (check id . kind) -> the catalog's [[net]] entry that explains the same failure in a paste
LIVE_FAILURES: dict[str, str] = {
    "port.timeout": "net.timeout",
    "port.refused": "net.connection_refused",
    "dns.host.not_found": "net.dns_not_found",
    "tls.cert_untrusted": "net.cert_untrusted",
    "tls.cert_name": "net.cert_name_mismatch",
    "tls.old_protocol": "net.tls_protocol_mismatch",
    "tls.wrong_mode": "net.tls_wrong_version",
    "auth.mechanisms.none_offered": "net.auth_before_starttls",
}


def live_commands(failure: str, host: str, port: int | str) -> tuple[Command, ...]:
    """The copy-ready commands for a live check's failure, with this run's host and port filled in."""
    entry_id = LIVE_FAILURES.get(failure)
    if entry_id is None:
        return ()
    from checks.knowledge.catalog import commands_for  # lazy: a check that connects never loads the catalog

    return commands_for(entry_id, {"host": host, "port": str(port)})
