"""What reached Kafka during the run: every message of the broker's topics from the offsets they
had when the run began, deduplicated by its CloudEvents `ce_id` (the relay delivers at least once
across crashes), and how many a notifier dead-lettered (every event of the run is valid, so a
letter means one was wrongly refused)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from core import topics
from core.supervisor import Backoff, Supervisor
from testing.kafka import header, partitions_of

log = logging.getLogger(__name__)
TOPICS = (topics.REQUESTS, topics.APPROVALS, topics.GRANTS, topics.NOTIFICATIONS_DLQ)
NOT_CONSUMED = (topics.NOTIFICATIONS_DLQ, topics.DLQ)  # by the notifiers


class KafkaTally:
    def __init__(self, bootstrap_servers: str) -> None:
        self._bootstrap = bootstrap_servers
        self._start: dict[TopicPartition, int] = {}
        self.ce_ids: dict[str, set[str]] = {topic: set() for topic in TOPICS}
        self.messages: Counter[str] = Counter()  # per topic, duplicates included
        self.types_per_request: dict[str, set[str]] = {}  # datashare.requests, by key
        self.dead_lettered = 0  # messages on datashare.dlq
        self._positions: dict[TopicPartition, int] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._loop = Supervisor("kafka-tally", backoff=Backoff(0.5, 1.0), on_failure=self._close)

    async def mark_start(self, notifier_group: str) -> None:
        """Remember where each partition ends now, and make it the notifier group's committed
        position, so the run neither counts nor notifies what earlier runs left on the topics."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap, group_id=notifier_group, enable_auto_commit=False
        )
        await consumer.start()
        try:
            partitions = partitions_of((*TOPICS, topics.DLQ))
            consumer.assign(partitions)
            self._start = dict(await consumer.end_offsets(partitions))
            await consumer.commit(
                {
                    tp: OffsetAndMetadata(offset, "")
                    for tp, offset in self._start.items()
                    if tp.topic not in NOT_CONSUMED
                }
            )
        finally:
            await consumer.stop()

    @property
    def restarts(self) -> int:
        return self._loop.health.restarts

    async def run(self, stop: asyncio.Event) -> None:
        """Read on from where each partition was, until `stop`; through Kafka outages too."""
        self._positions = dict(self._start)
        try:
            await self._loop.run(self._read, stop)
        finally:
            await self._close()

    async def _read(self) -> float:
        if self._consumer is None:
            consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False)
            self._consumer = consumer
            await consumer.start()
            consumer.assign(list(self._positions))
            for partition, offset in self._positions.items():
                consumer.seek(partition, offset)
        batches = await self._consumer.getmany(timeout_ms=500, max_records=2000)
        for partition, records in batches.items():
            for record in records:
                self._count(record)
            if records:
                self._positions[partition] = records[-1].offset + 1
        return 0.0

    async def _close(self, _: Exception | None = None) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            with contextlib.suppress(Exception):
                await consumer.stop()

    def _count(self, record: Any) -> None:
        if record.topic == topics.DLQ:
            self.dead_lettered += 1
            log.warning("dead-lettered: %s", [(k, bytes(v)) for k, v in record.headers])
            return
        self.messages[record.topic] += 1
        ce_id = header(record, "ce_id")
        if ce_id is None:
            return
        self.ce_ids[record.topic].add(ce_id)
        if record.topic == topics.REQUESTS and record.key is not None:
            kind = header(record, "ce_type") or ""
            self.types_per_request.setdefault(record.key.decode(), set()).add(kind)

    def published(self) -> int:
        return sum(len(ids) for ids in self.ce_ids.values())

    def all_ids(self) -> set[str]:
        return set().union(*self.ce_ids.values())

    def duplicates(self) -> int:
        return sum(self.messages.values()) - self.published()
