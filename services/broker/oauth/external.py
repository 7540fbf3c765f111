"""Trusting an existing identity provider: a province that already runs one keeps it.

When EXTERNAL_ISSUER and EXTERNAL_JWKS_URL are set, access tokens whose `iss` is that issuer are
verified against its JWKS and mapped to an organisation through one claim (EXTERNAL_ORG_CLAIM).
Scopes come from `scope` (space-separated) or `scp` (a list).

- The audience is always checked (RFC 8725 section 3.9): `aud` must name EXTERNAL_AUDIENCE, or,
  when that is unset, the broker itself (OAUTH_ISSUER, the `aud` of its own tokens), so a token
  the provider issued for another service is never accepted here.
- The JWKS is cached for `JWKS_TTL_S`. A token signed by a key the cache does not hold (the
  provider rotated) fetches it again, but at most once per EXTERNAL_JWKS_MIN_REFETCH seconds and
  one fetch at a time: a stream of forged tokens with made-up `kid`s costs the provider nothing.
  A token whose `kid` is known but whose signature fails is refused without any fetch. When the
  provider cannot be reached the cached keys go on serving; with none, the answer is 503.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact
from joserfc.jwt import JWTClaimsRegistry

JWKS_TTL_S = 300.0
ALGORITHMS = ["RS256", "ES256", "PS256"]
logger = logging.getLogger(__name__)


class ExternalTokenRefused(ValueError):
    pass


class ExternalKeysUnavailable(RuntimeError):
    """The provider's JWKS could not be fetched and none is cached."""


def _kid_of(token: str) -> str | None:
    try:
        kid = extract_compact(token.encode()).protected.get("kid")
    except (JoseError, ValueError):
        return None
    return kid if isinstance(kid, str) else None


@dataclass
class ExternalIssuer:
    issuer: str
    jwks_url: str
    org_claim: str
    audience: str
    min_refetch_s: float = 60.0
    _keys: KeySet | None = None
    _fetched_at: float = -math.inf  # the last attempt, successful or not
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def _due(self, *, unknown_kid: bool) -> bool:
        age = time.monotonic() - self._fetched_at
        if self._keys is None:
            return age >= self.min_refetch_s  # a provider that is down is not asked every call
        return age > JWKS_TTL_S or (unknown_kid and age >= self.min_refetch_s)

    async def _keyset(self, *, unknown_kid: bool = False) -> KeySet:
        if self._due(unknown_kid=unknown_kid):
            async with self._lock:  # one fetch at a time; those who waited use its result
                if self._due(unknown_kid=unknown_kid):
                    await self._fetch()
        if self._keys is None:
            raise ExternalKeysUnavailable(f"the identity provider's keys ({self.jwks_url})")
        return self._keys

    async def _fetch(self) -> None:
        self._fetched_at = time.monotonic()
        try:
            async with httpx.AsyncClient(timeout=5.0, trust_env=False) as http:
                response = await http.get(self.jwks_url)
                response.raise_for_status()
            self._keys = KeySet.import_key_set(response.json())
        except (httpx.HTTPError, ValueError, JoseError) as exc:
            logger.warning("could not fetch the identity provider's JWKS: %r", exc)

    async def verify(self, token: str) -> dict[str, Any]:
        keys = await self._keyset()
        kid = _kid_of(token)
        if kid is not None and all(key.kid != kid for key in keys.keys):
            keys = await self._keyset(unknown_kid=True)  # rotated at the provider, or forged
        try:
            decoded = jwt.decode(token, keys, algorithms=ALGORITHMS)
        except (JoseError, ValueError) as exc:
            raise ExternalTokenRefused("signature does not verify") from exc
        claims: dict[str, Any] = decoded.claims
        expected: dict[str, Any] = {
            "iss": {"essential": True, "value": self.issuer},
            "aud": {"essential": True, "value": self.audience},
            "exp": {"essential": True},
            self.org_claim: {"essential": True},
        }
        try:
            JWTClaimsRegistry(**expected).validate(claims)
        except JoseError as exc:
            raise ExternalTokenRefused(exc.error) from exc
        return claims


def scopes_of(claims: dict[str, Any]) -> frozenset[str]:
    if isinstance(claims.get("scp"), list):
        return frozenset(str(s) for s in claims["scp"])
    return frozenset(str(claims.get("scope", "")).split())
