"""A TCP proxy on loopback that holds every chunk the server sends for a fixed delay, like a distant server.

Client bytes go through at once; each server chunk leaves the proxy `delay` seconds after it arrived (chunks keep
their order and do not add up their delays), so every server reply, TLS records included, costs one delay.
"""

from __future__ import annotations

import contextlib
import heapq
import socket
import threading
import time

CHUNK = 65536


class DelayProxy:
    """Listens on 127.0.0.1:<port> and forwards each connection to `upstream`; stop() ends it."""

    def __init__(self, upstream: tuple[str, int], *, delay: float) -> None:
        self.upstream, self.delay = upstream, delay
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream, timeout=5)
            server.settimeout(None)
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._pipe, args=(client, server), daemon=True).start()
            threading.Thread(target=self._delayed_pipe, args=(server, client), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(CHUNK):
                target.sendall(data)
        except OSError:
            pass
        finally:
            with_shutdown(target)

    def _delayed_pipe(self, source: socket.socket, target: socket.socket) -> None:
        due: list[tuple[float, int, bytes]] = []
        ready = threading.Condition()
        done = threading.Event()

        def sender() -> None:
            while True:
                with ready:
                    while not due and not done.is_set():
                        ready.wait()
                    if not due and done.is_set():
                        break
                    at, _, data = due[0]
                    wait = at - time.monotonic()
                    if wait > 0:
                        ready.wait(wait)
                        continue
                    heapq.heappop(due)
                try:
                    target.sendall(data)
                except OSError:
                    break
            with_shutdown(target)

        threading.Thread(target=sender, daemon=True).start()
        sequence = 0
        try:
            while data := source.recv(CHUNK):
                with ready:
                    heapq.heappush(due, (time.monotonic() + self.delay, sequence, data))
                    sequence += 1
                    ready.notify()
        except OSError:
            pass
        finally:
            with ready:
                done.set()
                ready.notify()

    def stop(self) -> None:
        self._stopped.set()
        self.listener.close()


def with_shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)
