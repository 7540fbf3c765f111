"""Reading what Kafka topics receive, and stopping or starting the stack's Kafka, for tests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord

from broker.outbox import topics
from broker.settings import Settings
from tests.conftest import REPO_ROOT

Record = ConsumerRecord[bytes, bytes]
STACK = REPO_ROOT / "deploy" / "local" / "stack"


def partition_count(topic: str = topics.REQUESTS) -> int:
    for line in (REPO_ROOT / "deploy" / "local" / "topics.txt").read_text().splitlines():
        name, _, partitions = line.partition(" ")
        if name == topic:
            return int(partitions)
    raise LookupError(topic)


class Tail:
    """What a topic receives from now on, read back on demand."""

    def __init__(self, consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> None:
        self._consumer = consumer
        self._partitions = partitions

    async def read(self, keys: Iterable[str], within: float = 30) -> list[Record]:
        """Every message with one of `keys` up to the topic's current end, per partition in
        offset order (so per key in the order Kafka stored them)."""
        wanted = {key.encode() for key in keys}
        end = await self._consumer.end_offsets(self._partitions)
        records: list[Record] = []
        async with asyncio.timeout(within):
            for partition in self._partitions:
                while await self._consumer.position(partition) < end[partition]:
                    batch = await self._consumer.getmany(partition, timeout_ms=1000)
                    records += [r for r in batch.get(partition, []) if r.key in wanted]
        return records


@asynccontextmanager
async def open_tail(bootstrap_servers: str, topic: str = topics.REQUESTS) -> AsyncIterator[Tail]:
    """What `topic` receives from now on."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, n) for n in range(partition_count(topic))]
        consumer.assign(partitions)
        for partition, offset in (await consumer.end_offsets(partitions)).items():
            consumer.seek(partition, offset)
        yield Tail(consumer, partitions)
    finally:
        await consumer.stop()


@pytest.fixture
async def tail(settings: Settings) -> AsyncIterator[Tail]:
    assert settings.kafka_bootstrap_servers
    async with open_tail(settings.kafka_bootstrap_servers) as opened:
        yield opened


def header(record: Record, name: str) -> str | None:
    values = [value.decode() for key, value in record.headers if key == name]
    assert len(values) <= 1, f"header {name} repeated"
    return values[0] if values else None


def ids_per_key(records: list[Record]) -> dict[str, list[str]]:
    """Each key's `ce_id`s in the order the topic holds them."""
    seen: dict[str, list[str]] = {}
    for r in records:
        assert r.key is not None
        event_id = header(r, "ce_id")
        assert event_id is not None
        seen.setdefault(r.key.decode(), []).append(event_id)
    return seen


def first_occurrences(ids: dict[str, list[str]]) -> dict[str, list[str]]:
    return {key: list(dict.fromkeys(values)) for key, values in ids.items()}


def payload(record: Record) -> Any:
    assert record.value is not None
    return json.loads(record.value)


async def stack(command: str) -> None:
    process = await asyncio.create_subprocess_exec(
        str(STACK), command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(process.communicate(), timeout=240)
    assert process.returncode == 0, f"stack {command}: {err.decode(errors='replace')}"


class KafkaSwitch:
    def __init__(self) -> None:
        self.down = False

    async def stop(self) -> None:
        self.down = True
        await stack("stop-kafka")

    async def start(self) -> None:
        await stack("start-kafka")
        self.down = False


@pytest.fixture
async def kafka() -> AsyncIterator[KafkaSwitch]:
    """Stops and starts the stack's Kafka; whatever happens, it runs again after the test."""
    switch = KafkaSwitch()
    try:
        yield switch
    finally:
        if switch.down:
            await switch.start()
