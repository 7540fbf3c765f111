"""The relay's Kafka side: one idempotent producer, a batch of rows sent in order and waited on
until every one is acked or has failed, and a publish span per message.

The producer (`enable_idempotence=True`, `acks="all"`) numbers each batch, retries a batch it has
handed to the broker until the broker acks it, and the broker drops a retry it already has. So
through a Kafka outage the publisher keeps that one producer and waits on the batch in flight (no
timeout, no resend): when Kafka returns, the producer's own retry delivers it exactly once. Only
a producer that gave up on a row (its sequence numbers are off then) is replaced, and the rows it
gave up on may reach the topic twice.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from aiokafka.errors import KafkaError, MessageSizeTooLargeError
from opentelemetry import trace

from broker.outbox.repository import PendingEvent
from core.cloudevents import kafka_headers, kafka_value
from core.kafka import start_producer
from core.telemetry import extract, inject, kafka_attributes

log = logging.getLogger(__name__)

Sent = list[tuple[PendingEvent, asyncio.Future[Any]]]


@dataclass
class RelayStats:
    published: int = 0  # events acked by Kafka and marked sent
    in_flight: int = 0  # events handed to the producer, not yet acked
    producer_starts: int = 0
    delivery_failures: int = 0  # events the producer gave up on (they are sent again)
    retries: int = 0  # cycles that failed (Kafka or the database away) and were backed off


@dataclass
class Outcome:
    """What became of a batch."""

    acked: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)  # row id: error
    uncertain: int = 0  # failed after reaching the producer: maybe delivered, sent again
    producer_broken: bool = False  # it refused to queue: start a new one


class Publisher:
    def __init__(
        self,
        kafka: Mapping[str, Any],
        stats: RelayStats,
        *,
        client_id: str,
        request_timeout_ms: int,
        shutdown_grace: float,
        tracer: trace.Tracer,
    ) -> None:
        self._kafka = kafka  # kit.kafka.client_options: the servers, TLS and SASL
        self._stats = stats
        self._client_id = client_id
        self._request_timeout_ms = request_timeout_ms
        self._shutdown_grace = shutdown_grace
        self.tracer = tracer
        self._producer: Any = None

    async def start(self) -> None:
        """Start a producer unless one is running."""
        if self._producer is None:
            self._producer = await start_producer(
                self._kafka,
                self._client_id,
                request_timeout_ms=self._request_timeout_ms,
                retry_backoff_ms=250,  # while Kafka is away: how often the batch is retried
            )
            self._stats.producer_starts += 1

    async def publish(self, rows: list[PendingEvent], stop: asyncio.Event) -> Outcome:
        """Send `rows` and wait for their acks. Rows left unacked at shutdown are in no list.
        A producer that gave up on a row, or refused one, is closed: `start` makes a new one."""
        await self.start()
        outcome = Outcome()
        sent: Sent = []
        # `send()` waits when it lacks the topic's metadata; cancelling it then queues nothing.
        sending = asyncio.ensure_future(self._send(self._producer, rows, sent, outcome))
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait([sending, stopping], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not sending.done():
                sending.cancel()
            await asyncio.gather(sending, return_exceptions=True)
        await self._settle([future for _, future in sent], stop)

        for row, future in sent:
            if not future.done():
                continue  # abandoned at shutdown: stays unsent
            error = future.exception()
            if error is None:
                outcome.acked.append(row.id)
            else:
                outcome.failed[row.id] = describe(error)
                outcome.uncertain += 1
        if outcome.uncertain or outcome.producer_broken:  # its sequence numbers are off now
            await self.close()
        return outcome

    async def close(self) -> None:
        producer, self._producer = self._producer, None
        if producer is None:
            return
        try:
            # `stop()` flushes: it waits for whatever is in flight, so it is bounded here.
            await asyncio.wait_for(producer.stop(), timeout=self._shutdown_grace)
        except TimeoutError:
            log.warning("outbox relay: Kafka producer did not flush; its events stay unsent")
        except Exception as exc:
            log.warning("outbox relay: closing the Kafka producer: %s", describe(exc))

    async def _send(
        self, producer: Any, rows: list[PendingEvent], sent: Sent, outcome: Outcome
    ) -> None:
        """Queue `rows` in order, each with the future of its ack, into `sent`. A row that cannot
        be queued is never delivered: it fails, to be sent again later."""
        blocked: set[str] = set()  # keys whose earlier row could not be queued: theirs must wait
        for row in rows:
            if row.key in blocked:
                continue
            span = self._publish_span(row)
            traceparent, tracestate = inject(span)
            try:
                future = await producer.send(
                    row.topic,
                    value=kafka_value(row.data),
                    key=row.key.encode(),
                    headers=kafka_headers(
                        replace(row, traceparent=traceparent, tracestate=tracestate)
                    ),
                )
            except MessageSizeTooLargeError as exc:  # this row only
                _end_publish_span(span, exc)
                outcome.failed[row.id] = describe(exc)
                blocked.add(row.key)
            except KafkaError as exc:  # Kafka is away, or the producer is done for
                _end_publish_span(span, exc)
                outcome.failed[row.id] = describe(exc)
                outcome.producer_broken = not exc.retriable
                return
            except Exception as exc:
                _end_publish_span(span, exc)
                log.exception("outbox relay cannot send event %s", row.event_id)
                outcome.failed[row.id] = describe(exc)
                blocked.add(row.key)
            except BaseException as exc:  # cancelled at shutdown: nothing queued
                _end_publish_span(span, exc)
                raise
            else:
                future.add_done_callback(functools.partial(_end_publish_span, span))
                sent.append((row, future))

    def _publish_span(self, row: PendingEvent) -> trace.Span:
        """A publish span per message, child of the context the row was recorded in; the
        message carries the span's own context (the row's as it is when tracing is off)."""
        return self.tracer.start_span(
            f"publish {row.topic}",
            context=extract(row.traceparent, row.tracestate),
            kind=trace.SpanKind.PRODUCER,
            attributes=kafka_attributes(
                row.topic, "publish", row.key, {"messaging.message.id": row.event_id}
            ),
        )

    async def _settle(self, futures: list[asyncio.Future[Any]], stop: asyncio.Event) -> None:
        """Wait until every future has its ack or error, however long Kafka is away: the
        idempotent producer retries the batch itself. Once `stop` is set, wait at most
        `shutdown_grace` seconds more."""
        if not futures:
            return
        self._stats.in_flight = len(futures)
        everything = asyncio.gather(*futures, return_exceptions=True)
        try:
            if not stop.is_set():
                stopping: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
                try:
                    await asyncio.wait([everything, stopping], return_when=asyncio.FIRST_COMPLETED)
                finally:
                    stopping.cancel()
            if not everything.done():
                await asyncio.wait([everything], timeout=self._shutdown_grace)
        finally:
            self._stats.in_flight = 0


def _end_publish_span(span: trace.Span, outcome: BaseException | asyncio.Future[Any]) -> None:
    """End a publish span with the send's error, or the offset Kafka acked it at."""
    if isinstance(outcome, asyncio.Future):
        if outcome.cancelled():
            span.set_status(trace.StatusCode.ERROR, "cancelled")
        elif (error := outcome.exception()) is not None:
            span.record_exception(error)
            span.set_status(trace.StatusCode.ERROR, describe(error))
        else:
            metadata = outcome.result()
            span.set_attribute("messaging.kafka.offset", metadata.offset)
            span.set_attribute("messaging.destination.partition.id", str(metadata.partition))
    else:
        span.record_exception(outcome)
        span.set_status(trace.StatusCode.ERROR, describe(outcome))
    span.end()


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]
