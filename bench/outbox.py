"""How far the relay is behind: the bench waits for it before it moves on."""

from __future__ import annotations

import asyncpg

from bench.environment import Environment
from testing.waiting import wait_until


async def unsent(environment: Environment) -> int:
    connection = await asyncpg.connect(
        host=environment.pg_host,
        port=environment.pg_port,
        user="cdo",
        password="cdo",
        database=environment.database,
    )
    try:
        return int(
            await connection.fetchval("SELECT count(*) FROM outbox_events WHERE sent_at IS NULL")
        )
    finally:
        await connection.close()


async def drained(environment: Environment, limit_s: float = 300) -> tuple[int, float]:
    """(rows unsent when called, seconds until none were)."""
    first = await unsent(environment)

    async def none_unsent() -> bool:
        return await unsent(environment) == 0

    return first, await wait_until(
        none_unsent, limit_s=limit_s, what="the relay to send every event", poll_s=0.2
    )
