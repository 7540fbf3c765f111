"""The consumer commits to Kafka the offsets of the messages it handled (their rows committed),
not a round trip per batch: while it runs, soon after a batch, and when it is told to stop, so
the next member of its group does not read them again."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka import TopicPartition
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import notifier.consumer
from core import topics
from core.kafka import client_options
from notifier.consumer import TOPICS, NotificationConsumer
from testing.deliveries import deliveries_for
from testing.events import approval_headers, approval_task, encoded
from testing.kafka import committed_offsets, group_at_the_end, produce
from testing.settings import Settings
from testing.waiting import wait_until

pytestmark = pytest.mark.integration
MESSAGES = 3


@pytest.fixture
async def group(settings: Settings) -> str:
    assert settings.kafka_bootstrap_servers
    name = f"test-offsets-{secrets.token_hex(4)}"
    await group_at_the_end(settings.kafka_bootstrap_servers, name, TOPICS)
    return name


@pytest.fixture
async def consumer(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], seeded: object, group: str
) -> AsyncIterator[tuple[NotificationConsumer, asyncio.Event, asyncio.Task[None]]]:
    consumer = NotificationConsumer(sessionmaker, client_options(settings), group)
    stop = asyncio.Event()
    running = asyncio.create_task(consumer.run(stop))
    try:
        await wait_until(consumer.assigned.is_set, limit_s=60, what="partitions assigned")
        yield consumer, stop, running
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)


async def _handled(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> dict[TopicPartition, int]:
    """Produces MESSAGES approval tasks, waits until their rows are recorded, and returns the
    offset after the last one on each partition they went to."""
    assert settings.kafka_bootstrap_servers
    request_id = f"req_test{uuid.uuid4().hex[:12]}"
    sent = await produce(
        settings.kafka_bootstrap_servers,
        topics.APPROVALS,
        [
            (
                f"gz-gaj-{n}".encode(),
                encoded(approval_task("gz-gaj", request_id)),
                approval_headers(),
            )
            for n in range(MESSAGES)
        ],
    )

    async def recorded() -> bool:
        return await deliveries_for(sessionmaker, request_id) == MESSAGES

    await wait_until(recorded, limit_s=60, what="the messages' rows")
    ends: dict[TopicPartition, int] = {}
    for metadata in sent:
        tp = TopicPartition(metadata.topic, metadata.partition)
        ends[tp] = max(ends.get(tp, 0), metadata.offset + 1)
    return ends


def _past(committed: dict[TopicPartition, int | None], ends: dict[TopicPartition, int]) -> bool:
    """At or past each end: the suite's app publishes too, so more may have come after ours."""
    return all((committed[tp] or 0) >= end for tp, end in ends.items())


async def test_what_the_consumer_handled_is_committed_while_it_runs(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    group: str,
    consumer: tuple[NotificationConsumer, asyncio.Event, asyncio.Task[None]],
) -> None:
    assert settings.kafka_bootstrap_servers
    ends = await _handled(settings, sessionmaker)

    async def committed() -> bool:
        assert settings.kafka_bootstrap_servers
        return _past(await committed_offsets(settings.kafka_bootstrap_servers, group, ends), ends)

    await wait_until(committed, limit_s=30, what="the handled offsets committed")
    assert not consumer[2].done()


async def test_a_consumer_told_to_stop_commits_what_it_handled(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    group: str,
    monkeypatch: pytest.MonkeyPatch,
    consumer: tuple[NotificationConsumer, asyncio.Event, asyncio.Task[None]],
) -> None:
    assert settings.kafka_bootstrap_servers
    monkeypatch.setattr(notifier.consumer, "COMMIT_EVERY_S", 3600.0)  # only the stop commits
    _, stop, running = consumer
    ends = await _handled(settings, sessionmaker)
    stop.set()
    await asyncio.wait_for(running, 30)

    committed = await committed_offsets(settings.kafka_bootstrap_servers, group, ends)
    assert _past(committed, ends), (committed, ends)
