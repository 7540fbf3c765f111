"""Trusting an existing identity provider: a province that already runs one keeps it.

When EXTERNAL_ISSUER and EXTERNAL_JWKS_URL are set, access tokens whose `iss` is that issuer are
verified against its JWKS (fetched over HTTPS and cached) and mapped to an organisation through
one claim (EXTERNAL_ORG_CLAIM). Scopes come from `scope` (space-separated) or `scp` (a list).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

JWKS_TTL_S = 300.0
ALGORITHMS = ["RS256", "ES256", "PS256"]


class ExternalTokenRefused(ValueError):
    pass


@dataclass
class ExternalIssuer:
    issuer: str
    jwks_url: str
    org_claim: str
    audience: str | None
    _keys: KeySet | None = None
    _fetched_at: float = field(default=0.0)

    async def _keyset(self, *, refresh: bool = False) -> KeySet:
        if refresh or self._keys is None or time.monotonic() - self._fetched_at > JWKS_TTL_S:
            async with httpx.AsyncClient(timeout=5.0, trust_env=False) as http:
                response = await http.get(self.jwks_url)
                response.raise_for_status()
            self._keys = KeySet.import_key_set(response.json())
            self._fetched_at = time.monotonic()
        return self._keys

    async def verify(self, token: str) -> dict[str, Any]:
        try:
            decoded = jwt.decode(token, await self._keyset(), algorithms=ALGORITHMS)
        except (JoseError, ValueError):
            # A key rotated at the provider since we cached its JWKS: fetch once more.
            try:
                decoded = jwt.decode(token, await self._keyset(refresh=True), algorithms=ALGORITHMS)
            except (JoseError, ValueError) as exc:
                raise ExternalTokenRefused("signature does not verify") from exc
        claims: dict[str, Any] = decoded.claims
        expected: dict[str, Any] = {
            "iss": {"essential": True, "value": self.issuer},
            "exp": {"essential": True},
            self.org_claim: {"essential": True},
        }
        if self.audience is not None:
            expected["aud"] = {"essential": True, "value": self.audience}
        try:
            JWTClaimsRegistry(**expected).validate(claims)
        except JoseError as exc:
            raise ExternalTokenRefused(exc.error) from exc
        return claims


def scopes_of(claims: dict[str, Any]) -> frozenset[str]:
    if isinstance(claims.get("scp"), list):
        return frozenset(str(s) for s in claims["scp"])
    return frozenset(str(claims.get("scope", "")).split())
