"""Fixtures for the outbox: a private outbox table, relays that stop after the test.

The broker app of the test session runs its own relay over `public.outbox_events`. These tests
need relays they control, so they use an `outbox_events` table in a schema of their own
(testing.database.private_outbox).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from broker.outbox.relay import OutboxRelay
from core.db import create_sessionmaker
from core.kafka import client_options
from testing.database import private_outbox
from testing.outbox import FAST, Running, StartRelay
from testing.settings import Settings


@pytest.fixture(scope="session")
async def outbox_engine(owner_database_url: str) -> AsyncIterator[AsyncEngine]:
    async with private_outbox(owner_database_url) as engine:
        yield engine


@pytest.fixture
async def outbox(outbox_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on the private outbox, emptied for each test."""
    async with outbox_engine.begin() as connection:
        await connection.execute(text("DELETE FROM outbox_events"))
    return create_sessionmaker(outbox_engine)


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
