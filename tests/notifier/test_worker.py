"""The delivery worker against real PostgreSQL and real receivers on loopback: retries on the
schedule under one webhook-id, the dead-letter path and replay, 410, rotation, and no
head-of-line blocking (measured in counts)."""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY, generate_latest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks import Webhook

from broker.audit.actor import Actor
from broker.webhooks.service import register_endpoint, replay_delivery, rotate_secret
from core.clock import utcnow
from core.metrics import instruments
from core.models.outbox import OutboxEvent
from core.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from core.webhooks.secrets import cipher_from_settings
from notifier.delivery import webhook_client
from notifier.worker import DeliveryWorker
from testing.prometheus import series_value
from testing.receivers import Received, Receiver, Reply, running_receiver
from testing.settings import Settings
from testing.waiting import wait_until

pytestmark = pytest.mark.integration
Sessions = async_sessionmaker[AsyncSession]


async def _body_org(sessionmaker: Sessions, seeded: Any) -> str:
    """A fresh organisation for each test, so endpoints and deliveries never mix."""
    from core.models.directory import Organisation

    org_id = f"test-rcv-{secrets.token_hex(4)}"
    async with sessionmaker() as session:
        session.add(
            Organisation(
                id=org_id, name="测试接收方", name_en="Test receiver", kind="department",
                level="city", division_code="440100", government_id="gz-gov", pilot=True,
            )
        )  # fmt: skip
        await session.commit()
    return org_id


@pytest.fixture
def fast(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "webhook_allow_private_urls": True,
            "webhook_retry_schedule": "0.2,0.4,0.6",
            "webhook_timeout_seconds": 0.5,
            "webhook_concurrency_per_endpoint": 2,
        }
    )


@asynccontextmanager
async def running_worker(sessionmaker: Sessions, settings: Settings) -> AsyncIterator[None]:
    stop = asyncio.Event()
    async with webhook_client() as client:
        worker = DeliveryWorker(
            sessionmaker,
            settings,
            cipher_from_settings(settings),
            client=client,
            poll_interval_s=0.05,
        )
        task = asyncio.create_task(worker.run(stop))
        try:
            yield
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)


async def _endpoint(sessionmaker: Sessions, settings: Settings, org: str, url: str) -> str:
    async with sessionmaker() as session:
        _, secret = await register_endpoint(
            session, actor=Actor(org), url=url, cipher=cipher_from_settings(settings),
            allow_private=True, now=utcnow(),
        )  # fmt: skip
        await session.commit()
    assert secret is not None
    return secret


async def _queue(sessionmaker: Sessions, org: str, count: int = 1) -> list[str]:
    ids = [f"msg_test{secrets.token_hex(10)}" for _ in range(count)]
    now = utcnow()
    async with sessionmaker() as session:
        session.add_all(
            WebhookDelivery(
                id=i,
                organisation_id=org,
                event_type="approval.requested",
                ce_id=i,
                request_id=None,
                payload={"type": "approval.requested", "timestamp": now.isoformat(), "data": {}},
                traceparent=None,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
            for i in ids
        )
        await session.commit()
    return ids


async def _delivery(sessionmaker: Sessions, delivery_id: str) -> WebhookDelivery:
    async with sessionmaker() as session:
        row = await session.get(WebhookDelivery, delivery_id)
        assert row is not None
        return row


def _status_is(sessionmaker: Sessions, delivery_id: str, status: str) -> Callable[[], Any]:
    async def check() -> bool:
        return (await _delivery(sessionmaker, delivery_id)).status == status

    return check


def failing_then_ok(failures: int) -> Callable[[Received], Any]:
    seen = 0

    async def handler(_: Received) -> Reply:
        nonlocal seen
        seen += 1
        return Reply(500) if seen <= failures else Reply(200)

    return handler


async def test_three_failures_then_success_is_four_attempts_with_one_webhook_id(
    sessionmaker: Sessions, fast: Settings, seeded: Any
) -> None:
    org = await _body_org(sessionmaker, seeded)
    async with running_receiver() as receiver:
        receiver.handler = failing_then_ok(3)
        secret = await _endpoint(sessionmaker, fast, org, receiver.url)
        [delivery_id] = await _queue(sessionmaker, org)
        async with running_worker(sessionmaker, fast):
            await wait_until(
                _status_is(sessionmaker, delivery_id, "delivered"), limit_s=20, what="delivery"
            )

    assert len(receiver.requests) == 4
    assert {r.headers["webhook-id"] for r in receiver.requests} == {delivery_id}
    for received in receiver.requests:
        Webhook(secret).verify(received.body, received.headers)
    async with sessionmaker() as session:
        attempts = list(
            await session.scalars(
                select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id)
                .order_by(WebhookAttempt.attempted_at)
            )
        )  # fmt: skip
    assert [(a.status_code, a.outcome) for a in attempts] == [
        (500, "retry"), (500, "retry"), (500, "retry"), (200, "delivered"),
    ]  # fmt: skip
    gaps = [
        (b.attempted_at - a.attempted_at).total_seconds() for a, b in itertools.pairwise(attempts)
    ]
    schedule = [0.2, 0.4, 0.6]
    assert all(gap >= step * 0.8 for gap, step in zip(gaps, schedule, strict=True)), gaps


def _dead_count(org: str) -> float:
    instruments()  # the series exist from the first read
    return series_value(generate_latest(REGISTRY).decode(), "cdo_webhook_dead_total", endpoint=org)


