"""Fixtures for the outbox: a private outbox table (tests/private_outbox.py), relays that stop
after the test, Kafka reads."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from broker.kit.db import create_sessionmaker
from broker.kit.kafka import client_options
from broker.outbox import topics
from broker.outbox.relay import OutboxRelay
from broker.outbox.service import backlog, record_event
from broker.settings import Settings
from tests.private_outbox import private_outbox

# Quick to notice, quick to recover: tests wait on conditions, and these bound how long.
FAST = {"poll_interval": 0.05, "claim_interval": 0.2, "max_backoff": 1.0, "shutdown_grace": 3.0}
EVENT_TYPE = "cn.gov.gd.cdo.request.submitted"

Record = ConsumerRecord[bytes, bytes]


async def wait_until(
    condition: Callable[[], Awaitable[bool] | bool], within: float, what: str = "condition"
) -> float:
    """Poll `condition` until it holds; returns the seconds it took. Fails after `within`."""
    start = time.monotonic()
    while True:
        result = condition()
        if not isinstance(result, bool):
            result = await result
        if result:
            return time.monotonic() - start
        if time.monotonic() - start > within:
            pytest.fail(f"gave up after {within}s waiting for {what}")
        await asyncio.sleep(0.02)


@pytest.fixture(scope="session")
async def outbox_engine(owner_database_url: str) -> AsyncIterator[AsyncEngine]:
    # as the owner: the app's role may not create schemas
    async with private_outbox(owner_database_url) as engine:
        yield engine


@pytest.fixture
async def outbox(outbox_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on the private outbox, emptied for each test."""
    async with outbox_engine.begin() as connection:
        await connection.execute(text("DELETE FROM outbox_events"))
    return create_sessionmaker(outbox_engine)


async def pending(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        count, _ = await backlog(session)
    return count


async def drained(sessions: async_sessionmaker[AsyncSession]) -> bool:
    return await pending(sessions) == 0


async def record(
    sessions: async_sessionmaker[AsyncSession],
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


StartRelay = Callable[..., Running]


@pytest.fixture
async def relays(outbox_engine: AsyncEngine, settings: Settings) -> AsyncIterator[StartRelay]:
    """Starts relays over the private outbox; each stops gracefully after the test."""
    kafka = client_options(settings)
    started: list[Running] = []

    def start(relay_class: type[OutboxRelay] = OutboxRelay, **options: Any) -> Running:
        relay = relay_class(outbox_engine, kafka, **(FAST | options))
        stop = asyncio.Event()
        running = Running(relay, stop, asyncio.create_task(relay.run(stop)))
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop.set()
    ended = asyncio.gather(*(r.task for r in started), return_exceptions=True)
    outcomes = await asyncio.wait_for(ended, timeout=30)
    crashes = [o for o in outcomes if o is not None and not isinstance(o, asyncio.CancelledError)]
    assert not crashes, "a relay crashed"
