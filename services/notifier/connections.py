"""Connections to receivers, kept alive per registered name.

Delivery connects to the address it has just checked, under the registered name (see
notifier.delivery), and httpx pools connections by the address connected to. One pool for every
name would let a connection opened, and for HTTPS verified, for one name carry the webhook of
another name that shares the address. So each (scheme, name, port) has a pool of its own: within
it a connection is reused only for the same name, and only to an address this attempt resolved
and checked again (the pool keys its connections by that address). A connection unused for
KEEPALIVE_S is not reused (uvicorn and many servers close theirs after 5 s); a name unused for
IDLE_S has its pool and connections closed (looked for every SWEEP_S while any pool is open),
which is longer than any attempt may last, so nothing is in flight on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time

import httpx

KEEPALIVE_S = 4.0
IDLE_S = 120.0  # WEBHOOK_TIMEOUT is at most 60 s
SWEEP_S = 30.0
# Connections kept per name; more may be open at once. Few: httpcore walks a pool's connections
# on every request. Under bench/run delivery (40 in flight to one name, 3,000 webhooks, one
# notifier) 2 kept cost 1.04-1.09 ms CPU a delivery at 835-901/s, 8 kept 1.15-1.18 ms at
# 808-831/s, 64 kept 1.61-1.99 ms at 454-602/s, and a new connection each 0.91-0.97 ms at
# 672-685/s. At a webhook or two in flight to a name, as most are, every one is reused.
PER_NAME = 2


class PoolPerName(httpx.AsyncBaseTransport):
    def __init__(self, verify: ssl.SSLContext | bool = True) -> None:
        self._verify = verify
        self._pools: dict[tuple[str, str, int | None], tuple[httpx.AsyncHTTPTransport, float]] = {}
        self._sweeper: asyncio.Task[None] | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        now = time.monotonic()
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.create_task(self._sweep(), name="webhook-connections-sweep")
        name = request.extensions.get("sni_hostname") or request.url.host
        key = (request.url.scheme, name, request.url.port)
        pool = self._pools[key][0] if key in self._pools else self._new_pool()
        self._pools[key] = (pool, now)
        return await pool.handle_async_request(request)

    def _new_pool(self) -> httpx.AsyncHTTPTransport:
        return httpx.AsyncHTTPTransport(
            verify=self._verify,
            trust_env=False,  # no proxy: the connection goes to the checked address itself
            limits=httpx.Limits(
                max_connections=None,
                max_keepalive_connections=PER_NAME,
                keepalive_expiry=KEEPALIVE_S,
            ),
        )

    async def _sweep(self) -> None:
        """Closes the pools of names unused for IDLE_S, until none is left open: httpcore closes
        an expired connection only when its pool is next used, and a name may get no more."""
        while self._pools:
            await asyncio.sleep(SWEEP_S)
            now = time.monotonic()
            idle = [key for key, (_, used_at) in self._pools.items() if now - used_at >= IDLE_S]
            # All taken out before the first close is awaited: a name used during a close gets a
            # new pool, not one this sweep is about to close under its request.
            closing = [self._pools.pop(key)[0] for key in idle]
            for pool in closing:
                await pool.aclose()

    async def aclose(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        pools, self._pools = self._pools, {}
        for pool, _ in pools.values():
            await pool.aclose()