async def test_a_receiver_that_never_answers_ends_in_the_dlq_and_a_replay_delivers(
    sessionmaker: Sessions, fast: Settings, seeded: Any
) -> None:
    org = await _body_org(sessionmaker, seeded)
    died_before = _dead_count(org)
    async with running_receiver() as receiver:
        release = receiver.hang()
        await _endpoint(sessionmaker, fast, org, receiver.url)
        [delivery_id] = await _queue(sessionmaker, org)
        async with running_worker(sessionmaker, fast):
            await wait_until(
                _status_is(sessionmaker, delivery_id, "dead"), limit_s=30, what="dead letter"
            )
            dead = await _delivery(sessionmaker, delivery_id)
            assert dead.attempts == 4
            assert _dead_count(org) == died_before + 1  # what the dead-letter alert watches
            async with sessionmaker() as session:
                dlq = await session.scalar(
                    select(OutboxEvent).where(
                        OutboxEvent.topic == "datashare.notifications.dlq",
                        OutboxEvent.key == delivery_id,
                    )
                )
            assert dlq is not None
            assert dlq.data["webhook_id"] == delivery_id

            release.set()
            receiver.answer(200)
            async with sessionmaker() as session:
                await replay_delivery(
                    session, actor=Actor(org), organisation_id=org, delivery_id=delivery_id,
                    force=False, now=utcnow(),
                )  # fmt: skip
                await session.commit()
            await wait_until(
                _status_is(sessionmaker, delivery_id, "delivered"),
                limit_s=20,
                what="replayed delivery",
            )
    assert {r.headers["webhook-id"] for r in receiver.requests} == {delivery_id}


async def test_410_disables_the_endpoint(
    sessionmaker: Sessions, fast: Settings, seeded: Any
) -> None:
    org = await _body_org(sessionmaker, seeded)
    async with running_receiver() as receiver:
        receiver.answer(410)
        await _endpoint(sessionmaker, fast, org, receiver.url)
        first, second = await _queue(sessionmaker, org, 2)
        async with running_worker(sessionmaker, fast):
            for delivery_id in (first, second):
                await wait_until(
                    _status_is(sessionmaker, delivery_id, "undeliverable"),
                    limit_s=20,
                    what="410 handling",
                )
    async with sessionmaker() as session:
        endpoint = await session.scalar(
            select(WebhookEndpoint).where(WebhookEndpoint.organisation_id == org)
        )
    assert endpoint is not None
    assert endpoint.disabled_at is not None
    assert len(receiver.requests) <= 2


async def test_during_a_rotation_either_secret_verifies_and_only_the_new_after(
    sessionmaker: Sessions, fast: Settings, seeded: Any
) -> None:
    org = await _body_org(sessionmaker, seeded)
    async with running_receiver() as receiver:
        old = await _endpoint(sessionmaker, fast, org, receiver.url)
        async with sessionmaker() as session:
            _, new = await rotate_secret(
                session, actor=Actor(org), cipher=cipher_from_settings(fast),
                overlap=timedelta(hours=1), now=utcnow(),
            )  # fmt: skip
            await session.commit()
        [during] = await _queue(sessionmaker, org)
        async with running_worker(sessionmaker, fast):
            await wait_until(
                _status_is(sessionmaker, during, "delivered"), limit_s=20, what="delivery"
            )
        async with sessionmaker() as session:
            await rotate_secret(
                session, actor=Actor(org), cipher=cipher_from_settings(fast),
                overlap=timedelta(0), now=utcnow(),
            )  # fmt: skip
            await session.commit()
        async with sessionmaker() as session:
            endpoint = await session.scalar(
                select(WebhookEndpoint).where(WebhookEndpoint.organisation_id == org)
            )
            assert endpoint is not None
            newest = cipher_from_settings(fast).decrypt(endpoint.secret_ciphertext)
        [after] = await _queue(sessionmaker, org)
        async with running_worker(sessionmaker, fast):
            await wait_until(
                _status_is(sessionmaker, after, "delivered"), limit_s=20, what="delivery"
            )

    first, second = receiver.requests
    assert len(first.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(first.body, first.headers)
    Webhook(new).verify(first.body, first.headers)
    Webhook(newest).verify(second.body, second.headers)
    for stale in (old, new):
        with pytest.raises(Exception, match=r"(?i)signature"):
            Webhook(stale).verify(second.body, second.headers)


async def test_a_dead_endpoint_does_not_hold_up_twenty_healthy_ones(
    sessionmaker: Sessions, fast: Settings, seeded: Any
) -> None:
    slow = fast.model_copy(update={"webhook_timeout_seconds": 5.0})
    async with AsyncExitStack() as stack:
        dead = await stack.enter_async_context(running_receiver())
        release = dead.hang()
        dead_org = await _body_org(sessionmaker, seeded)
        await _endpoint(sessionmaker, slow, dead_org, dead.url)
        healthy: list[tuple[Receiver, str]] = []
        for _ in range(20):
            receiver = await stack.enter_async_context(running_receiver())
            org = await _body_org(sessionmaker, seeded)
            await _endpoint(sessionmaker, slow, org, receiver.url)
            healthy.append((receiver, org))
        await _queue(sessionmaker, dead_org, 30)  # queued first: oldest, so claimed first
        for _, org in healthy:
            await _queue(sessionmaker, org, 5)
        async with running_worker(sessionmaker, slow):
            for receiver, _ in healthy:
                await receiver.wait_for(5, limit_s=20)
            # All 100 healthy deliveries arrived while the dead endpoint held its first ones.
            in_flight_at_dead = len(dead.requests)
            release.set()
    assert sum(len(r.requests) for r, _ in healthy) == 100
    assert in_flight_at_dead <= slow.webhook_concurrency_per_endpoint
