"""The notifier's Kafka consumer: decode → record deliveries → commit offsets.

Offsets are committed only after the delivery rows are committed in PostgreSQL, so a crash or a
rebalance re-reads at most the uncommitted batch, which maps onto the same webhook ids (nothing
is recorded twice). Replicas share the partitions through one consumer group.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from opentelemetry import trace
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.kit.clock import utcnow
from broker.kit.db import database_unavailable
from broker.kit.metrics import gauges
from broker.kit.telemetry import extract, inject, kafka_attributes
from broker.outbox import topics
from notifier.autocommit import AutocommitConnection
from notifier.intake import header_of, record_deliveries

logger = logging.getLogger(__name__)
TOPICS = (topics.APPROVALS, topics.REQUESTS, topics.GRANTS)


class NotificationConsumer:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        bootstrap_servers: str,
        group_id: str,
        *,
        on_recorded: Callable[[], None] = lambda: None,
        start_at: str = "earliest",
        tracer_provider: trace.TracerProvider | None = None,
    ) -> None:
        self._sessions = sessionmaker
        self._bootstrap = bootstrap_servers
        self._group_id = group_id
        self._on_recorded = on_recorded
        self._start_at = start_at
        self.assigned = asyncio.Event()  # set once this member holds partitions
        self._tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)
        self._lag_measured_at = float("-inf")
        self.turned_at = 0.0  # event-loop time of the last turn of its loop (liveness)
        self._lag_keys: set[tuple[str, int]] = set()

    def _consumer(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            *TOPICS,
            bootstrap_servers=self._bootstrap,
            group_id=self._group_id,
            enable_auto_commit=False,
            # A new group reads the topics from the start, so nothing before its first commit is
            # missed; `latest` is for tests and demos that must not replay history.
            auto_offset_reset=self._start_at,
        )

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 0.5
        while not stop.is_set():
            self.turned_at = asyncio.get_running_loop().time()
            consumer = self._consumer()
            try:
                await consumer.start()
                backoff = 0.5
                await self._consume(consumer, stop)
            except (KafkaError, OSError, DBAPIError) as exc:
                if isinstance(exc, DBAPIError) and not database_unavailable(exc):
                    raise
                # Kafka or PostgreSQL away: nothing committed is lost; start again after a pause
                logger.warning("consumer interrupted (%r); restarting in %.1fs", exc, backoff)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                backoff = min(backoff * 2, 10.0)
            finally:
                with contextlib.suppress(Exception):
                    await consumer.stop()

    async def _consume(self, consumer: AIOKafkaConsumer, stop: asyncio.Event) -> None:
        database = AutocommitConnection(self._sessions)
        try:
            await self._consume_into(database, consumer, stop)
        finally:
            await database.close()

    async def _consume_into(
        self, database: AutocommitConnection, consumer: AIOKafkaConsumer, stop: asyncio.Event
    ) -> None:
        while not stop.is_set():
            self.turned_at = asyncio.get_running_loop().time()
            batches = await consumer.getmany(timeout_ms=200, max_records=500)
            if consumer.assignment():
                self.assigned.set()
            await self._measure_lag(consumer)
            records = [record for batch in batches.values() for record in batch]
            if not records:
                continue
            spans = [self._process_span(record) for record in records]
            try:
                # One statement, atomic on its own: the batch's rows are all durable or none.
                await record_deliveries(
                    database,
                    records,
                    now=utcnow(),
                    traceparents=[inject(span)[0] for span in spans],
                )
                # The rows are durable: the worker need not wait for Kafka's offset commit.
                self._on_recorded()
                await consumer.commit()
            except BaseException as exc:
                for span in spans:
                    span.record_exception(exc)
                    span.set_status(trace.StatusCode.ERROR, repr(exc))
                raise
            finally:
                for span in spans:
                    span.end()

    async def _measure_lag(self, consumer: AIOKafkaConsumer) -> None:
        """Per partition: the log end (as of the last fetch) minus where this member reads, at
        most once a second. Partitions that moved to another member leave the gauge."""
        now = asyncio.get_running_loop().time()
        if now - self._lag_measured_at < 1.0:
            return
        self._lag_measured_at = now
        lag: dict[tuple[str, int], int] = {}
        for tp in consumer.assignment():
            end = consumer.highwater(tp)
            if end is not None:
                lag[(tp.topic, tp.partition)] = max(0, end - await consumer.position(tp))
        for gone in self._lag_keys - lag.keys():
            gauges.consumer_lag.pop(gone, None)
        gauges.consumer_lag.update(lag)
        self._lag_keys = set(lag)

    def _process_span(self, record: Any) -> trace.Span:
        """A `process` span per message, continuing the trace the message carries (the
        producer's publish span). Its context is what the message's deliveries continue."""
        return self._tracer.start_span(
            f"process {record.topic}",
            context=extract(header_of(record, "traceparent"), header_of(record, "tracestate")),
            kind=trace.SpanKind.CONSUMER,
            attributes=kafka_attributes(
                record.topic,
                "process",
                record.key,
                {
                    "messaging.kafka.offset": record.offset,
                    "messaging.destination.partition.id": str(record.partition),
                    "messaging.consumer.group.name": self._group_id,
                    "messaging.message.id": header_of(record, "ce_id"),
                },
            ),
        )
