"""The few Microsoft Graph reads the checks need: a user, its mailbox purpose, an app's secrets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from checks.oauth.endpoints import Endpoints
from checks.oauth.http import TimedHttp
from checks.settings.secret import Secret

USER_FIELDS = "mail,userPrincipalName,proxyAddresses,accountEnabled"


@dataclass(frozen=True)
class GraphAnswer:
    """One Graph reply: HTTP status, JSON body ({} if none) and Graph's error code/message if any."""

    status: int
    body: dict[str, Any]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def error(self) -> str:
        err = self.body.get("error") if isinstance(self.body.get("error"), dict) else {}
        return f"{err.get('code', '')}: {err.get('message', '')}".strip(": ")


def graph_get(http: TimedHttp, ends: Endpoints, token: Secret, path: str,
              params: dict[str, str] | None = None) -> GraphAnswer:
    """GET a Graph path with the bearer token; network errors propagate (OSErrors, requests' included)."""
    response = http.get(ends.graph(path), params=params,
                        headers={"Authorization": f"Bearer {token.reveal()}", "Accept": "application/json"})
    try:
        body = response.json()
    except ValueError:
        body = {}
    return GraphAnswer(response.status_code, body if isinstance(body, dict) else {})


def read_user(http: TimedHttp, ends: Endpoints, token: Secret, address: str) -> GraphAnswer:
    return graph_get(http, ends, token, f"users/{quote(address, safe='@')}", {"$select": USER_FIELDS})


def read_user_purpose(http: TimedHttp, ends: Endpoints, token: Secret, address: str) -> str | None:
    """mailboxSettings.userPurpose ('user', 'shared', 'room', ...) or None when Graph does not tell us."""
    answer = graph_get(http, ends, token, f"users/{quote(address, safe='@')}/mailboxSettings")
    return str(answer.body.get("userPurpose")) if answer.ok and answer.body.get("userPurpose") else None


def find_by_proxy_address(http: TimedHttp, ends: Endpoints, token: Secret, address: str) -> list[dict[str, Any]]:
    """Users having `address` among their proxy addresses (primary or alias)."""
    literal = address.replace("'", "''")
    answer = graph_get(http, ends, token, "users",
                       {"$filter": f"proxyAddresses/any(x:x eq 'smtp:{literal}')", "$select": USER_FIELDS})
    value = answer.body.get("value") if answer.ok else None
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def addresses(user: dict[str, Any]) -> tuple[str, list[str]]:
    """(primary address, aliases) from proxyAddresses ('SMTP:' primary, 'smtp:' alias); falls back to mail."""
    primary, aliases = "", []
    for entry in user.get("proxyAddresses") or []:
        kind, _, addr = str(entry).partition(":")
        if kind == "SMTP":
            primary = addr
        elif kind == "smtp":
            aliases.append(addr)
    return primary or str(user.get("mail") or user.get("userPrincipalName") or ""), aliases


def read_password_credentials(http: TimedHttp, ends: Endpoints, token: Secret, client_id: str
                              ) -> GraphAnswer:
    return graph_get(http, ends, token, f"applications(appId='{quote(client_id, safe='-')}')",
                     {"$select": "passwordCredentials"})

