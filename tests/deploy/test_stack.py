"""deploy/local/stack itself: `up` is idempotent, and Kafka keeps its messages across a restart.

These start (or reuse) the real services and leave them running, as other suites need them.
"""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import ConsumerRecord

from core.topics import PARTITIONS
from testing.stacks import Stack

TOPIC = "datashare.requests"
SERVICES = {"kafka", "postgresql", "redis"}

# A cold `up` may install packages and download Kafka's jars.
pytestmark = [pytest.mark.stack, pytest.mark.timeout(900)]


STACK = Stack.default()  # what deploy/local/test started


async def running_pids() -> dict[str, int]:
    return await STACK.pids()


def exports(stdout: str) -> dict[str, str]:
    lines = stdout.splitlines()
    assert lines, "`up` printed nothing on stdout"
    assert all(line.startswith("export ") for line in lines), stdout
    return dict(re.findall(r"^export (\w+)=(\S+)$", stdout, re.M))


async def test_second_up_changes_nothing() -> None:
    first = await STACK.run("up")
    pids = await running_pids()
    assert set(pids) - {"jaeger"} == SERVICES  # Jaeger too, after a CDO_TRACING=jaeger `up`

    second = await STACK.run("up")

    assert second == first
    printed = exports(first)
    assert set(printed) == {
        "KAFKA_BOOTSTRAP_SERVERS",
        "DATABASE_URL",
        "MIGRATION_DATABASE_URL",
        "REDIS_URL",
    }
    # The broker's role, which may not change audit rows, and the owner, who migrates.
    assert printed["DATABASE_URL"].startswith("postgresql+asyncpg://cdo_app:")
    assert printed["MIGRATION_DATABASE_URL"].startswith("postgresql+asyncpg://cdo:")
    assert await running_pids() == pids


async def test_up_makes_the_contract_topics_with_their_partitions() -> None:
    bootstrap = exports(await STACK.run("up"))["KAFKA_BOOTSTRAP_SERVERS"]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(list(PARTITIONS))
    finally:
        await admin.close()
    assert {t["topic"]: len(t["partitions"]) for t in described} == PARTITIONS


async def _next_with_key(consumer: AIOKafkaConsumer, key: bytes) -> ConsumerRecord[bytes, bytes]:
    async for record in consumer:
        if record.key == key:
            return record
    raise AssertionError("consumer stopped before the message came")


async def test_kafka_keeps_messages_across_restart() -> None:
    bootstrap = exports(await STACK.run("up"))["KAFKA_BOOTSTRAP_SERVERS"]
    key = f"stack-test-{uuid.uuid4()}".encode()
    value = b'{"probe": "survives a broker restart"}'

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        sent = await producer.send_and_wait(TOPIC, value=value, key=key)
    finally:
        await producer.stop()

    kafka_before = (await running_pids())["kafka"]
    await STACK.restart_kafka()
    assert (await running_pids()).get("kafka") not in (None, kafka_before)

    partition = TopicPartition(TOPIC, sent.partition)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([partition])
        await consumer.seek_to_beginning(partition)
        record = await asyncio.wait_for(_next_with_key(consumer, key), timeout=60)
    finally:
        await consumer.stop()

    assert (record.offset, record.value) == (sent.offset, value)
