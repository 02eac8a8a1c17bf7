"""One SMTP conversation per run: smtplib's client with per-reply deadlines, bounded reads and a masked transcript."""

from __future__ import annotations

import base64
import binascii
import re
import smtplib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass

MAX_LINE_BYTES = 4096  # RFC 5321 allows 512 per reply line; generous, but a server cannot grow us without bound
MAX_REPLY_LINES = 500
MAX_TRANSCRIPT_LINE = 300
MAX_AUTH_CHALLENGES = 5  # 334 challenges one AUTH may take (LOGIN needs 2); more is a server that never decides
HIDDEN = "<hidden: credentials>"
_REPLY_CODE = re.compile(r"[0-9]{3}")


class ProtocolViolation(smtplib.SMTPException):
    """The peer broke SMTP (overlong line, endless reply, data that is not SMTP); `first_line` is what it sent."""

    def __init__(self, reason: str, first_line: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.first_line = first_line


class ReplyTimeout(TimeoutError):
    """No complete reply within the step timeout; `partial` is what had arrived of it (printable, masked)."""

    def __init__(self, reason: str, partial: str = "") -> None:
        super().__init__(reason)
        self.partial = partial


@dataclass(frozen=True)
class SmtpReply:
    code: int
    text: str  # lines joined with "\n", without the code prefixes

    def __str__(self) -> str:
        lines = self.text.split("\n") or [""]
        return "\n".join(f"{self.code}{'-' if i < len(lines) - 1 else ' '}{line}" for i, line in enumerate(lines))

    @property
    def ok(self) -> bool:
        return 200 <= self.code < 400


def printable(text: str, limit: int = MAX_TRANSCRIPT_LINE) -> str:
    """Show what a server sent without letting control characters or megabytes through."""
    cleaned = _escaped(text[: limit + 1])
    return cleaned if len(cleaned) <= limit else cleaned[:limit] + "…"


def _escaped(text: str) -> str:
    """`text` with every control or invisible formatting character written as \\xNN (ESC can no longer act)."""
    if text.isprintable():  # nearly every line a server sends: no per-character work
        return text
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)


