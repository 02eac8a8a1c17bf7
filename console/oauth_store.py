"""Pending Microsoft sign-ins, kept server-side by `state`: the redirect back opens a new Streamlit session."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from checks.settings.secret import Secret

FLOW_TTL_SECONDS = 10 * 60  # a sign-in left open longer than this must start again
MAX_PENDING = 200  # bounds memory if someone opens many sign-ins


@dataclass(frozen=True)
class PendingFlow:
    """What finishing an authorization-code flow needs; the client secret stays a masked Secret."""

    state: str
    sign_in: Any  # checks.oauth.flows.PendingSignIn (PKCE verifier, nonce: never shown)
    settings: Mapping[str, Any]  # non-secret form values to restore in the new session (tenant, client, ...)
    client_secret: Secret | None
    created: float

    def __repr__(self) -> str:
        return f"PendingFlow(state={self.state[:6]}…)"


@dataclass(frozen=True)
class SignedIn:
    """The outcome of a sign-in, held in one session's state (never in a widget, a download or a log)."""

    account: str
    refresh_token: Secret
    scopes: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"SignedIn(account={self.account!r})"


@dataclass
class FlowStore:
    """A process-wide, thread-safe dict of pending flows by `state`, each taken at most once, with expiry."""

    ttl: float = FLOW_TTL_SECONDS
    clock: Callable[[], float] = time.monotonic
    _flows: dict[str, PendingFlow] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, state: str, sign_in: Any, *, settings: Mapping[str, Any], client_secret: Secret | None
            ) -> PendingFlow:
        pending = PendingFlow(state, sign_in, dict(settings), client_secret, self.clock())
        with self._lock:
            self._expire()
            while len(self._flows) >= MAX_PENDING:
                self._flows.pop(next(iter(self._flows)))
            self._flows[state] = pending
        return pending

    def take(self, state: str) -> PendingFlow | None:
        """The pending flow for `state`, removed (a code is redeemed once); None when unknown or expired."""
        with self._lock:
            self._expire()
            return self._flows.pop(state, None)

    def __len__(self) -> int:
        with self._lock:
            self._expire()
            return len(self._flows)

    def _expire(self) -> None:
        now = self.clock()
        for state in [s for s, f in self._flows.items() if now - f.created > self.ttl]:
            del self._flows[state]


PENDING_FLOWS = FlowStore()  # module-level: shared by every session of this console process
