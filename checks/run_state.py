"""What a check receives: the settings, earlier results, shared resources, the deadline and dependencies."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from checks.model import CheckId, CheckResult
from checks.settings.config import RelayConfig
from checks.settings.secret import Secret
from checks.target_policy import TargetPolicy


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


class CheckContext:
    """Handed to each check by the runner; checks never call each other, they read results here."""

    def __init__(self, config: RelayConfig, *, deps: Dependencies, deadline: Deadline, run_id: str) -> None:
        self.config = config
        self.run_id = run_id
        self.deps = deps
        self.deadline = deadline
        self._results: dict[CheckId, CheckResult] = {}
        self._resources: dict[str, Any] = {}
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    @property
    def results(self) -> Mapping[CheckId, CheckResult]:
        with self._lock:
            return dict(self._results)

    def result(self, check_id: CheckId) -> CheckResult | None:
        with self._lock:
            return self._results.get(check_id)

    def fact(self, check_id: CheckId, key: str, default: Any = None) -> Any:
        found = self.result(check_id)
        return found.facts.get(key, default) if found else default

    def record(self, result: CheckResult) -> None:
        with self._lock:
            self._results[result.check_id] = result

    def step_timeout(self) -> float:
        """Seconds one network step may take: the per-step timeout, capped by the run deadline."""
        return max(0.001, min(self.config.timeout, self.deadline.remaining()))

    def resource(self, name: str, factory: Callable[[], Any] | None = None) -> Any:
        """A per-run shared object (the SMTP conversation, the ssl context); created once on first use."""
        with self._lock:
            if name not in self._resources and factory is not None:
                self._resources[name] = factory()
            return self._resources.get(name)

    def set_resource(self, name: str, value: Any) -> None:
        """Share `value` with later checks; a Secret's value is also registered for redaction."""
        if isinstance(value, Secret):
            self.add_secret(value.reveal())
        with self._lock:
            self._resources[name] = value

    def add_secret(self, value: str) -> None:
        """Register a value first seen during the run (a token, an AUTH payload) so no output shows it."""
        with self._lock:
            self._secrets.add(value)

    def run_secrets(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._secrets)

    def close(self) -> None:
        with self._lock:
            resources, self._resources = list(self._resources.values()), {}
        for value in resources:
            closer = getattr(value, "goodbye", None) or getattr(value, "close", None)
            if callable(closer):
                with contextlib.suppress(Exception):  # closing must never mask a verdict
                    closer()
