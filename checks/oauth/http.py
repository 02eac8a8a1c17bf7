"""HTTPS for Entra ID and Graph: our own requests.Session (no environment proxies/CA); every call bounded in total
time (the step timeout, capped by the run deadline) and in size (MAX_RESPONSE_BYTES).

`requests` is imported when the first session is built, not with this module: a run without OAuth2 never pays
for it. Its exceptions are OSErrors, and so are ours (ResponseTooLarge, TimeoutError): callers catch OSError.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from checks.run_state import CheckContext
from checks.settings.config import RelayConfig
from checks.workers import call_with_deadline

if TYPE_CHECKING:
    import requests

USER_AGENT = "relay-console (SMTP relay troubleshooting)"


def build_session(ca_file: Path | str | None = None) -> requests.Session:
    """A Session that ignores REQUESTS_CA_BUNDLE/proxies and trusts the system store (+ `ca_file`)."""
    import requests  # ~0.1 s: loaded by the first OAuth2 request, not by every run

    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=str(ca_file))
    pool = requests.adapters.DEFAULT_POOLSIZE
    adapter = requests.adapters.HTTPAdapter(pool_connections=pool, pool_maxsize=pool, max_retries=0)
    adapter.init_poolmanager(pool, pool, ssl_context=context)  # verify with the system store plus the run's CA file
    session = requests.Session()
    session.trust_env = False
    session.headers["User-Agent"] = USER_AGENT
    session.mount("https://", adapter)
    return session


MAX_RESPONSE_BYTES = 2 * 1024 * 1024  # Entra ID and Graph answers are a few kB; more is not theirs
READ_CHUNK = 16 * 1024


class ResponseTooLarge(OSError):
    """The answer was larger than MAX_RESPONSE_BYTES (only the first part was read)."""


def _abort(response: requests.Response | None) -> None:
    """Wake a read blocked on `response`'s socket (its worker then ends instead of lingering)."""
    sock = getattr(getattr(getattr(response, "raw", None), "_connection", None), "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            sock.shutdown(socket.SHUT_RDWR)


def bounded_request(session: requests.Session, method: str, url: str, *, seconds: float,
                    **kwargs: Any) -> requests.Response:
    """One request whose connection, headers and whole body take at most `seconds` and MAX_RESPONSE_BYTES.

    The request runs on a daemon thread: a server that drips its answer cannot keep the caller (or the process,
    at exit) waiting past `seconds`.
    """
    ends_at = time.monotonic() + seconds
    started: dict[str, Any] = {}

    def work() -> requests.Response:
        response = session.request(method, url, stream=True, timeout=seconds, **kwargs)
        started["response"] = response
        body = bytearray()
        try:
            for chunk in response.iter_content(READ_CHUNK):
                body += chunk
                if len(body) > MAX_RESPONSE_BYTES:
                    raise ResponseTooLarge(f"the answer is larger than {MAX_RESPONSE_BYTES // 1024} kB")
                if time.monotonic() > ends_at:
                    raise TimeoutError(f"no complete answer within {seconds:g} s")
        finally:
            response.close()
        response._content = bytes(body)
        return response

    try:
        return call_with_deadline(work, seconds, name="https")
    except TimeoutError:
        _abort(started.get("response"))  # wake the worker's blocked read: it ends now instead of lingering
        raise


class TimedHttp:
    """What MSAL and our Graph calls use: get/post on a Session with a default timeout on every request."""

    def __init__(self, session: requests.Session, timeout: Callable[[], float], *, owns_session: bool) -> None:
        self.session = session
        self._timeout = timeout
        self._owns = owns_session

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        seconds = kwargs.pop("timeout", None) or self._timeout()
        kwargs.setdefault("allow_redirects", False)
        return bounded_request(self.session, method, url, seconds=float(seconds), **kwargs)

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", url, **kwargs)

    def close(self) -> None:
        if self._owns:
            self.session.close()


def http_for_config(
    config: RelayConfig, *, session: requests.Session | None = None, timeout: float | None = None
) -> TimedHttp:
    """A TimedHttp outside a run (the sign-in flows): the given session, or a new one from `config`."""
    seconds = timeout if timeout is not None else config.timeout
    if session is not None:
        return TimedHttp(session, lambda: seconds, owns_session=False)
    return TimedHttp(build_session(config.ca_file), lambda: seconds, owns_session=True)


def http_for(ctx: CheckContext) -> TimedHttp:
    """The run's TimedHttp (created once, closed with the run); uses ctx.deps.http_session when injected."""

    def make() -> TimedHttp:
        injected = ctx.deps.http_session
        if injected is not None:
            return TimedHttp(injected, ctx.step_timeout, owns_session=False)
        return TimedHttp(build_session(ctx.config.ca_file), ctx.step_timeout, owns_session=True)

    return ctx.state.http(make)


def network_problem(exc: OSError, url: str) -> tuple[str, str]:
    """(summary, remediation) for a failed HTTPS request, without echoing anything secret."""
    import requests  # already loaded: the failed request used it

    host = urlsplit(url).hostname or url
    if isinstance(exc, (requests.exceptions.SSLError, ssl.SSLError)):
        return (f"The HTTPS certificate of {host} is not trusted.",
                "A TLS-inspecting proxy or a private endpoint is replacing the certificate: give its CA with "
                "--ca-file (ca_file), or let this host reach Microsoft without inspection.")
    if isinstance(exc, ResponseTooLarge):
        return (f"{host} answered with more than {MAX_RESPONSE_BYTES // (1024 * 1024)} MB: not an Entra ID or Graph "
                "answer.", "Something in between (a proxy or a captive portal) answers instead of Microsoft: check "
                "the login and Graph URLs and the network path.")
    if isinstance(exc, (requests.exceptions.Timeout, TimeoutError)):
        return (f"{host} did not answer in time.",
                "Allow outbound HTTPS (443) to the Microsoft login and Graph hosts, or raise the timeout.")
    return (f"Could not connect to {host} over HTTPS.",
            "Check DNS, the firewall (outbound 443) and any proxy between this machine and Microsoft.")
