"""A TCP relay for one connection: copy both ways until either side closes or stalls (lab relays, test proxies)."""

from __future__ import annotations

import contextlib
import socket
import threading

IDLE_SECONDS = 30.0  # a forwarded connection silent this long is closed
CHUNK = 65536


def _pipe(source: socket.socket, sink: socket.socket, idle: float) -> None:
    source.settimeout(idle)
    try:
        while chunk := source.recv(CHUNK):
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def relay(client: socket.socket, target: tuple[str, int], *, idle: float = IDLE_SECONDS) -> None:
    """Connect to `target` and copy between it and `client` until one side ends; both sockets are closed after."""
    try:
        upstream = socket.create_connection(target, timeout=5)
    except OSError:
        client.close()
        return
    back = threading.Thread(target=_pipe, args=(upstream, client, idle), daemon=True)
    back.start()
    _pipe(client, upstream, idle)
    back.join(idle)
    client.close()
    upstream.close()
