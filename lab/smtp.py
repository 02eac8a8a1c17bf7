"""Real SMTP servers on loopback that answer like Gmail, Microsoft 365 or a plain server, one scenario each."""

from __future__ import annotations

import asyncio
import binascii
import logging
import ssl
import threading
from base64 import b64decode
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING, SMTP, AuthResult, Envelope, LoginPassword, Session, TLSSetupException

from lab.pki import WRONG_HOSTNAME, LabPKI
from lab.scenarios import (
    LAB_ACCOUNTS,
    NO_AUTH_SCENARIOS,
    OAUTH_BLOCKED_SCENARIOS,
    PERSONAS,
    RAW_SCENARIOS,
    Persona,
    Personality,
    Scenario,
    Stage,
    render,
    scenario_reply,
)

__all__ = ["LAB_ACCOUNTS", "Personality", "RunningSmtp", "Scenario", "XOAuth2Validator", "start_smtp"]

log = logging.getLogger(__name__)

XOAuth2Validator = Callable[[str, str], "str | None"]  # (user, token) -> None to accept, or the reply to send
Message = tuple[str, list[str], bytes]  # (mail_from, rcpt_tos, data)

READY_TIMEOUT = 5.0  # seconds a server may take to start
STOP_TIMEOUT = 5.0  # seconds a server may take to close its connections
IDLE_TIMEOUT = 60.0  # seconds an idle client connection is kept
RAW_READ_LIMIT = 64 * 1024  # bytes read at a time (and discarded) by the raw servers

