"""How far the relay is behind: the bench waits for it before it moves on."""

from __future__ import annotations

import asyncio
import time

import asyncpg

from bench.environment import Stack


async def unsent(stack: Stack) -> int:
    connection = await asyncpg.connect(
        host=stack.pg_host, port=stack.pg_port, user="cdo", password="cdo", database=stack.database
    )
    try:
        return int(
            await connection.fetchval("SELECT count(*) FROM outbox_events WHERE sent_at IS NULL")
        )
    finally:
        await connection.close()


async def drained(stack: Stack, limit_s: float = 300) -> tuple[int, float]:
    """(rows unsent when called, seconds until none were)."""
    start = time.monotonic()
    first = await unsent(stack)
    left = first
    while left:
        if time.monotonic() - start > limit_s:
            raise SystemExit(f"bench: the relay left {left} events unsent after {limit_s:.0f}s")
        await asyncio.sleep(0.2)
        left = await unsent(stack)
    return first, time.monotonic() - start
