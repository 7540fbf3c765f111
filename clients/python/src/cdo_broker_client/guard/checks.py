"""Is this grant token good for this dataset right now? Offline: the signature against the
broker's published keys, the claims, the `data_grant` it carries, and what the feed said."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, NamedTuple

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import GuestProtocol, RSAKey
from joserfc.jwt import JWTClaimsRegistry

from cdo_broker_client.guard.keys import KeyCache
from cdo_broker_client.guard.states import GrantStates

logger = logging.getLogger(__name__)
ALGORITHM = "RS256"
PROBLEM_BASE = "https://cdo-broker.gd.gov.cn/problems/"


class Granted(NamedTuple):
    """What a verified token grants, as the provider's app sees it (`scope["state"]["grant"]`)."""

    grant_id: str
    dataset_id: str
    fields: frozenset[str]
    purpose: str
    jurisdiction: str | None
    organisation_id: str
    client_id: str


class Refused(Exception):
    """The guard answers this as RFC 9457 problem JSON instead of calling the app."""

    def __init__(
        self, status: int, slug: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.slug, self.detail = status, slug, detail
        self.headers = headers or {}

    def body(self, instance: str) -> dict[str, Any]:
        return {
            "type": PROBLEM_BASE + self.slug,
            "title": self.slug.replace("-", " ").capitalize(),
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
        }


def _invalid(detail: str) -> Refused:
    challenge = f'Bearer error="invalid_token", error_description="{detail}"'
    return Refused(401, "invalid-token", detail, {"WWW-Authenticate": challenge})


class _UnknownKey(Exception):
    def __init__(self, kid: str) -> None:
        super().__init__(kid)
        self.kid = kid


class TokenChecker:
    def __init__(
        self,
        keys: KeyCache,
        states: GrantStates,
        *,
        issuer: str,
        audience: str,
        state_known: Callable[[], bool],
    ) -> None:
        self.keys = keys
        self.states = states
        self._state_known = state_known
        # validates exp and nbf against the clock at each call
        self._claims = JWTClaimsRegistry(
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            exp={"essential": True},
        )

    async def check(self, token: str, dataset_id: str) -> Granted:
        try:
            decoded = self._decode(token)
        except _UnknownKey as unknown:
            try:
                await self.keys.key_for(unknown.kid)  # a rotation: fetch the JWKS again
            except httpx.HTTPError:
                logger.warning("could not fetch the broker's JWKS", exc_info=True)
            try:
                decoded = self._decode(token)
            except _UnknownKey as still:
                raise _invalid("the token is not signed by a key the broker publishes") from still
        if str(decoded.header.get("typ", "")).lower() not in ("at+jwt", "application/at+jwt"):
            raise _invalid("not an access token (typ must be at+jwt)")
        try:
            self._claims.validate(decoded.claims)
        except JoseError as exc:
            raise _invalid(f"the token was refused: {exc.error}") from exc
        return self.granted(decoded.claims, dataset_id)

    def _decode(self, token: str) -> jwt.Token:
        """Signature and algorithm; the key found by the header's `kid` in the cache."""
        try:
            return jwt.decode(token, self._key_of, algorithms=[ALGORITHM])
        except _UnknownKey:
            raise
        except (JoseError, ValueError, TypeError) as exc:
            raise _invalid("the token is malformed or its signature does not verify") from exc

    def _key_of(self, token: GuestProtocol) -> RSAKey:
        kid = token.headers().get("kid")
        if not isinstance(kid, str):
            raise _invalid(f"the token must be {ALGORITHM} with a key id")
        key = self.keys.get(kid)
        if key is None:
            raise _UnknownKey(kid)
        return key

    def granted(self, claims: dict[str, Any], dataset_id: str) -> Granted:
        """The token's `data_grant` for `dataset_id`, if its grant is in force as far as known."""
        detail = next(
            (
                d
                for d in claims.get("authorization_details") or []
                if isinstance(d, dict)
                and d.get("type") == "data_grant"
                and d.get("dataset_id") == dataset_id
            ),
            None,
        )
        if detail is None:
            raise Refused(403, "not-granted", f"the token grants nothing of '{dataset_id}'")
        if not self._state_known():
            raise Refused(
                503,
                "grant-state-unknown",
                "the guard has not heard from the broker lately: it cannot tell whether the "
                "grant still stands",
                {"Retry-After": "5"},
            )
        grant_id = str(detail.get("grant_id"))
        status = self.states.refusal(grant_id)
        if status is not None:
            raise Refused(403, f"grant-{status}", f"grant {grant_id} is {status}")
        return Granted(
            grant_id=grant_id,
            dataset_id=dataset_id,
            fields=frozenset(str(f) for f in detail.get("fields") or []),
            purpose=str(detail.get("purpose", "")),
            jurisdiction=detail.get("jurisdiction"),
            organisation_id=str(claims.get("org_id", "")),
            client_id=str(claims.get("client_id", "")),
        )
