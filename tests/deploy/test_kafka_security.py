"""Kafka as governments run it (`KAFKA_SECURITY=sasl_ssl deploy/local/stack`): TLS, SCRAM users
and ACLs. The broker's outbox relay publishes and the notifier's consumer reads over SASL_SSL,
each as its own principal, configured by the settings operators set (`KAFKA_SECURITY_PROTOCOL`,
`KAFKA_SASL_*`, `KAFKA_SSL_CAFILE`); a wrong password is refused, and a principal without an ACL
for a topic cannot write to it.

This Kafka runs in a state dir of its own on free ports and only Kafka starts (`start-kafka`);
`down` stops it whatever the outcome.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, TopicAuthorizationFailedError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.outbox.relay import OutboxRelay
from broker.outbox.repository import backlog
from core import topics
from core.db import create_sessionmaker
from core.health import kafka_ok
from core.kafka import client_options
from core.models.webhooks import WebhookDelivery
from core.outbox import record_event
from notifier.consumer import NotificationConsumer
from testing.database import private_outbox
from testing.events import approval_task
from testing.processes import free_port_run
from testing.settings import Settings
from testing.stacks import exported, own_kafka
from testing.waiting import wait_until

pytestmark = [
    pytest.mark.stack,
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        not (shutil.which("java") and shutil.which("mvn") and shutil.which("openssl")),
        reason="Kafka runs from its Maven jars (java, mvn); openssl makes its certificates",
    ),
]
APPROVER = "gz-rsj"


@pytest.fixture(scope="module")
async def secured(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[dict[str, str]]:
    """A Kafka that takes SASL_SSL only; the export lines `stack kafka-env` prints for it."""
    state = tmp_path_factory.mktemp("kafka-security") / "stack"
    async with own_kafka(state, free_port_run(2), env={"KAFKA_SECURITY": "sasl_ssl"}) as stack:
        yield exported(await stack.run("kafka-env"))


def as_principal(settings: Settings, kafka: dict[str, str], who: str = "") -> Settings:
    """The suite's settings on the secured Kafka, as the broker's principal or, with
    `who="NOTIFIER_"`, the notifier's (the names `stack kafka-env` prints)."""
    names = ("KAFKA_BOOTSTRAP_SERVERS", "KAFKA_SECURITY_PROTOCOL", "KAFKA_SASL_MECHANISM")
    return Settings.model_validate(
        {"DATABASE_URL": settings.database_url}
        | {name: kafka[name] for name in names}
        | {
            "KAFKA_SSL_CAFILE": kafka["KAFKA_SSL_CAFILE"],
            "KAFKA_SASL_USERNAME": kafka[f"{who}KAFKA_SASL_USERNAME"],
            "KAFKA_SASL_PASSWORD": kafka[f"{who}KAFKA_SASL_PASSWORD"],
        }
    )


async def test_the_relay_publishes_and_the_notifier_reads_over_sasl_ssl(
    secured: dict[str, str],
    settings: Settings,
    owner_database_url: str,
    seeded: Any,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    assert secured["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    broker = as_principal(settings, secured)
    notifier = as_principal(settings, secured, "NOTIFIER_")
    assert (broker.kafka_sasl_username, notifier.kafka_sasl_username) == (
        "cdo-broker",
        "cdo-notifier",
    )
    # The readiness probe connects as the process does.
    await kafka_ok(client_options(broker), 10)

    request_id = f"req_sasl_{uuid.uuid4().hex[:12]}"
    async with private_outbox(owner_database_url) as engine:
        outbox = create_sessionmaker(engine)
        async with outbox() as session:
            event = await record_event(
                session,
                topic=topics.APPROVALS,
                key=APPROVER,
                type="cn.gov.gd.cdo.approval.requested",
                data=approval_task(APPROVER, request_id),
                subject=request_id,
            )
            await session.commit()

        stop = asyncio.Event()
        relay = OutboxRelay.from_settings(engine, broker)
        consumer = NotificationConsumer(sessionmaker, client_options(notifier), "cdo-notifier")
        running = [asyncio.create_task(relay.run(stop)), asyncio.create_task(consumer.run(stop))]
        try:

            async def sent() -> bool:
                async with outbox() as session:
                    return (await backlog(session))[0] == 0

            async def recorded() -> bool:
                async with sessionmaker() as session:
                    rows = await session.scalars(
                        select(WebhookDelivery).where(WebhookDelivery.ce_id == event.event_id)
                    )
                    return [row.organisation_id for row in rows] == [APPROVER]

            await wait_until(sent, limit_s=60, what="the relay to publish as cdo-broker")
            await wait_until(recorded, limit_s=60, what="the notifier to read it as cdo-notifier")
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(*running), 30)


async def test_a_wrong_password_is_refused(
    secured: dict[str, str], settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = as_principal(settings, secured | {"KAFKA_SASL_PASSWORD": "not-the-password"})
    producer = AIOKafkaProducer(**client_options(wrong), request_timeout_ms=5000)
    try:
        with caplog.at_level(logging.ERROR), pytest.raises(KafkaConnectionError):
            await producer.start()
    finally:
        await producer.stop()
    assert "SaslAuthenticationFailed" in caplog.text


async def test_a_principal_without_an_acl_for_a_topic_cannot_write_to_it(
    secured: dict[str, str], settings: Settings
) -> None:
    # The notifier reads datashare.requests; only the broker writes to it.
    notifier = as_principal(settings, secured, "NOTIFIER_")
    producer = AIOKafkaProducer(**client_options(notifier), request_timeout_ms=5000)
    await producer.start()
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            await producer.send_and_wait(topics.REQUESTS, b"{}", key=b"not-allowed")
    finally:
        await producer.stop()
