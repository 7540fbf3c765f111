"""Client-credentials tokens, cached per scope and renewed before they expire.

One token per scope string: the API scopes the client was given, and each
`dataset:<id>:read` on its own (the broker issues a grant token for one dataset at a time, and
for no longer than the grant runs). Concurrent callers wait for one token request, not many.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from cdo_broker_client.errors import error_from, no_answer


@dataclass(frozen=True)
class Token:
    access_token: str
    scope: str
    expires_at: float  # unix seconds
    obtained_at: float

    def fresh(self, now: float, renew_before: float) -> bool:
        """Still worth sending: not within `renew_before` seconds (or a tenth of its life,
        if shorter) of its expiry."""
        margin = min(renew_before, (self.expires_at - self.obtained_at) / 10)
        return now < self.expires_at - margin


@dataclass
class TokenSource:
    http: httpx.AsyncClient
    token_url: str
    client_id: str
    client_secret: str
    renew_before: float = 60.0
    clock: Callable[[], float] = time.time
    _tokens: dict[str, Token] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    async def get(self, scope: str = "") -> Token:
        """A token for `scope` ("" = every API scope the client may have)."""
        cached = self._tokens.get(scope)
        if cached is not None and cached.fresh(self.clock(), self.renew_before):
            return cached
        async with self._locks.setdefault(scope, asyncio.Lock()):
            cached = self._tokens.get(scope)
            if cached is not None and cached.fresh(self.clock(), self.renew_before):
                return cached
            token = await self._request(scope)
            self._tokens[scope] = token
            return token

    def forget(self, token: Token) -> None:
        """Drop a token the broker refused (revoked, or signed by a key it no longer has)."""
        if self._tokens.get(token.scope) is token:
            del self._tokens[token.scope]

    async def _request(self, scope: str) -> Token:
        form = {"grant_type": "client_credentials"} | ({"scope": scope} if scope else {})
        asked = self.clock()
        try:
            response = await self.http.post(
                self.token_url, data=form, auth=(self.client_id, self.client_secret)
            )
        except httpx.TransportError as exc:
            raise no_answer(exc, self.token_url) from exc
        if response.status_code != 200:
            raise error_from(response)
        body: dict[str, Any] = response.json()
        return Token(
            access_token=str(body["access_token"]),
            scope=scope,
            expires_at=asked + float(body.get("expires_in", 300)),
            obtained_at=asked,
        )
