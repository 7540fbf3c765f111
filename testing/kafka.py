"""Reading what Kafka topics receive, and putting messages on them, for tests and the fault run."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeAlias

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import RecordMetadata

from core import topics

Record: TypeAlias = Any  # aiokafka's ConsumerRecord[bytes, bytes]; aiokafka has no types
Message = tuple[bytes | None, bytes, list[tuple[str, bytes]]]  # key, value, headers


def partition_count(topic: str = topics.REQUESTS) -> int:
    """As deploy/local/stack created the topic."""
    return topics.PARTITIONS[topic]


def partitions_of(names: Iterable[str]) -> list[TopicPartition]:
    return [TopicPartition(t, n) for t in names for n in range(partition_count(t))]


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
        partitions = partitions_of([topic])
        consumer.assign(partitions)
        for partition, offset in (await consumer.end_offsets(partitions)).items():
            consumer.seek(partition, offset)
        yield Tail(consumer, partitions)
    finally:
        await consumer.stop()


async def group_at_the_end(bootstrap: str, group_id: str, names: Iterable[str]) -> None:
    """The topics hold earlier runs' events: the consumer group starts after them (its committed
    offsets are the topics' ends now)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = partitions_of(names)
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.commit(dict(ends.items()))
    finally:
        await consumer.stop()


async def committed_offsets(
    bootstrap: str, group_id: str, partitions: Iterable[TopicPartition]
) -> dict[TopicPartition, int | None]:
    """What `group_id` has committed for each partition (None: nothing), read without joining."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False
    )
    await consumer.start()
    try:
        return {tp: await consumer.committed(tp) for tp in partitions}
    finally:
        await consumer.stop()


async def produce(bootstrap: str, topic: str, messages: Sequence[Message]) -> list[RecordMetadata]:
    """Sends (key, value, headers) messages in order and waits for Kafka's acks."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        return [
            await producer.send_and_wait(topic, value, key=key, headers=headers)
            for key, value, headers in messages
        ]
    finally:
        await producer.stop()


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
