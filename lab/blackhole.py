"""A loopback port that silently drops new connections, like a firewall dropping outbound SMTP."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field


@dataclass
class RunningBlackhole:
    host: str
    port: int
    _sockets: list[socket.socket] = field(default_factory=list, repr=False)

    def stop(self) -> None:
        for sock in self._sockets:
            sock.close()
        self._sockets.clear()

    def __enter__(self) -> RunningBlackhole:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_blackhole(host: str = "127.0.0.1") -> RunningBlackhole:
    """Listen with a backlog of zero and never accept: once the queue is full, Linux drops further SYNs."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((host, 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    running = RunningBlackhole(host, port, [listener])
    for _ in range(8):  # fill the accept queue; stop once a connection attempt no longer completes
        filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        filler.settimeout(0.2)
        running._sockets.append(filler)
        try:
            filler.connect((host, port))
        except OSError:
            break
    return running


def closed_port(host: str = "127.0.0.1") -> int:
    """A port on which nothing listens (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