# Certificate for each certificate scenario (keyword arguments of LabPKI.server_context).
_CERTIFICATES: dict[Scenario, dict[str, Any]] = {
    Scenario.EXPIRED_CERT: {"expired": True},
    Scenario.WRONG_NAME_CERT: {"hostnames": (WRONG_HOSTNAME,)},
    Scenario.UNTRUSTED_CERT: {"issuer": "untrusted"},
    Scenario.LEGACY_TLS: {"tls_versions": (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1)},
}
_IMPLEMENTED_MECHANISMS = frozenset({"LOGIN", "PLAIN", "XOAUTH2"})
_GMAIL_OAUTH_CHALLENGE = '{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}'
_HTTP_400 = (
    b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: 150\r\n"
    b"Connection: close\r\n\r\n<html>\r\n<head><title>400 Bad Request</title></head>\r\n<body>\r\n"
    b"<center><h1>400 Bad Request</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)

AUTH_LINE_LIMIT = 12288


@dataclass(frozen=True)
class RunningSmtp:
    """A lab server that is listening; stop it with `stop()` or use it as a context manager."""

    host: str
    port: int
    personality: Personality
    scenario: Scenario
    implicit_tls: bool
    ca_file: Path
    messages: list[Message] = field(default_factory=list, repr=False, compare=False)
    _stop: Callable[[], None] = field(default=lambda: None, repr=False, compare=False)
    _account: tuple[str, str] | None = field(default=None, repr=False, compare=False)

    @property
    def account(self) -> tuple[str, str]:
        """Return the (username, password) this server accepts."""
        return self._account or LAB_ACCOUNTS[self.personality]

    def stop(self) -> None:
        """Close the listener and every connection, and end the server's thread (idempotent)."""
        self._stop()

    def __enter__(self) -> RunningSmtp:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


@dataclass(frozen=True)
class _Setup:
    """What every connection of one server shares: who it imitates, its scenario and where messages go."""

    personality: Personality
    scenario: Scenario
    implicit_tls: bool
    starttls_context: ssl.SSLContext | None
    reply_delay: float
    xoauth2_validator: XOAuth2Validator | None
    messages: list[Message]
    account: tuple[str, str] | None = None  # (username, password) instead of the personality's lab account

    @property
    def credentials(self) -> tuple[str, str]:
        return self.account or LAB_ACCOUNTS[self.personality]

    @property
    def persona(self) -> Persona:
        return PERSONAS[self.personality]

    @property
    def auth_offered(self) -> bool:
        return self.scenario not in NO_AUTH_SCENARIOS

    @property
    def mechanisms(self) -> tuple[str, ...]:
        """Return the AUTH mechanisms advertised once TLS is up."""
        advertised = self.persona.auth_mechanisms
        if self.xoauth2_validator is not None and "XOAUTH2" not in advertised:
            advertised = (*advertised, "XOAUTH2")
        return advertised

    def reply_at(self, stage: Stage) -> str | None:
        """Return the scenario's reply template for `stage`, if the scenario answers there."""
        found = scenario_reply(self.personality, self.scenario)
        return found[1] if found is not None and found[0] is stage else None


def _same_address(a: str | None, b: str | None) -> bool:
    return (a or "").strip().casefold() == (b or "").strip().casefold()


def _parse_xoauth2(blob: bytes) -> tuple[str, str] | None:
    """Return (user, token) from an XOAUTH2 initial response, or None when malformed."""
    parts = dict(p.split("=", 1) for p in blob.decode("utf-8", "replace").split("\x01") if "=" in p)
    user, auth = parts.get("user", ""), parts.get("auth", "")
    if not user or not auth.startswith("Bearer "):
        return None
    return user, auth.removeprefix("Bearer ")


class _LabHandler:
    """aiosmtpd hooks: EHLO lines, MAIL/RCPT/DATA replies and password checks per personality and scenario."""

    def __init__(self, setup: _Setup) -> None:
        self.setup = setup

    async def handle_EHLO(
        self, server: _LabSMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        setup, persona = self.setup, self.setup.persona
        lines = [f"{persona.server_name} {server.say(persona.ehlo_hello)}"]
        for keyword in persona.ehlo_keywords:
            if keyword != "STARTTLS":
                lines.append(keyword)
            elif server.secure and setup.auth_offered:
                lines.append("AUTH " + " ".join(setup.mechanisms))
            elif not server.secure and setup.starttls_context is not None:
                lines.append("STARTTLS")
        return [f"250-{line}" for line in lines[:-1]] + [f"250 {lines[-1]}"]

    async def handle_MAIL(
        self, server: _LabSMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        persona = self.setup.persona
        if persona.not_authenticated is not None and not session.authenticated:
            return server.say(persona.not_authenticated)
        refusal = self.setup.reply_at(Stage.MAIL)
        if refusal is not None:
            return server.say(refusal, user=str(session.auth_data or ""), sender=address)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return server.say(persona.mail_ok)

    async def handle_RCPT(
        self, server: _LabSMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return server.say(self.setup.persona.rcpt_ok)

    async def handle_DATA(self, server: _LabSMTP, session: Session, envelope: Envelope) -> str:
        setup = self.setup
        refusal = setup.reply_at(Stage.DATA)
        if refusal is None and session.authenticated and not _same_address(envelope.mail_from, session.auth_data):
            refusal = setup.reply_at(Stage.FOREIGN_SENDER) or setup.persona.foreign_sender
        if refusal is not None:
            return server.say(refusal)
        setup.messages.append((envelope.mail_from or "", list(envelope.rcpt_tos), bytes(envelope.original_content)))
        return server.say(setup.persona.data_ok)

    async def handle_QUIT(self, server: _LabSMTP, session: Session, envelope: Envelope) -> str:
        return server.say(self.setup.persona.quit)

    async def handle_exception(self, error: Exception) -> str:
        if isinstance(error, TLSSetupException):  # the client refused our certificate: expected in cert scenarios
            return "421 4.7.0 TLS negotiation failed"
        log.warning("lab SMTP server error", exc_info=error)
        return f"451 4.3.0 Lab server error ({type(error).__name__})"

    def authenticate(
        self, server: _LabSMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: LoginPassword
    ) -> AuthResult:
        """Check a LOGIN/PLAIN password against the lab account, unless the scenario refuses all passwords."""
        setup = self.setup
        refusal = setup.reply_at(Stage.AUTH)
        if refusal is None:
            user, password = setup.credentials
            login = auth_data.login.decode("utf-8", "replace")
            if _same_address(login, user) and auth_data.password == password.encode():
                return AuthResult(success=True, message=server.say(setup.persona.auth_ok), auth_data=user)
            refusal = setup.persona.bad_credentials
        return AuthResult(success=False, handled=False, message=server.say(refusal))


class _LabSession(Session):
    """aiosmtpd's Session without the deprecation warning it logs on every successful AUTH."""

    @property
    def login_data(self) -> Any:
        return self._login_data

    @login_data.setter
    def login_data(self, value: Any) -> None:
        self._login_data = value


class _LabSMTP(SMTP):
    """aiosmtpd's SMTP with a provider's wording, XOAUTH2, reply delay and tracked connections."""

    AuthLoginUsernameChallenge = "Username:"
    AuthLoginPasswordChallenge = "Password:"
    # RFC 4954 asks servers to accept AUTH lines of 12288 octets: XOAUTH2 tokens are that long.
    line_length_limit = AUTH_LINE_LIMIT
    command_size_limits: ClassVar[defaultdict[str, int]] = defaultdict(lambda: SMTP.command_size_limit)

    def __init__(self, handler: _LabHandler, *, setup: _Setup, connections: set[_LabSMTP], **kwargs: Any) -> None:
        self.setup = setup
        self._connections = connections
        self._continuing = False  # the last line pushed was a "NNN-" continuation line
        self._conversation_id = render("{gid}")  # Gmail names the whole conversation with one id
        persona = setup.persona
        excluded = _IMPLEMENTED_MECHANISMS.difference(setup.mechanisms)
        super().__init__(
            handler,
            hostname=persona.server_name,
            ident=self.say(persona.ident),
            tls_context=setup.starttls_context,
            auth_require_tls=False,  # the AUTH-before-TLS reply is the provider's, sent by smtp_AUTH below
            auth_exclude_mechanism=excluded,
            authenticator=handler.authenticate,
            data_size_limit=persona.size_limit,
            timeout=IDLE_TIMEOUT,
            **kwargs,
        )
        self.command_size_limits["AUTH"] = AUTH_LINE_LIMIT
        self._rewrites = {
            "220 Ready to start TLS": persona.starttls_ready,
            "354 End data with <CR><LF>.<CR><LF>": persona.data_start,
        }

    def say(self, template: str, **fields: str) -> str:
        """Render a reply template for this conversation."""
        session = getattr(self, "session", None)
        peer = session.peer[0] if session is not None and session.peer else "127.0.0.1"
        return render(template, peer=peer, gid=self._conversation_id, **fields)

    def _create_session(self) -> Session:
        return _LabSession(self.loop)

    @property
    def secure(self) -> bool:
        return self.setup.implicit_tls or self._tls_protocol is not None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._connections.add(self)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        self._connections.discard(self)
        super().connection_lost(error)

    def abort(self) -> None:
        """Drop the connection at once (used when the server stops)."""
        for transport in (self.transport, self._original_transport):
            if transport is not None:
                transport.abort()

    async def push(self, status: str | bytes) -> None:
        if isinstance(status, str) and status in self._rewrites:
            status = self.say(self._rewrites[status])
        if self.setup.reply_delay > 0 and not self._continuing:
            await asyncio.sleep(self.setup.reply_delay)
        text = status if isinstance(status, str) else status.decode("utf-8", "replace")
        last = text.rsplit("\r\n", 1)[-1]
        self._continuing = len(last) > 3 and last[3] == "-"
        await super().push(status)

    async def smtp_AUTH(self, arg: str) -> None:
        assert self.session is not None
        ready = self.session.host_name and self.session.extended_smtp and not self.session.authenticated
        if ready and arg:
            mechanism, _, rest = arg.partition(" ")
            arg = f"{mechanism.upper()} {rest}".strip()
            persona, reply = self.setup.persona, None
            if not self.setup.auth_offered:
                reply = persona.auth_unavailable
            elif not self.secure:
                reply = persona.auth_before_tls
            elif mechanism.upper() not in self._auth_methods:
                reply = persona.unknown_mechanism
            if reply is not None:
                await self.push(self.say(reply))
                return
        await super().smtp_AUTH(arg)

    async def auth_XOAUTH2(self, _: Any, args: list[str]) -> AuthResult:
        blob = await self._initial_response(args)
        if blob is None:
            return AuthResult(success=False, handled=True)
        setup = self.setup
        parsed = _parse_xoauth2(blob)
        refusal = setup.reply_at(Stage.AUTH) if setup.scenario in OAUTH_BLOCKED_SCENARIOS else None
        if refusal is None and parsed is not None and setup.xoauth2_validator is not None:
            failure = setup.xoauth2_validator(*parsed)
            if failure is None:
                return AuthResult(success=True, message=self.say(setup.persona.auth_ok),
                                  auth_data=parsed[0])
            message = failure
        else:
            message = self.say(refusal or setup.persona.bad_credentials)
        if setup.persona.oauth_failure_challenge and await self.challenge_auth(_GMAIL_OAUTH_CHALLENGE) is MISSING:
            return AuthResult(success=False, handled=True)
        return AuthResult(success=False, handled=False, message=message)

    async def _initial_response(self, args: list[str]) -> bytes | None:
        """Return the decoded initial response (asking for it when absent), or None once a reply was sent."""
        if len(args) == 1:
            answer = await self.challenge_auth("", encode_to_b64=False)
            return None if answer is MISSING else answer
        if args[1] == "=":
            return b""
        try:
            return b64decode(args[1].encode(), validate=True)
        except binascii.Error:
            await self.push("501 5.5.2 Cannot decode base64")
            return None


class _LabController(Controller):
    """aiosmtpd's threaded Controller, listening on a port the OS picks and closing its connections on stop."""

    def __init__(self, handler: _LabHandler, *, host: str, ssl_context: ssl.SSLContext | None) -> None:
        super().__init__(handler, hostname=host, port=0, ssl_context=ssl_context,
                         server_hostname=handler.setup.persona.server_name, ready_timeout=READY_TIMEOUT)
        self.connections: set[_LabSMTP] = set()
        self._stop_lock = threading.Lock()

    def factory(self) -> _LabSMTP:
        return _LabSMTP(self.handler, setup=self.handler.setup, connections=self.connections,
                        enable_SMTPUTF8=True)

    def _create_server(self) -> Any:
        return self._listen()

    async def _listen(self) -> asyncio.AbstractServer:
        server = await self.loop.create_server(self._factory_invoker, host=self.hostname, port=0,
                                               ssl=self.ssl_context)
        self.port = server.sockets[0].getsockname()[1]
        return server

    async def _close_connections(self) -> None:
        if self.server is not None:
            self.server.close()
        for connection in list(self.connections):
            connection.abort()
        await asyncio.sleep(0)  # let connection_lost run

    def stop(self, no_assert: bool = True) -> None:
        with self._stop_lock:
            if self._thread is None:
                return
            if self.loop.is_running():
                future = asyncio.run_coroutine_threadsafe(self._close_connections(), self.loop)
                future.result(STOP_TIMEOUT)
            super().stop(no_assert=no_assert)


class _RawServer:
    """A plain asyncio TCP server in its own thread, for servers that do not speak SMTP."""

    def __init__(self, on_client: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Any], *, host: str,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self._on_client, self.host, self._ssl = on_client, host, ssl_context
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread: threading.Thread | None = None
        self._stop_lock = threading.Lock()

    def start(self) -> None:
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, self.host, 0, ssl=self._ssl, limit=RAW_READ_LIMIT))
        self.port = self._server.sockets[0].getsockname()[1]
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"lab-raw-{self.port}", daemon=True)
        self._thread.start()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            await self._on_client(reader, writer)
        except (ConnectionError, ssl.SSLError, asyncio.CancelledError):
            pass  # the client left, or the server is stopping: this task is the connection's top level
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _shutdown(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def stop(self) -> None:
        with self._stop_lock:
            if self._thread is None:
                return
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(STOP_TIMEOUT)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(STOP_TIMEOUT)
            self._thread = None
            self._loop.close()


async def _say_nothing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Accept the connection and never answer (a firewall that swallows the traffic, a tarpit)."""
    while await reader.read(RAW_READ_LIMIT):
        pass


def _answer_http(delay: float) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Any]:
    """Return a client callback that answers like a web server (400 Bad Request) and closes."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(delay)
        writer.write(_HTTP_400)
        await writer.drain()

    return answer


def start_smtp(
    scenario: Scenario = Scenario.WORKING,
    *,
    personality: Personality = Personality.M365,
    pki: LabPKI,
    implicit_tls: bool = False,
    reply_delay: float = 0.0,
    xoauth2_validator: XOAuth2Validator | None = None,
    host: str = "127.0.0.1",
    account: tuple[str, str] | None = None,
) -> RunningSmtp:
    """Start a lab server for `scenario` on a free port of `host` and return it, listening."""
    scenario, personality = Scenario(scenario), Personality(personality)
    if reply_delay < 0:
        raise ValueError("reply_delay must be >= 0")
    certificate = pki.server_context(**_CERTIFICATES.get(scenario, {}))
    messages: list[Message] = []
    server: _RawServer | _LabController
    if scenario in RAW_SCENARIOS:
        if scenario is Scenario.SILENT:
            server = _RawServer(_say_nothing, host=host)
        else:
            server = _RawServer(_answer_http(reply_delay), host=host, ssl_context=certificate if implicit_tls else None)
        server.start()
    else:
        starttls = None if implicit_tls or scenario is Scenario.NO_STARTTLS else certificate
        setup = _Setup(personality=personality, scenario=scenario, implicit_tls=implicit_tls,
                       starttls_context=starttls, reply_delay=reply_delay, xoauth2_validator=xoauth2_validator,
                       messages=messages, account=account)
        server = _LabController(_LabHandler(setup), host=host, ssl_context=certificate if implicit_tls else None)
        server.start()
    return RunningSmtp(host=host, port=server.port, personality=personality, scenario=scenario,
                       implicit_tls=implicit_tls, ca_file=pki.ca_file, messages=messages, _stop=server.stop,
                       _account=account)
