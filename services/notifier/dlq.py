"""What `cdo-broker dlq list` and `cdo-broker dlq replay` do: read `datashare.dlq`, and send a
message back to the topic it came from once whatever made it unreadable is fixed (a newer
notifier deployed, or the value corrected in a file).

A replay carries the message's own key and headers (its `ce_id` too, so a message replayed twice
notifies once) and, unless `--force`, is refused while it still would not read.
"""

from __future__ import annotations

import asyncio
import base64
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import ConsumerRecord

from core import topics
from core.kafka import start_producer
from notifier.dead_letters import original_headers
from notifier.messages import Unreadable, header_of, read

READ_LIMIT_S = 30.0


@dataclass(frozen=True)
class _Replayed:
    """The message as its topic will get it again."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


class ReplayRefused(Exception):
    """The letter is not there, names no topic to go back to, or would still not read."""


def describe(record: ConsumerRecord[bytes, bytes]) -> dict[str, Any]:
    """A letter as one JSON object: where it is, why it is there, and the message as it came."""
    value: dict[str, str] = {}
    if record.value is not None:
        try:
            value["value"] = record.value.decode()
        except UnicodeDecodeError:
            value["value_base64"] = base64.b64encode(record.value).decode()
    return {
        "partition": record.partition,
        "offset": record.offset,
        "at": datetime.fromtimestamp(record.timestamp / 1000, UTC).isoformat(),
        "reason": header_of(record, "dlq_reason"),
        "error": header_of(record, "dlq_error"),
        "from": {
            "topic": header_of(record, "dlq_topic"),
            "partition": int(header_of(record, "dlq_partition") or -1),
            "offset": int(header_of(record, "dlq_offset") or -1),
        },
        "key": None if record.key is None else record.key.decode(errors="replace"),
        "headers": {
            name: bytes(raw).decode(errors="replace")
            for name, raw in original_headers(record.headers)
        },
        **value,
    }


async def letters(
    kafka: Mapping[str, Any], *, limit: int, topic: str | None
) -> list[dict[str, Any]]:
    """The newest `limit` letters (from `topic` only, if given), oldest first, as `describe`
    puts them. The whole topic is read: retention keeps it small."""
    newest: deque[ConsumerRecord[bytes, bytes]] = deque(maxlen=limit)
    partitions = await _partitions(kafka, topics.DLQ)
    consumer = AIOKafkaConsumer(**kafka, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[ConsumerRecord[bytes, bytes]] = []
        async with asyncio.timeout(READ_LIMIT_S):
            for partition in partitions:
                while await consumer.position(partition) < ends[partition]:
                    batch = await consumer.getmany(partition, timeout_ms=1000)
                    records += batch.get(partition, [])
    finally:
        await consumer.stop()
    for record in sorted(records, key=lambda r: (r.timestamp, r.partition, r.offset)):
        if topic is None or header_of(record, "dlq_topic") == topic:
            newest.append(record)
    return [describe(record) for record in newest]


async def _partitions(kafka: Mapping[str, Any], topic: str) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(**kafka)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return sorted(TopicPartition(topic, p["partition"]) for p in described["partitions"])


async def replay(
    kafka: Mapping[str, Any], *, partition: int, offset: int, value: bytes | None, force: bool
) -> dict[str, Any]:
    """Sends the letter at `partition`/`offset` (with `value` instead of its own, if given)
    back to its topic; answers where it went (`topic`, `partition`, `offset`)."""
    letter = await _letter(kafka, partition, offset)
    if letter is None:
        raise ReplayRefused(f"no message at {topics.DLQ}[{partition}]@{offset}")
    message = _Replayed(
        topic=header_of(letter, "dlq_topic") or "",
        key=letter.key,
        value=letter.value if value is None else value,
        headers=original_headers(letter.headers),
    )
    if message.topic not in topics.TOPICS or message.topic == topics.DLQ:
        raise ReplayRefused(f"{message.topic!r} is not a topic to replay to")
    try:
        read(message)
    except Unreadable as exc:
        if not force:
            raise ReplayRefused(f"it would not read: {exc} (--force sends it)") from None
    producer = await start_producer(kafka, "cdo-broker-dlq-replay")
    try:
        sent = await producer.send_and_wait(
            message.topic, message.value, key=message.key, headers=message.headers
        )
    finally:
        await producer.stop()
    return {"topic": sent.topic, "partition": sent.partition, "offset": sent.offset}


async def _letter(
    kafka: Mapping[str, Any], partition: int, offset: int
) -> ConsumerRecord[bytes, bytes] | None:
    consumer = AIOKafkaConsumer(**kafka, enable_auto_commit=False)
    await consumer.start()
    try:
        where = TopicPartition(topics.DLQ, partition)
        consumer.assign([where])
        if offset >= (await consumer.end_offsets([where]))[where]:
            return None
        consumer.seek(where, offset)
        async with asyncio.timeout(READ_LIMIT_S):
            while True:
                for record in (await consumer.getmany(where, timeout_ms=1000)).get(where, []):
                    if record.offset >= offset:
                        return record if record.offset == offset else None
    finally:
        await consumer.stop()
