"""The outbox relay: publishes committed outbox rows to Kafka and marks them sent once acked.

Order. Rows are spread over `SHARDS` shards by key. A shard is published by one relay at a time,
in id order, one batch at a time, so the events of a key reach its partition in the order they
were recorded. (Transactions that change one request or grant are serialised by that row's lock,
so their ids follow their commits; unrelated transactions writing to one key at the same moment,
such as two requests' approval tasks for one CDO, have no order to keep.)

Shards. On PostgreSQL a relay owns shards through session advisory locks `(oid of outbox_events,
shard)` held by its own connection, which it also reads and marks with: if that connection dies,
so do its locks, and the relay finds out before its next batch. Every relay holds `(oid, MEMBERS)`
shared too, so
each can count the relays and take its fair share, ceil(SHARDS / relays): it releases extras
between batches and takes free shards (a stopped or killed relay's) every `claim_interval`. On
SQLite (one process, a quick local run) there are no locks: run one relay; it owns every shard.

Delivery. The producer is idempotent (`enable_idempotence=True`, `acks="all"`): it numbers each
batch, retries a batch it has handed to the broker until the broker acks it, and the broker drops
a retry it already has. A row is marked sent only after its ack. Through a Kafka outage the relay
keeps that one producer and waits on the batch in flight (no timeout, no resend): when Kafka
returns, the producer's own retry delivers it exactly once, and rows recorded meanwhile follow.
A row is sent again only when nothing can know whether its first send arrived:

- the relay dies between the ack and the mark (or its database connection does);
- the producer gives up on a batch (a non-retriable error), after which it is replaced.

Delivery is therefore at-least-once across such failures and exactly-once otherwise; consumers
dedupe by the `ce_id` header, which is the row's `event_id` and never changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

from aiokafka.errors import KafkaError, MessageSizeTooLargeError
from opentelemetry import trace
from sqlalchemy import bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from broker.settings import BrokerSettings
from core.clock import utcnow
from core.cloudevents import kafka_headers, kafka_value
from core.kafka import client_options, start_producer
from core.models.outbox import SHARDS, OutboxEvent
from core.outbox import on_events_committed
from core.supervisor import Backoff, NoProgress, Supervisor
from core.telemetry import extract, inject, kafka_attributes

log = logging.getLogger(__name__)

MEMBERS = 65536  # the advisory lock's second key that every running relay holds shared
_INT4 = 2**31


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """An unsent row as the relay read it."""

    id: int
    event_id: str
    topic: str
    key: str
    type: str
    source: str
    subject: str | None
    data: dict[str, Any]
    traceparent: str | None
    tracestate: str | None
    created_at: datetime


_PENDING_COLUMNS = [getattr(OutboxEvent, field.name) for field in fields(PendingEvent)]
# Built once: the relay runs it after every commit.
_FETCH = (
    select(*_PENDING_COLUMNS)
    .where(
        OutboxEvent.sent_at.is_(None),
        OutboxEvent.shard.in_(bindparam("shards", expanding=True)),
    )
    .order_by(OutboxEvent.id)
    .limit(bindparam("limit"))
)


@dataclass
class RelayStats:
    published: int = 0  # events acked by Kafka and marked sent
    in_flight: int = 0  # events handed to the producer, not yet acked
    producer_starts: int = 0
    delivery_failures: int = 0  # events the producer gave up on (they are sent again)
    retries: int = 0  # cycles that failed (Kafka or the database away) and were backed off


@dataclass
class _Outcome:
    """What became of a batch."""

    acked: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)  # row id: error
    uncertain: int = 0  # failed after reaching the producer: maybe delivered, sent again
    producer_broken: bool = False  # it refused to queue: start a new one


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        kafka: Mapping[str, Any],
        *,
        poll_interval: float = 0.1,
        claim_interval: float = 1.0,
        batch_size: int = 200,
        max_backoff: float = 10.0,
        shutdown_grace: float = 5.0,
        request_timeout_ms: int = 15_000,
        client_id: str = "cdo-broker-outbox",
        tracer_provider: trace.TracerProvider | None = None,
    ) -> None:
        self._engine = engine
        self._kafka = kafka  # core.kafka.client_options: the servers, TLS and SASL
        self._poll_interval = poll_interval
        self._claim_interval = claim_interval
        self._batch_size = batch_size
        self._max_backoff = max_backoff
        self._shutdown_grace = shutdown_grace
        self._request_timeout_ms = request_timeout_ms
        self._client_id = client_id
        self._locking = engine.dialect.name == "postgresql"
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connection: AsyncConnection | None = None
        self._namespace = 0  # first advisory lock key: the table's oid as int4
        self._owned: set[int] = set()
        self._next_claim = 0.0
        self._unmarked: list[int] = []  # acked, mark failed: marked on the next connection
        self._producer: Any = None
        self._running = False
        # Without a provider, the process's (a no-op one unless tracing is configured).
        self._tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)
        self.stats = RelayStats()
        self.supervisor = Supervisor(
            "outbox-relay",
            backoff=Backoff(first_s=0.2, cap_s=max_backoff),
            on_failure=self._failed,
        )

    @classmethod
    def from_settings(
        cls,
        engine: AsyncEngine,
        settings: BrokerSettings,
        *,
        tracer_provider: trace.TracerProvider | None = None,
    ) -> OutboxRelay:
        if not settings.kafka_bootstrap_servers:
            raise ValueError("the outbox relay needs KAFKA_BOOTSTRAP_SERVERS")
        return cls(
            engine,
            client_options(settings),
            poll_interval=settings.outbox_poll_interval_seconds,
            tracer_provider=tracer_provider,
        )

    @property
    def owned_shards(self) -> frozenset[int]:
        return frozenset(self._owned)

    def wake(self) -> None:
        """Publish now rather than at the next poll (e.g. right after a commit). Thread-safe."""
        loop = self._loop
        if loop is None:
            self._wake.set()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until `stop` is set; then finish the batch in flight (for `shutdown_grace`
        seconds at most), close the producer and release the shards. Never raises on trouble with
        Kafka or the database: it logs, backs off and tries again (`core.supervisor`)."""
        if self._running:
            raise RuntimeError("this relay is already running")
        self._running = True
        self._loop = asyncio.get_running_loop()
        unsubscribe = on_events_committed(self.wake)
        try:
            await self.supervisor.run(functools.partial(self._cycle, stop), stop, wake=self._wake)
        finally:
            unsubscribe()
            # Flush before releasing the shards: a successor must not overtake what is in flight.
            await self._close_producer()
            await self._disconnect(graceful=True)
            self._running = False

    def _idle(self) -> float:
        """Nothing to publish: rest until woken, the poll interval, or the next claim."""
        pause = self._poll_interval
        if self._locking:  # claim on time even with a long poll interval
            pause = max(0.0, min(pause, self._next_claim - time.monotonic()))
        return pause

    async def _failed(self, exc: Exception) -> None:
        self.stats.retries += 1
        if not isinstance(exc, NoProgress):
            await self._recover(exc)

    async def _cycle(self, stop: asyncio.Event) -> float:
        """One turn: publish a batch; answers how long to rest before the next."""
        connection = await self._connect()
        if self._unmarked:
            await self._mark(connection, self._unmarked, {})
        if self._locking and time.monotonic() >= self._next_claim:
            await self._claim(connection)
            self._next_claim = time.monotonic() + self._claim_interval
        producer = await self._started_producer()
        if not self._owned:
            return self._idle()
        rows = await self._fetch(connection)
        if not rows:
            return self._idle()
        outcome = await self._publish(producer, rows, stop)
        if outcome.uncertain:
            self.stats.delivery_failures += outcome.uncertain
            log.warning(
                "outbox relay: Kafka refused %d events; they will be sent again with a new "
                "producer, and may reach the topic twice (consumers dedupe by ce_id)",
                outcome.uncertain,
            )
        if outcome.uncertain or outcome.producer_broken:  # its sequence numbers are off now
            await self._close_producer()
        self._unmarked.extend(outcome.acked)
        await self._mark(connection, self._unmarked, outcome.failed)
        # Back off when nothing moved; a row that keeps failing must not hold up the others.
        if outcome.failed and not outcome.acked:
            raise NoProgress(f"none of {len(rows)} events reached Kafka")
        # A short batch took every row there was: rows committed since have woken the relay
        # (their wake-up is kept until the next rest), so looking again now would find none.
        return 0.0 if len(rows) >= self._batch_size else self._idle()

    # --- database: the connection that holds the shards, reads and marks

    async def _connect(self) -> AsyncConnection:
        if self._connection is not None:
            return self._connection
        connection = await self._engine.connect()
        try:
            # Each statement stands alone (the shard locks are the session's, not a
            # transaction's), so none pays for BEGIN and COMMIT round trips.
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            if self._locking:
                oid = (
                    await connection.execute(
                        text("SELECT CAST(to_regclass(:table) AS oid)"),
                        {"table": OutboxEvent.__tablename__},
                    )
                ).scalar_one()
                if oid is None:
                    raise RuntimeError("no outbox_events table: run `cdo-broker migrate`")
                self._namespace = oid - 2 * _INT4 if oid >= _INT4 else oid
                await connection.execute(
                    text("SELECT pg_advisory_lock_shared(:ns, :members)"),
                    {"ns": self._namespace, "members": MEMBERS},
                )
                await connection.commit()
            else:
                self._owned = set(range(SHARDS))
        except BaseException:
            with contextlib.suppress(Exception):
                await connection.invalidate()
            raise
        self._connection = connection
        self._next_claim = 0.0
        return connection

    async def _disconnect(self, *, graceful: bool) -> None:
        connection, self._connection = self._connection, None
        released = sorted(self._owned)
        self._owned.clear()
        if connection is None:
            return
        if released and self._locking:
            log.info("outbox relay releases shards %s", released)
        if graceful:
            try:
                if self._locking:
                    await connection.execute(text("SELECT pg_advisory_unlock_all()"))
                    await connection.commit()
                await connection.close()  # back to the pool, without locks
                return
            except Exception:
                log.warning("outbox relay: releasing its shards failed", exc_info=True)
        # Closing the DBAPI connection ends the PostgreSQL session, and its locks with it.
        with contextlib.suppress(Exception):
            await connection.invalidate()

    async def _claim(self, connection: AsyncConnection) -> None:
        """Take this relay's fair share of the shards: ceil(SHARDS / running relays)."""
        relays = (
            await connection.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND database = (SELECT oid FROM pg_database"
                    "                 WHERE datname = current_database())"
                    " AND classid = :classid AND objid = :members AND objsubid = 2"
                ),
                {"classid": self._namespace % (2 * _INT4), "members": MEMBERS},
            )
        ).scalar_one()
        share = -(-SHARDS // max(1, relays))
        before = set(self._owned)
        for shard in sorted(self._owned)[share:]:
            await connection.execute(
                text("SELECT pg_advisory_unlock(:ns, :shard)"),
                {"ns": self._namespace, "shard": shard},
            )
            self._owned.discard(shard)
        start = random.randrange(SHARDS)
        for shard in ((start + i) % SHARDS for i in range(SHARDS)):
            if len(self._owned) >= share:
                break
            if shard in self._owned:
                continue
            taken = await connection.execute(
                text("SELECT pg_try_advisory_lock(:ns, :shard)"),
                {"ns": self._namespace, "shard": shard},
            )
            if taken.scalar_one():
                self._owned.add(shard)
        await connection.commit()
        if self._owned != before:
            log.info("outbox relay (1 of %d) owns shards %s", relays, sorted(self._owned))

    async def _fetch(self, connection: AsyncConnection) -> list[PendingEvent]:
        params = {"shards": sorted(self._owned), "limit": self._batch_size}
        rows = (await connection.execute(_FETCH, params)).all()
        await connection.commit()
        return [PendingEvent(*row) for row in rows]

    async def _mark(
        self, connection: AsyncConnection, acked: list[int], failed: dict[int, str]
    ) -> None:
        if acked:
            await connection.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id.in_(acked), OutboxEvent.sent_at.is_(None))
                .values(sent_at=utcnow(), attempts=OutboxEvent.attempts + 1, last_error=None)
            )
        if failed:
            await connection.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id == bindparam("row_id"))
                .values(attempts=OutboxEvent.attempts + 1, last_error=bindparam("error")),
                [{"row_id": row_id, "error": error} for row_id, error in failed.items()],
            )
        await connection.commit()
        self.stats.published += len(acked)
        self._unmarked = []

    # --- Kafka

    async def _started_producer(self) -> Any:
        if self._producer is None:
            self._producer = await start_producer(
                self._kafka,
                self._client_id,
                request_timeout_ms=self._request_timeout_ms,
                retry_backoff_ms=250,  # while Kafka is away: how often the batch is retried
            )
            self.stats.producer_starts += 1
        return self._producer

    async def _publish(
        self, producer: Any, rows: list[PendingEvent], stop: asyncio.Event
    ) -> _Outcome:
        """Send `rows` and wait for their acks. Rows left unacked at shutdown are in no list."""
        outcome = _Outcome()
        sent: list[tuple[PendingEvent, asyncio.Future[Any]]] = []
        # `send()` waits when it lacks the topic's metadata; cancelling it then queues nothing.
        sending = asyncio.ensure_future(self._send(producer, rows, sent, outcome))
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
                outcome.failed[row.id] = _describe(error)
                outcome.uncertain += 1
        return outcome

    async def _send(
        self,
        producer: Any,
        rows: list[PendingEvent],
        sent: list[tuple[PendingEvent, asyncio.Future[Any]]],
        outcome: _Outcome,
    ) -> None:
        """Queue `rows` in order, each with the future of its ack, into `sent`. A row that cannot
        be queued is never delivered: it fails, to be sent again later."""
        blocked: set[str] = set()  # keys whose earlier row could not be queued: theirs must wait
        for row in rows:
            if row.key in blocked:
                continue
            # A publish span per message, child of the context the row was recorded in; the
            # message carries the span's own context (the row's as it is when tracing is off).
            span = self._tracer.start_span(
                f"publish {row.topic}",
                context=extract(row.traceparent, row.tracestate),
                kind=trace.SpanKind.PRODUCER,
                attributes=kafka_attributes(
                    row.topic, "publish", row.key, {"messaging.message.id": row.event_id}
                ),
            )
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
                outcome.failed[row.id] = _describe(exc)
                blocked.add(row.key)
            except KafkaError as exc:  # Kafka is away, or the producer is done for
                _end_publish_span(span, exc)
                outcome.failed[row.id] = _describe(exc)
                outcome.producer_broken = not exc.retriable
                return
            except Exception as exc:
                _end_publish_span(span, exc)
                log.exception("outbox relay cannot send event %s", row.event_id)
                outcome.failed[row.id] = _describe(exc)
                blocked.add(row.key)
            except BaseException as exc:  # cancelled at shutdown: nothing queued
                _end_publish_span(span, exc)
                raise
            else:
                future.add_done_callback(functools.partial(_end_publish_span, span))
                sent.append((row, future))

    async def _settle(self, futures: list[asyncio.Future[Any]], stop: asyncio.Event) -> None:
        """Wait until every future has its ack or error, however long Kafka is away: the
        idempotent producer retries the batch itself. Once `stop` is set, wait at most
        `shutdown_grace` seconds more."""
        if not futures:
            return
        self.stats.in_flight = len(futures)
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
            self.stats.in_flight = 0

    async def _close_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is None:
            return
        try:
            # `stop()` flushes: it waits for whatever is in flight, so it is bounded here.
            await asyncio.wait_for(producer.stop(), timeout=self._shutdown_grace)
        except TimeoutError:
            log.warning("outbox relay: Kafka producer did not flush; its events stay unsent")
        except Exception as exc:
            log.warning("outbox relay: closing the Kafka producer: %s", _describe(exc))

    # --- the loop's helpers

    async def _recover(self, exc: Exception) -> None:
        if isinstance(exc, KafkaError):
            await self._close_producer()
        else:  # the database, most likely: start again from a new connection
            await self._disconnect(graceful=False)


def _end_publish_span(span: trace.Span, outcome: BaseException | asyncio.Future[Any]) -> None:
    """End a publish span with the send's error, or the offset Kafka acked it at."""
    if isinstance(outcome, asyncio.Future):
        if outcome.cancelled():
            span.set_status(trace.StatusCode.ERROR, "cancelled")
        elif (error := outcome.exception()) is not None:
            span.record_exception(error)
            span.set_status(trace.StatusCode.ERROR, _describe(error))
        else:
            metadata = outcome.result()
            span.set_attribute("messaging.kafka.offset", metadata.offset)
            span.set_attribute("messaging.destination.partition.id", str(metadata.partition))
    else:
        span.record_exception(outcome)
        span.set_status(trace.StatusCode.ERROR, _describe(outcome))
    span.end()


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]
