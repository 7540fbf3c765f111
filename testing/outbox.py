"""Outbox rows recorded and counted for the relay's tests, and relays that a test starts, kills
and stops (over a private outbox: testing.database.private_outbox)."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.outbox.relay import OutboxRelay
from broker.outbox.repository import backlog
from core import topics
from core.outbox import record_event

Sessions = async_sessionmaker[AsyncSession]
# Quick to notice, quick to recover: tests wait on conditions, and these bound how long.
FAST = {"poll_interval": 0.05, "claim_interval": 0.2, "max_backoff": 1.0, "shutdown_grace": 3.0}
EVENT_TYPE = "cn.gov.gd.cdo.request.submitted"


async def pending(sessions: Sessions) -> int:
    async with sessions() as session:
        count, _ = await backlog(session)
    return count


async def drained(sessions: Sessions) -> bool:
    return await pending(sessions) == 0


async def record(
    sessions: Sessions,
    keys: list[str],
    per_key: int,
    *,
    per_commit: int = 10,
    seed: int = 1,
    event_type: str = EVENT_TYPE,
    **options: Any,
) -> dict[str, list[str]]:
    """`per_key` events for every key, interleaved at random, committed `per_commit` at a time.
    Returns each key's event ids in the order they were recorded."""
    order = [key for key in keys for _ in range(per_key)]
    random.Random(seed).shuffle(order)
    recorded: dict[str, list[str]] = {key: [] for key in keys}
    async with sessions() as session:
        for n, key in enumerate(order, start=1):
            event = await record_event(
                session,
                topic=topics.REQUESTS,
                key=key,
                type=event_type,
                data={"request_id": key, "seq": len(recorded[key]), "note": "共享申请"},
                subject=key,
                **options,
            )
            recorded[key].append(event.event_id)
            if n % per_commit == 0:
                await session.commit()
        await session.commit()
    return recorded


def new_keys(count: int) -> list[str]:
    run = uuid.uuid4().hex[:8]
    return [f"req_outbox_{run}_{i:03d}" for i in range(count)]


@dataclass
class Running:
    relay: OutboxRelay
    stop: asyncio.Event
    task: asyncio.Task[None]

    async def kill(self) -> None:
        """Cancel the relay mid-work: nothing more is marked sent."""
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


# `start(relay_class=OutboxRelay, **options)`: a relay running until the test ends
StartRelay = Callable[..., Running]
