"""An HTTPS emulator of Entra ID + Microsoft Graph on 127.0.0.1, with one scenario per common OAuth2 mistake."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlsplit

from lab.entra_data import Directory, EntraApp, EntraScenario, EntraTenant, EntraUser, build_directory
from lab.entra_graph import graph_get
from lab.entra_oauth import EntraState, Reply, authorize, device_code, device_login, tenant_not_found, token_endpoint
from lab.entra_tokens import EXCHANGE_AUDIENCES, TokenSigner
from lab.pki import LabPKI

__all__ = ["EntraApp", "EntraScenario", "EntraTenant", "EntraUser", "RunningEntra", "start_entra"]

DEFAULT_REDIRECT_URIS = ("http://localhost:8501/", "https://relay-console.example/")
AUTH_FAILED = "535 5.7.3 Authentication unsuccessful [lab.entra]"
SMTP_AUTH_OFF = ("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. "
                 "Visit https://aka.ms/smtp_auth_disabled for more information. [lab.entra]")
_TENANT_PATH = re.compile(r"^/([^/]+)/(v2\.0/\.well-known/openid-configuration|oauth2/v2\.0/(token|authorize|"
                          r"devicecode)|discovery/v2\.0/keys)$")
MAX_BODY = 64 * 1024


def openid_configuration(state: EntraState, tenant_name: str) -> Reply:
    tenant = state.directory.tenant(tenant_name)
    if tenant is None:
        return tenant_not_found(tenant_name)
    base, tid = state.base_url, tenant.tenant_id
    return 200, {}, {
        "issuer": f"{base}/{tid}/v2.0", "authorization_endpoint": f"{base}/{tid}/oauth2/v2.0/authorize",
        "token_endpoint": f"{base}/{tid}/oauth2/v2.0/token",
        "device_authorization_endpoint": f"{base}/{tid}/oauth2/v2.0/devicecode",
        "jwks_uri": f"{base}/{tid}/discovery/v2.0/keys", "response_types_supported": ["code", "id_token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "cloud_instance_name": tenant.cloud_instance_name, "tenant_region_scope": "EU",
        "msgraph_host": "graph.microsoft.com",
    }


class _Handler(BaseHTTPRequestHandler):
    server_version = "lab-entra/1.0"
    timeout = 10

    @property
    def state(self) -> EntraState:
        return self.server.state  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - never log (tokens travel in requests)
        return

    def _send(self, reply: Reply) -> None:
        status, headers, body = reply
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        content_type = "text/html; charset=utf-8" if isinstance(body, str) else "application/json; charset=utf-8"
        for key, value in {"Content-Type": content_type, **headers, "Cache-Control": "no-store"}.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _form(self) -> dict[str, str]:
        length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
        return dict(parse_qsl(self.rfile.read(length).decode("utf-8", "replace"))) if length else {}

    def _basic(self) -> tuple[str, str] | None:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None

        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return unquote_plus(user), unquote_plus(password)

    def do_GET(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query))
        if url.path.startswith("/v1.0/"):
            return self._send(graph_get(self.state, url.path, query, self.headers.get("Authorization", "")))
        if url.path == "/common/discovery/instance":
            return self._send((200, {}, {"tenant_discovery_endpoint": f"{self.state.base_url}/common/v2.0/.well-known"
                                         "/openid-configuration", "api-version": "1.1", "metadata": []}))
        match = _TENANT_PATH.match(url.path)
        if match and match.group(2).startswith("v2.0"):
            return self._send(openid_configuration(self.state, match.group(1)))
        if match and match.group(3) == "authorize":
            return self._send(authorize(self.state, match.group(1), query))
        if match and match.group(2).startswith("discovery"):
            return self._send((200, {}, self.state.signer.jwks()))
        self._send((404, {}, {"error": "not_found"}))

    def do_POST(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        form = self._form()
        if url.path == "/devicelogin":
            return self._send(device_login(self.state, form))
        match = _TENANT_PATH.match(url.path)
        if match and match.group(3) == "token":
            return self._send(token_endpoint(self.state, match.group(1), form, self._basic()))
        if match and match.group(3) == "devicecode":
            return self._send(device_code(self.state, match.group(1), form))
        self._send((404, {}, {"error": "not_found"}))


class _TlsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], context: Any, state: EntraState | None) -> None:
        super().__init__(address, _Handler)
        self.context = context
        self.state = state

    def get_request(self) -> tuple[Any, Any]:
        sock, addr = self.socket.accept()
        sock.settimeout(10)
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # a client that drops the connection is not our problem


@dataclass
class RunningEntra:
    """A started emulator: what the user would paste into the portal, and hooks for the lab SMTP server."""

    base_url: str
    ca_file: Path
    tenant_id: str
    client_id: str
    client_secret: str = field(repr=False)  # test only
    refresh_token: str = field(repr=False)  # test only
    user: str
    sender: str
    scenario: EntraScenario
    directory: Directory = field(repr=False)
    _server: _TlsServer = field(repr=False)
    _state: EntraState = field(repr=False)
    _cleanup: Any = field(repr=False, default=None)

    @property
    def graph_url(self) -> str:
        return self.base_url

    @property
    def secret_expires(self) -> dt.date:
        """The secret's real expiry date (what the portal's 'secret expiry date' should say)."""
        return self.app.secret_end.date()

    @property
    def issued_tokens(self) -> tuple[str, ...]:
        """Every access, ID and refresh token handed out so far (for leak canaries)."""
        with self._state.lock:
            refresh = [t for tenant in self.directory.tenants for t in tenant.refresh_tokens]
        return tuple(self._state.signer.issued) + tuple(refresh)

    @property
    def app(self) -> EntraApp:
        return self.directory.tenants[0].apps[next(iter(self.directory.tenants[0].apps))]

    def token_is_valid(self, token: str, audience: str) -> bool:
        """True when `token` was issued here for `audience` and has not expired."""
        return self._state.signer.verify(token, {audience}) is not None

    def xoauth2_validator(self, user: str, token: str) -> str | None:
        """What Exchange would say to AUTH XOAUTH2 user=`user` with `token`: None when accepted, else the reply."""
        claims = self._state.signer.verify(token, EXCHANGE_AUDIENCES)
        tenant = self.directory.tenant(str(claims.get("tid", ""))) if claims else None
        if claims is None or tenant is None:
            return AUTH_FAILED
        if claims.get("idtyp") == "user":
            account = tenant.user(str(claims.get("upn", "")))
            if account is None or "SMTP.Send" not in str(claims.get("scp", "")).split() \
                    or user.lower() not in (account.upn.lower(), account.primary.lower()):
                return AUTH_FAILED
        else:
            mailboxes = tenant.users_with_address(user)
            if "SMTP.SendAsApp" not in (claims.get("roles") or []) or not mailboxes:
                return AUTH_FAILED
            account = mailboxes[0]
        return SMTP_AUTH_OFF if account.smtp_auth_disabled else None

    def approve_device_sign_in(self, user_code: str, account: str) -> None:
        """What the user does in the browser for a device-code sign-in: enter the code and sign in as `account`."""
        device_login(self._state, {"user_code": user_code, "login_hint": account})

    def powershell_output(self) -> str:
        """What the audit's read-only Exchange Online script prints for this tenant's sender (Format-List)."""
        sender = self.directory.tenants[0].users_with_address(self.sender)
        disabled = "True" if sender and sender[0].smtp_auth_disabled else ""
        return ("== Get-TransportConfig\n\nSmtpClientAuthenticationDisabled : False\n\n== Get-CASMailbox\n\n"
                f"PrimarySmtpAddress               : {self.sender}\nSmtpClientAuthenticationDisabled : {disabled}\n\n"
                "== Get-AuthenticationPolicy\n\nName               : Block Basic Auth\nAllowBasicAuthSmtp : False\n")

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._cleanup is not None:
            self._cleanup()


def start_entra(scenario: EntraScenario | str = EntraScenario.WORKING, *, pki: Any = None,
                redirect_uris: tuple[str, ...] = DEFAULT_REDIRECT_URIS) -> RunningEntra:
    """Start the emulator on 127.0.0.1 (a free port) with `scenario`; pki: a LabPKI (default: a new one)."""
    cleanup = None
    if pki is None:

        pki = LabPKI()
        cleanup = pki.close
    context = pki.server_context(("127.0.0.1", "localhost"))
    server = _TlsServer(("127.0.0.1", 0), context, None)
    base_url = f"https://127.0.0.1:{server.server_address[1]}"
    scenario = EntraScenario(scenario)
    directory = build_directory(scenario, redirect_uris)
    state = EntraState(directory, TokenSigner(base_url), base_url)
    server.state = state
    home = directory.tenants[0]
    refresh = state.issue_refresh_token(home, home.apps[next(iter(home.apps))].client_id, home.users[directory.user])
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="lab-entra",
                     daemon=True).start()
    return RunningEntra(base_url=base_url, ca_file=Path(pki.ca_file), tenant_id=directory.tenant_id,
                        client_id=directory.client_id, client_secret=directory.client_secret, refresh_token=refresh,
                        user=directory.user, sender=directory.sender, scenario=scenario, directory=directory,
                        _server=server, _state=state, _cleanup=cleanup)
