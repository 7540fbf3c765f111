"""The notifier's Kafka consumer, a pipeline: read → record deliveries → dead-letter → commit.

Each turn takes a batch. Every message is read (`notifier.messages`: a CloudEvent whose JSON
passes its event schema); what it asks for is recorded as delivery rows in PostgreSQL (one
statement for the batch); a message that cannot be read, or whose content the database refuses,
goes to `datashare.dlq` (`notifier.dead_letters`). A message's offset counts as handled only once
its rows are committed and Kafka has acknowledged its dead letters; the handled offsets are
committed to Kafka every COMMIT_EVERY_S (a turn comes at least every 200 ms) and when the
consumer is told to stop, not in a round trip per batch (at 100 messages a second, one batch
each, that was a twentieth of the notifier's py-spy samples, and the next batch waited for it).
So a crash or a rebalance re-reads at most that half second's handled messages and the batch in
hand, which map onto the same webhook ids: nothing is recorded or delivered twice.

A bad message never stops the consumer; an outage only delays it: with PostgreSQL or Kafka away
the turn fails, the supervisor (`core.supervisor`) drops the consumer and its connection
and starts again from the last commit after a backoff. Replicas share the partitions through one
consumer group.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata, TopicPartition
from opentelemetry import trace
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import topics
from core.clock import utcnow
from core.metrics import gauges
from core.supervisor import Backoff, Supervisor
from core.telemetry import extract, inject, kafka_attributes
from notifier.dead_letters import DeadLetter, DeadLetterProducer
from notifier.intake import Intake, record_deliveries
from notifier.messages import Event, Reason, Unreadable, header_of, read
from notifier.repository.autocommit import AutocommitConnection
from notifier.repository.deliveries import NOT_TAKING, Taking

logger = logging.getLogger(__name__)
TOPICS = (topics.APPROVALS, topics.REQUESTS, topics.GRANTS)
COMMIT_EVERY_S = 0.5
# The worker's `hand_over`: runs the batch's write with the slots it may take (notifier.worker).
HandOver = Callable[[Callable[[Taking], Awaitable[Intake]]], Awaitable[Intake]]


class NotificationConsumer:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        kafka: Mapping[str, Any],
        group_id: str,
        *,
        on_recorded: Callable[[], None] = lambda: None,
        hand_over: HandOver | None = None,
        start_at: str = "earliest",
        tracer_provider: trace.TracerProvider | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self._sessions = sessionmaker
        self._kafka = kafka  # core.kafka.client_options: the servers, TLS and SASL
        self._group_id = group_id
        self._on_recorded = on_recorded
        self._hand_over = hand_over
        self._start_at = start_at
        self.assigned = asyncio.Event()  # set once this member holds partitions
        self._tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)
        self._lag_measured_at = float("-inf")
        self._lag_keys: set[tuple[str, int]] = set()
        self._consumer: AIOKafkaConsumer | None = None
        # Per partition, the offset after the last message handled and not yet committed.
        self._handled: dict[TopicPartition, int] = {}
        self._committed_at = 0.0  # loop time; set when the consumer starts
        self._database = AutocommitConnection(sessionmaker)
        self._dead_letters = DeadLetterProducer(kafka)
        self.supervisor = Supervisor(
            "notifier-consumer",
            backoff=backoff or Backoff(first_s=0.5, cap_s=10.0),
            on_failure=self._drop,
        )

    async def run(self, stop: asyncio.Event) -> None:
        try:
            await self.supervisor.run(self._turn, stop)
            if self._consumer is not None:
                with contextlib.suppress(Exception):  # else the next member re-reads them
                    await self._commit_handled(self._consumer)
        finally:
            await self._drop(None)

    async def _drop(self, _: Exception | None) -> None:
        """Let go of the consumer and the connections: the next turn starts afresh from the
        group's committed offsets."""
        self._handled.clear()
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            with contextlib.suppress(Exception):
                await consumer.stop()
        await self._database.close()
        await self._dead_letters.close()

    async def _started(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            consumer = AIOKafkaConsumer(
                **self._kafka,
                group_id=self._group_id,
                enable_auto_commit=False,
                # A new group reads the topics from the start, so nothing before its first
                # commit is missed; `latest` is for tests and demos that must not replay history.
                auto_offset_reset=self._start_at,
            )
            consumer.subscribe(TOPICS, listener=_Forget(self._handled))
            try:
                await consumer.start()
            except BaseException:
                with contextlib.suppress(Exception):
                    await consumer.stop()
                raise
            self._consumer = consumer
            self._committed_at = asyncio.get_running_loop().time()
        return self._consumer

    async def _turn(self) -> float:
        """One batch, up to its rows; every COMMIT_EVERY_S, the commit of the offsets handled.
        The fetch waits up to 200 ms: no rest is needed."""
        consumer = await self._started()
        batches = await consumer.getmany(timeout_ms=200, max_records=500)
        if consumer.assignment():
            self.assigned.set()
        await self._measure_lag(consumer)
        records = [record for batch in batches.values() for record in batch]
        if records:
            await self._handle(records)
            for tp, batch in batches.items():
                self._handled[tp] = batch[-1].offset + 1
        if asyncio.get_running_loop().time() - self._committed_at >= COMMIT_EVERY_S:
            await self._commit_handled(consumer)
        return 0.0

    async def _commit_handled(self, consumer: AIOKafkaConsumer) -> None:
        # `_Forget` drops a partition when it is revoked, but a batch in hand when that happens
        # notes its offsets afterwards: only what is still assigned may be committed.
        handled = {
            tp: OffsetAndMetadata(offset, "")
            for tp, offset in self._handled.items()
            if tp in consumer.assignment()
        }
        self._handled.clear()
        self._committed_at = asyncio.get_running_loop().time()
        if handled:
            await consumer.commit(handled)

    async def _handle(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
        spans = [self._process_span(record) for record in records]
        try:
            readable: list[tuple[int, Event]] = []
            letters: dict[int, DeadLetter] = {}
            for index, record in enumerate(records):
                try:
                    readable.append((index, read(record)))
                except Unreadable as exc:
                    letters[index] = DeadLetter(record, exc.reason, exc.detail)

            async def write(taking: Taking) -> Intake:
                # One statement, atomic on its own: the batch's rows are all durable or none.
                return await record_deliveries(
                    self._database,
                    [event for _, event in readable],
                    now=utcnow(),
                    traceparents=[inject(spans[index])[0] for index, _ in readable],
                    taking=taking,
                )

            intake = await (self._hand_over(write) if self._hand_over else write(NOT_TAKING))
            for position, detail in intake.refused.items():
                index = readable[position][0]
                letters[index] = DeadLetter(records[index], Reason.unprocessable, detail)
            # The rows are durable: the worker need not wait for Kafka's offset commit to claim
            # those it did not take at once.
            if intake.new > len(intake.taken):
                self._on_recorded()
            await self._dead_letters.send([letters[index] for index in sorted(letters)])
            for index, letter in letters.items():
                spans[index].set_status(trace.StatusCode.ERROR, f"dead-lettered: {letter.reason}")
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


class _Forget(ConsumerRebalanceListener):  # type: ignore[misc]
    """A partition taken away is forgotten uncommitted: its new member re-reads from the last
    commit, and a handled offset kept from before could move the group back if it returned."""

    def __init__(self, handled: dict[TopicPartition, int]) -> None:
        self._handled = handled

    def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        for tp in revoked:
            self._handled.pop(tp, None)

    def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        pass
