"""The broker's signing keys, from its JWKS, cached; fetched again for a key id not seen yet.

The broker rotates by publishing a new key before it signs with it and keeping the old one
published until the old tokens have expired. A token with an unknown `kid` therefore makes the
guard fetch the JWKS again, at most once per `min_refresh_s` (so forged kids cannot make it
hammer the broker); keys no longer published are dropped at each fetch.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable

import httpx
from joserfc.jwk import RSAKey

logger = logging.getLogger(__name__)


class KeyCache:
    def __init__(
        self,
        http: httpx.AsyncClient,
        jwks_url: str,
        *,
        min_refresh_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self.jwks_url = jwks_url
        self._min_refresh_s = min_refresh_s
        self._clock = clock
        self._keys: dict[str, RSAKey] = {}
        self._fetched_at = -math.inf
        self._lock = asyncio.Lock()
        self.fetches = 0

    def get(self, kid: str) -> RSAKey | None:
        return self._keys.get(kid)

    async def key_for(self, kid: str) -> RSAKey | None:
        """The key, fetching the JWKS again if `kid` is unknown and the last fetch is old enough."""
        key = self._keys.get(kid)
        if key is not None or self._clock() - self._fetched_at < self._min_refresh_s:
            return key
        async with self._lock:
            if kid not in self._keys and self._clock() - self._fetched_at >= self._min_refresh_s:
                await self.refresh()
        return self._keys.get(kid)

    async def refresh(self) -> None:
        self._fetched_at = self._clock()
        self.fetches += 1
        response = await self._http.get(self.jwks_url)
        response.raise_for_status()
        keys: dict[str, RSAKey] = {}
        for entry in response.json().get("keys", []):
            if entry.get("kty") != "RSA" or entry.get("use", "sig") != "sig" or "kid" not in entry:
                continue
            keys[str(entry["kid"])] = RSAKey.import_key(entry)
        if not keys:
            logger.warning("the broker's JWKS at %s has no RSA signing key", self.jwks_url)
        self._keys = keys
