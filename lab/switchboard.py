"""A lab relay that keeps its address while its behaviour is switched: it works, breaks, then recovers.

One lab SMTP server per scenario runs behind a small TCP forwarder on loopback; `switch()` points new
connections at another scenario's server (connections already open finish where they started).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterable
from typing import Any

from lab.forwarding import relay
from lab.pki import LabPKI
from lab.smtp import Personality, RunningSmtp, Scenario, start_smtp

ACCEPT_POLL = 0.2  # seconds between checks for stop while waiting for a connection


class SwitchableSmtp:
    """Lab SMTP servers for `scenarios` behind one loopback port; the first scenario answers at start."""

    def __init__(self, scenarios: Iterable[Scenario], *, pki: LabPKI, personality: Personality = Personality.M365,
                 **options: Any) -> None:
        self.servers: dict[Scenario, RunningSmtp] = {}
        for scenario in scenarios:
            self.servers[Scenario(scenario)] = start_smtp(scenario, personality=personality, pki=pki, **options)
        self.personality = personality
        self.scenario = next(iter(self.servers))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(ACCEPT_POLL)
        self.host, self.port = "127.0.0.1", self._listener.getsockname()[1]
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, name=f"lab-switch-{self.port}", daemon=True)
        self._thread.start()

    @property
    def connect_to(self) -> str:
        return f"{self.host}:{self.port}"

    def switch(self, scenario: Scenario) -> None:
        """Answer new connections as `scenario` from now on."""
        if Scenario(scenario) not in self.servers:
            raise ValueError(f"{scenario} was not started for this relay")
        self.scenario = Scenario(scenario)

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            target = self.servers[self.scenario]
            threading.Thread(target=relay, args=(client, (target.host, target.port)), daemon=True).start()

    def stop(self) -> None:
        self._stopping.set()
        self._listener.close()
        self._thread.join(2)
        for server in self.servers.values():
            server.stop()

    def __enter__(self) -> SwitchableSmtp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
