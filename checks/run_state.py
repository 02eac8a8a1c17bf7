"""What a check receives: the settings, earlier results, the run's typed shared state, the deadline and dependencies."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from checks.model import CheckId, CheckResult
from checks.settings.config import RelayConfig
from checks.settings.secret import Secret
from checks.target_policy import TargetPolicy

if TYPE_CHECKING:  # annotations only: the objects are made by the checks that own them
    import socket
    import ssl

    from checks.oauth.http import TimedHttp
    from checks.smtp.session import BoundedSMTP

FactsT = TypeVar("FactsT")


@dataclass(frozen=True)
class Dependencies:
    """Injectable collaborators; None means 'build the real one from the settings'."""

    resolver: Any = None  # dns.resolver.Resolver
    ssl_context: Any = None  # ssl.SSLContext used for every TLS connection of the run
    http_session: Any = None  # requests.Session for Entra ID / Graph
    clock: Callable[[], float] = time.monotonic
    now: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    policy: TargetPolicy = field(default_factory=TargetPolicy.from_environment)


@dataclass(frozen=True)
class Deadline:
    """The run's end, on a monotonic clock; every network wait is capped by what remains."""

    at: float
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def after(cls, seconds: float, clock: Callable[[], float] = time.monotonic) -> Deadline:
        return cls(clock() + seconds, clock)

    def remaining(self) -> float:
        return max(0.0, self.at - self.clock())

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0


@dataclass(eq=False)
class RunState:
    """The live objects one run shares between its checks, each set by the check named; secrets registered.

    Assigning a Secret to any field registers its value for redaction, so no later output can show it.
    """

    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _secrets: set[str] = field(default_factory=set, init=False, repr=False)
    _ssl_context: ssl.SSLContext | None = field(default=None, init=False, repr=False)
    _http: TimedHttp | None = field(default=None, init=False, repr=False)
    _dns_answers: Any = field(default=None, init=False, repr=False)
    socket: socket.socket | None = None  # port: the connection, until the first SMTP step starts the conversation
    smtp: BoundedSMTP | None = None  # the first SMTP step: the one SMTP conversation every later step continues
    msal_app: Any = None  # the run's MSAL application (oauth.client, or the first OAuth2 check needing it)
    app_token: Secret | None = None  # oauth.client: the app-only Exchange token
    smtp_token: Secret | None = None  # oauth.token: the access token auth.credentials sends with XOAUTH2
    token_user: str = ""  # oauth.token: the address the SMTP token acts for
    refresh_token: Secret | None = None  # oauth.token: the newest refresh token of the run (Entra ID may rotate it)
    graph_token: Secret | None = None  # oauth.scopes or sender: a Graph token for the sender's mailbox lookup

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, Secret):
            self.add_secret(value.reveal())
        super().__setattr__(name, value)

    def add_secret(self, value: str) -> None:
        """Register a value first seen during the run (a token, an AUTH payload) so no output shows it."""
        with self._lock:
            self._secrets.add(value)

    def secrets(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._secrets)

    def _made(self, name: str, make: Callable[[], Any]) -> Any:
        """The run's object in field `name`, made by `make` on first use (checks running in parallel share it)."""
        with self._lock:
            if getattr(self, name) is None:
                super().__setattr__(name, make())
            return getattr(self, name)

    def ssl_context(self, make: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
        """The TLS client context of the run (one for every TLS connection)."""
        return self._made("_ssl_context", make)

    def dns_answers(self, make: Callable[[], Any]) -> Any:
        """The run's DNS answer cache (a dns.resolver.Cache): a question two checks ask goes out once."""
        return self._made("_dns_answers", make)

    def http(self, make: Callable[[], TimedHttp]) -> TimedHttp:
        """The HTTPS client for Entra ID and Graph."""
        return self._made("_http", make)

    def close(self) -> None:
        """Say goodbye to the SMTP server (or close the bare connection) and close the HTTPS client; never raises."""
        with self._lock:
            sock, smtp, http, self._http = self.socket, self.smtp, self._http, None
        super().__setattr__("socket", None)
        super().__setattr__("smtp", None)
        for closer in (getattr(sock, "close", None), getattr(smtp, "goodbye", None), getattr(http, "close", None)):
            if closer is not None:
                with contextlib.suppress(Exception):  # closing must never mask a verdict
                    closer()


class CheckContext:
    """Handed to each check by the runner; checks never call each other, they read results and state here."""

    def __init__(self, config: RelayConfig, *, deps: Dependencies, deadline: Deadline, run_id: str) -> None:
        self.config = config
        self.run_id = run_id
        self.deps = deps
        self.deadline = deadline
        self.state = RunState()
        self._results: dict[CheckId, CheckResult] = {}
        self._lock = threading.Lock()

    @property
    def results(self) -> Mapping[CheckId, CheckResult]:
        with self._lock:
            return dict(self._results)

    def result(self, check_id: CheckId) -> CheckResult | None:
        with self._lock:
            return self._results.get(check_id)

    def facts(self, check_id: CheckId, kind: type[FactsT]) -> FactsT | None:
        """The typed facts an earlier check recorded (e.g. HostAddresses of dns.host), or None."""
        found = self.result(check_id)
        facts = found.facts if found is not None else None
        return facts if isinstance(facts, kind) else None

    def record(self, result: CheckResult) -> None:
        with self._lock:
            self._results[result.check_id] = result

    def step_timeout(self) -> float:
        """Seconds one network step may take: the per-step timeout, capped by the run deadline."""
        return max(0.001, min(self.config.timeout, self.deadline.remaining()))

    def waited(self) -> str:
        """'within 10 s', or 'before the run deadline of 5 s ran out' when the deadline cut the wait short."""
        if self.deadline.expired:
            return f"before the run deadline of {self.config.deadline:g} s ran out"
        return f"within {self.config.timeout:g} s"

    def add_secret(self, value: str) -> None:
        self.state.add_secret(value)

    def run_secrets(self) -> tuple[str, ...]:
        return self.state.secrets()

    def close(self) -> None:
        self.state.close()
