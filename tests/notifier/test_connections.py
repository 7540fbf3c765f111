"""The sweep of idle names' pools, against pools that stand for httpx's: it closes them one after
the other, and a webhook may come for a name between two closes."""

from __future__ import annotations

import asyncio
import contextlib
import time

import httpx
import pytest

from notifier import connections
from notifier.connections import PoolPerName


class _Pool(httpx.AsyncBaseTransport):
    """Answers 200; its close waits until `release` is set, after announcing it on `closing`."""

    def __init__(self, closing: asyncio.Event, release: asyncio.Event) -> None:
        self.closing, self.release = closing, release
        self.closed = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, request=request)

    async def aclose(self) -> None:
        self.closing.set()
        await self.release.wait()
        self.closed.set()


async def test_a_name_used_while_the_sweep_closes_another_keeps_the_pool_it_was_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(connections, "SWEEP_S", 0.0)
    closing, release = asyncio.Event(), asyncio.Event()
    given: list[_Pool] = []

    def new_pool() -> _Pool:
        given.append(_Pool(closing, release))
        return given[-1]

    transport = PoolPerName()
    monkeypatch.setattr(transport, "_new_pool", new_pool)
    for name in ("a.example", "b.example"):
        await transport.handle_async_request(httpx.Request("POST", f"https://{name}/hook"))
    long_ago = time.monotonic() - connections.IDLE_S
    for key, (pool, _) in list(transport._pools.items()):
        transport._pools[key] = (pool, long_ago)  # both unused for IDLE_S
    sweep = transport._sweeper
    assert sweep is not None

    await asyncio.wait_for(closing.wait(), 10)  # the sweep is closing a.example's pool
    answer = await transport.handle_async_request(httpx.Request("POST", "https://b.example/hook"))
    used_for_b = transport._pools[("https", "b.example", None)][0]
    release.set()
    # The sweep closes what it took out in the same step as the first close ends: b.example's
    # pool too, had it still taken the one the webhook was given.
    await asyncio.wait_for(given[0].closed.wait(), 10)

    assert answer.status_code == 200
    assert isinstance(used_for_b, _Pool)
    assert not used_for_b.closed.is_set()
    sweep.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sweep
