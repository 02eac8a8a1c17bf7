"""JWTs as Entra ID issues them (v1 access tokens, v2 ID tokens), signed with a throwaway RSA key."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

EXCHANGE_AUDIENCES = frozenset({"https://outlook.office.com", "https://outlook.office365.com",
                                "00000002-0000-0ff1-ce00-000000000000"})


class TokenSigner:
    """Issues and verifies the emulator's tokens; the key lives only in memory."""

    def __init__(self, issuer_base: str) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex[:16]
        self.issuer_base = issuer_base
        self.issued: list[str] = []  # every token signed (the tests' canary looks for them in reports)

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
        return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def sign(self, claims: dict[str, Any]) -> str:
        token = jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})
        self.issued.append(token)
        return token

    def access_token(self, *, tenant_id: str, audience: str, client_id: str, scopes: list[str] | None = None,
                     roles: list[str] | None = None, user: Any = None, lifetime: int = 3600) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "aud": audience, "iss": f"https://sts.windows.net/{tenant_id}/", "iat": now, "nbf": now,
            "exp": now + lifetime, "appid": client_id, "tid": tenant_id, "ver": "1.0", "uti": uuid.uuid4().hex,
        }
        if user is not None:
            claims.update({"scp": " ".join(scopes or []), "upn": user.upn, "unique_name": user.upn,
                           "oid": user.object_id, "sub": user.object_id, "idtyp": "user"})
        else:
            claims.update({"roles": roles or [], "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, client_id)),
                           "idtyp": "app"})
        return self.sign(claims)

    def id_token(self, *, tenant_id: str, client_id: str, user: Any, nonce: str | None) -> str:
        now = int(time.time())
        claims = {"aud": client_id, "iss": f"{self.issuer_base}/{tenant_id}/v2.0", "iat": now, "nbf": now,
                  "exp": now + 3600, "tid": tenant_id, "oid": user.object_id, "sub": user.object_id,
                  "preferred_username": user.upn, "name": user.upn.split("@")[0].title(), "ver": "2.0"}
        if nonce:
            claims["nonce"] = nonce
        return self.sign(claims)

    def verify(self, token: str, audiences: frozenset[str] | set[str]) -> dict[str, Any] | None:
        """The claims of a token this emulator signed for one of `audiences` and not expired, else None."""
        try:
            return jwt.decode(token, self._key.public_key(), algorithms=["RS256"], audience=list(audiences),
                              options={"require": ["exp", "aud"]})
        except jwt.PyJWTError:
            return None


def client_info(user: Any, tenant_id: str) -> str:
    raw = json.dumps({"uid": user.object_id, "utid": tenant_id}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
