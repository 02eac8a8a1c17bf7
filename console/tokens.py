"""What an access token says: claims, audience, scopes against what the setup needs, and its expiry."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from checks.oauth.claims import (
    EXCHANGE_AUDIENCES,
    GRAPH_AUDIENCES,
    audience_name,
    decode_claims,
    expires_at,
    roles_of,
    scopes_of,
    user_of,
    utc_time,
)
from checks.oauth.permissions import GRAPH_PERMISSIONS, SMTP_SEND, SMTP_SEND_AS_APP
from checks.safe_text import visible

TIME_CLAIMS = ("exp", "nbf", "iat")


@dataclass(frozen=True)
class Requirement:
    permission: str
    present: bool
    why: str


@dataclass(frozen=True)
class TokenFacts:
    """The decoded, display-safe view of a token (the token itself is not kept)."""

    claims: dict[str, Any]
    audience: str
    resource: str  # "exchange", "graph" or ""
    user: str
    scopes: tuple[str, ...]
    roles: tuple[str, ...]
    requirements: tuple[Requirement, ...]
    expires: dt.datetime | None


def inspect(token: str) -> TokenFacts | None:
    """Decode a pasted access token (no signature check: only to show it); None when it is not a JWT."""
    token = "".join(token.split())
    if token.lower().startswith("bearer"):
        token = token[6:]
    claims = decode_claims(token)
    if not claims:
        return None
    aud = str(claims.get("aud") or "")
    resource = "exchange" if aud in EXCHANGE_AUDIENCES else "graph" if aud in GRAPH_AUDIENCES else ""
    scopes, roles = scopes_of(claims), roles_of(claims)
    return TokenFacts(claims=claims, audience=audience_name(aud), resource=resource, user=user_of(claims),
                      scopes=tuple(sorted(scopes)), roles=tuple(sorted(roles)),
                      requirements=requirements(resource, scopes, roles), expires=expires_at(claims))


def requirements(resource: str, scopes: frozenset[str], roles: frozenset[str]) -> tuple[Requirement, ...]:
    """Each permission the guide's setup needs from this token's resource, present or not."""
    if resource == "exchange":
        if roles:  # app-only token (client credentials)
            return tuple(Requirement(r, r in roles, "app-only SMTP (application permission)") for r in (SMTP_SEND_AS_APP,))
        return tuple(Requirement(s, s in scopes, "XOAUTH2 sign-in to smtp.office365.com") for s in (SMTP_SEND,))
    if resource == "graph":
        return tuple(Requirement(s, s in scopes, "Microsoft Graph permission of the guide") for s in GRAPH_PERMISSIONS)
    return ()


def permission_table(requirements: tuple[Requirement, ...]) -> Any:
    """The permissions table with missing ones coloured (a pandas Styler for st.dataframe)."""
    # lazy: pandas/altair load only when a table or chart is drawn
    import pandas as pd

    frame = pd.DataFrame([{"Permission": r.permission, "In token": "yes" if r.present else "MISSING",
                           "Needed for": r.why} for r in requirements])
    colour = {"yes": "background-color: #dafbe1", "MISSING": "background-color: #ffebe9; color: #cf222e"}
    return frame.style.map(lambda value: colour.get(value, ""), subset=["In token"])


def claim_rows(claims: dict[str, Any]) -> list[dict[str, str]]:
    """Claims as table rows; times shown as UTC dates."""
    out = []
    for name, value in claims.items():
        if name in TIME_CLAIMS and isinstance(value, (int, float)):
            when = utc_time(value)
            text = when.strftime("%Y-%m-%d %H:%M:%S UTC") if when else f"{value!r} (not a valid time)"
        elif isinstance(value, list):
            text = ", ".join(str(v) for v in value)
        else:
            text = str(value)
        out.append({"Claim": visible(name), "Value": visible(text)})
    return out


def countdown(expires: dt.datetime | None, now: dt.datetime) -> str:
    """'expires in 52 min 10 s' / 'expired 3 h 2 min ago'."""
    if expires is None:
        return "no expiry (exp) in this token"
    seconds = int((expires - now).total_seconds())
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    parts = ([f"{hours} h"] if hours else []) + ([f"{minutes} min"] if minutes or hours else []) + [f"{secs} s"]
    span = " ".join(parts)
    return f"expires in {span}" if seconds > 0 else f"expired {span} ago"
