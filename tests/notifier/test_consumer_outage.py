"""The consumer outlives PostgreSQL dropping its connection mid-statement (a restart): it starts
again and records the batch it had not committed. It used to let that error end the notifier
(found by bench/chaos, where a PostgreSQL restart stopped a notifier for good)."""

from __future__ import annotations

import asyncio
import secrets
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import topics
from core.kafka import client_options
from notifier.consumer import TOPICS, NotificationConsumer
from testing.database import waiting_for_a_lock
from testing.deliveries import deliveries_for
from testing.events import approval_headers, approval_task, encoded
from testing.kafka import group_at_the_end, produce
from testing.settings import Settings
from testing.waiting import wait_until

pytestmark = pytest.mark.integration


async def test_a_statement_cut_off_mid_batch_restarts_the_consumer_and_loses_nothing(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], seeded: object
) -> None:
    assert settings.kafka_bootstrap_servers
    group = f"test-outage-{secrets.token_hex(4)}"
    await group_at_the_end(settings.kafka_bootstrap_servers, group, TOPICS)
    request_id = f"req_test{uuid.uuid4().hex[:12]}"
    consumer = NotificationConsumer(sessionmaker, client_options(settings), group)
    stop = asyncio.Event()
    running = asyncio.create_task(consumer.run(stop))

    async def recorded() -> int:
        return await deliveries_for(sessionmaker, request_id)

    try:
        await wait_until(consumer.assigned.is_set, limit_s=60, what="partitions assigned")
        async with sessionmaker() as blocker:
            # The consumer's INSERT waits on this lock, so it is mid-statement when cut off.
            await blocker.execute(text("LOCK TABLE webhook_deliveries IN EXCLUSIVE MODE"))
            await produce(
                settings.kafka_bootstrap_servers,
                topics.APPROVALS,
                [(b"gz-gaj", encoded(approval_task("gz-gaj", request_id)), approval_headers())],
            )

            async def waiting_insert() -> list[int]:
                return await waiting_for_a_lock(sessionmaker, "%INSERT INTO webhook_deliveries%")

            await wait_until(waiting_insert, limit_s=60, what="the consumer's INSERT to wait")
            async with sessionmaker() as killer:
                for pid in await waiting_insert():
                    await killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            await blocker.rollback()

        await wait_until(recorded, limit_s=60, what="the batch recorded after the restart")
        assert not running.done(), running.exception() if running.done() else None
        # The cut-off statement failed a turn, which was retried: never dead-lettered.
        assert consumer.supervisor.health.restarts >= 1
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)
    assert await recorded() == 1