class BoundedSMTP(smtplib.SMTP):
    """smtplib.SMTP whose replies must each arrive within `step_timeout` (and the run deadline), bounded in size."""

    def __init__(self, *, local_hostname: str, step_timeout: Callable[[], float], clock: Callable[[], float],
                 on_secret: Callable[[str], None] = lambda _: None,
                 mask: Callable[[str], str] = lambda text: text) -> None:
        super().__init__(local_hostname=local_hostname, timeout=step_timeout())
        self._step_timeout = step_timeout
        self._clock = clock
        self._buffer = b""
        self._in_auth = False
        self._on_secret = on_secret
        self._mask = mask  # hides the run's secrets in what the server sends, before anything is cut short
        self.handshaking = False  # True while a TLS handshake is under way (a reset then cuts the handshake)
        self.transcript: list[str] = []

    def attach(self, sock: socket.socket, server_hostname: str) -> None:
        """Adopt a connected socket (the port check made it) and the name TLS must verify."""
        self.sock = sock
        self._host = server_hostname
        self._buffer = b""

    # smtplib calls send() for every command; we record it, masking anything sent during AUTH.
    def send(self, s: str | bytes) -> None:
        text = s.decode("ascii", "replace") if isinstance(s, bytes) else s
        line = text.rstrip("\r\n")
        if "\n" in line:
            shown = f"<message data, {len(text)} bytes>"
        elif line.upper().startswith("AUTH "):
            self._in_auth = True
            words = line.split(" ")
            shown = " ".join(words[:2]) + (f" {HIDDEN}" if len(words) > 2 else "")
            if len(words) > 2:
                self._on_secret(" ".join(words[2:]))
        elif self._in_auth:
            shown = HIDDEN
            self._on_secret(line)
        else:
            shown = line
        self.transcript.append("C: " + printable(shown))
        if self.sock is not None:
            self.sock.settimeout(self._step_timeout())
        super().send(s)

    def _read_line(self, ends_at: float) -> bytes:
        while True:
            newline = self._buffer.find(b"\n")
            if newline >= 0:
                line, self._buffer = self._buffer[: newline + 1], self._buffer[newline + 1:]
                return line
            if len(self._buffer) > MAX_LINE_BYTES:
                raise ProtocolViolation(f"the server sent a line longer than {MAX_LINE_BYTES} bytes without ending it",
                                        self._shown(self._buffer, 120))
            remaining = ends_at - self._clock()
            if remaining <= 0:
                raise ReplyTimeout("no complete reply in time", self._shown(self._buffer, 120))
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(8192)
            except TimeoutError:
                raise ReplyTimeout("no complete reply in time", self._shown(self._buffer, 120)) from None
            if not chunk:
                if self._buffer:
                    raise ProtocolViolation("the server closed the connection in the middle of a reply",
                                            self._shown(self._buffer, MAX_TRANSCRIPT_LINE))
                self.close()
                raise smtplib.SMTPServerDisconnected("the server closed the connection")
            self._buffer += chunk

    def _shown(self, data: bytes, limit: int) -> str:
        """Received bytes as one printable line: secrets masked first, then cut to `limit` characters."""
        return printable(self._mask(data[: MAX_LINE_BYTES + 8192].decode("latin-1")), limit)

    def getreply(self) -> tuple[int, bytes]:
        """Read one reply (all its lines) within one step timeout; replaces smtplib's unbounded reader.

        Each line is masked (the run's secrets) before it is shown or cut, and the reply text keeps no control
        characters: a hostile server's escapes, bells and stray CRs reach reports and screens as \\xNN.
        """
        if self.sock is None:
            raise smtplib.SMTPServerDisconnected("not connected")
        ends_at = self._clock() + self._step_timeout()
        lines: list[bytes] = []
        code = -1
        while True:
            try:
                raw = self._read_line(ends_at)
            except ReplyTimeout as exc:
                if lines and not exc.partial:
                    raise ReplyTimeout(str(exc), printable(f"{code}-{lines[0].decode('utf-8')}", 120)) from None
                raise
            text = self._mask(raw.decode("utf-8", "replace").rstrip("\r\n"))
            self.transcript.append("S: " + printable(text))
            if not _REPLY_CODE.match(text) or (len(text) > 3 and text[3] not in " -"):
                raise ProtocolViolation("the reply is not SMTP", printable(text, 200))
            if lines and int(text[:3]) != code:
                raise ProtocolViolation("a multi-line reply changed its code midway", printable(text, 200))
            code = int(text[:3])
            lines.append(_escaped(text[4:]).encode("utf-8"))
            if len(lines) > MAX_REPLY_LINES:
                raise ProtocolViolation(f"a reply ran over {MAX_REPLY_LINES} lines", printable(text, 200))
            if len(text) == 3 or text[3] == " ":
                break
        if code != 334:
            self._in_auth = False
        return code, b"\n".join(lines)

    def reply(self) -> SmtpReply:
        code, message = self.getreply()
        return SmtpReply(code, message.decode("utf-8", "replace"))

    def command(self, verb: str, argument: str = "") -> SmtpReply:
        self.putcmd(verb, argument)
        return self.reply()

    def start_tls(self, make_context: Callable[[], ssl.SSLContext]) -> SmtpReply:
        """STARTTLS then the handshake; refuses data pipelined before the handshake (a command-injection trick).

        The context is built while the server's answer travels back, off the critical path.
        """
        self.putcmd("STARTTLS")
        context = make_context()
        answer = self.reply()
        if answer.code != 220:
            return answer
        if self._buffer:
            raise ProtocolViolation("the server sent data after its STARTTLS reply, before the TLS handshake",
                                    self._shown(self._buffer, 120))
        self.wrap(context)
        return answer

    def wrap(self, context: ssl.SSLContext) -> None:
        """TLS handshake on the current socket (implicit TLS or after STARTTLS); forgets the plaintext EHLO."""
        self.sock.settimeout(self._step_timeout())  # CPython bounds the whole handshake by this, not each read
        self.handshaking = True
        self.sock = context.wrap_socket(self.sock, server_hostname=self._host)
        self.handshaking = False
        self._buffer = b""
        self.file = None
        self.helo_resp = self.ehlo_resp = None
        self.esmtp_features = {}
        self.does_esmtp = False

    def auth(self, mechanism: str, authobject: Callable, *, initial_response_ok: bool = True) -> tuple[int, bytes]:
        """smtplib's AUTH exchange, but UTF-8 (RFC 4616) and bounded: a server that never stops sending 334
        challenges, or sends ones that are not base64, breaks the protocol instead of breaking the check."""
        mechanism = mechanism.upper()
        initial = authobject() if initial_response_ok else None
        if initial is not None:
            code, resp = self.docmd("AUTH", f"{mechanism} {_b64(initial)}")
            self._auth_challenge_count = 1
        else:
            code, resp = self.docmd("AUTH", mechanism)
            self._auth_challenge_count = 0
        while code == 334:
            if self._auth_challenge_count >= MAX_AUTH_CHALLENGES:
                self._in_auth = False
                raise ProtocolViolation(f"the server answered AUTH with more than {MAX_AUTH_CHALLENGES} challenges "
                                        "(334) without deciding", printable(f"334 {resp.decode('utf-8')}", 200))
            self._auth_challenge_count += 1
            try:
                challenge = base64.b64decode(resp, validate=True)
            except (binascii.Error, ValueError):
                challenge = resp  # the mechanisms we use never read the challenge's content
            code, resp = self.docmd(_b64(authobject(challenge)))
        if code in (235, 503):
            return code, resp
        raise smtplib.SMTPAuthenticationError(code, resp)

    def mechanisms(self) -> tuple[str, ...]:
        return tuple(m.upper() for m in self.esmtp_features.get("auth", "").split())

    def close(self) -> None:
        self.handshaking = False
        try:
            super().close()
        finally:
            self._buffer = b""

    def goodbye(self) -> None:
        """QUIT without waiting for the answer (it tells nothing), then close."""
        try:
            if self.sock is not None:
                self.sock.settimeout(0.5)
                super().send("QUIT\r\n")
        except OSError:
            pass
        self.close()


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")
