"""The outbox relay: publishes committed outbox rows to Kafka and marks them sent once acked.

Order. Rows are spread over `SHARDS` shards by key. A shard is published by one relay at a time
(`shards`: advisory locks on PostgreSQL), in id order, one batch at a time, so the events of a key
reach its partition in the order they were recorded. (Transactions that change one request or
grant are serialised by that row's lock, so their ids follow their commits; unrelated
transactions writing to one key at the same moment, such as two requests' approval tasks for one
CDO, have no order to keep.)

A turn of the loop: on the relay's own connection (which holds its shards' locks), take its share
of the shards, read a batch of their unsent rows (`repository`), hand it to Kafka and wait for the
acks (`publisher`), then mark the acked rows sent and count the failed ones' attempts. A batch
acked whole is marked by the next turn's first statement, which also reads that turn's batch: a
relay woken by every commit pays one database round trip per batch, not two. That turn comes at
once when there is more to publish, when the relay is woken, or within `MARK_WITHIN_S`; a relay
told to stop marks what was acked before it lets its shards go, and a relay takes or releases
shards only after marking. `sent_at` is the time of the ack either way.

Delivery. A row is marked sent only after its ack; through a Kafka outage the batch in flight
waits and is delivered once by the producer's own retries (`publisher`). A row is sent again only
when nothing can know whether its first send arrived:

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
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from aiokafka.errors import KafkaError
from opentelemetry import trace
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from broker.outbox import repository
from broker.outbox.publisher import Publisher, RelayStats
from broker.outbox.shards import ownership_for
from broker.settings import BrokerSettings
from core.clock import utcnow
from core.kafka import client_options
from core.outbox import on_events_committed
from core.supervisor import Backoff, NoProgress, Supervisor

log = logging.getLogger(__name__)

# How long the rows of a batch acked whole wait for the next turn to be marked with its read;
# then they are marked on their own.
MARK_WITHIN_S = 0.05

__all__ = ["OutboxRelay", "RelayStats"]


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
        self._poll_interval = poll_interval
        self._batch_size = batch_size
        self._shards = ownership_for(engine.dialect.name, claim_interval=claim_interval)
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connection: AsyncConnection | None = None
        # Acked, not yet marked (the last batch; or a mark failed: marked on the next connection)
        self._unmarked: list[int] = []
        self._acked_at: datetime = utcnow()  # when Kafka acked them; set with `_unmarked`
        # The next batch (None: not read), read in the mark's round trip (`_mark`) on the
        # connection that holds its shards' locks; dropped when the shards or the connection change.
        self._next: list[repository.PendingEvent] | None = None
        self._running = False
        self.stats = RelayStats()
        self.publisher = Publisher(
            kafka,  # kit.kafka.client_options: the servers, TLS and SASL
            self.stats,
            client_id=client_id,
            request_timeout_ms=request_timeout_ms,
            shutdown_grace=shutdown_grace,
            # Without a provider, the process's (a no-op one unless tracing is configured).
            tracer=trace.get_tracer(__name__, tracer_provider=tracer_provider),
        )
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
        return self._shards.owned

    def wake(self) -> None:
        """Publish now rather than at the next poll (e.g. right after a commit). Thread-safe."""
        loop = self._loop
        if loop is None or _running_loop() is loop:  # a commit on the relay's own loop
            self._wake.set()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until `stop` is set; then finish the batch in flight (for `shutdown_grace`
        seconds at most), close the producer and release the shards. Never raises on trouble with
        Kafka or the database: it logs, backs off and tries again (`broker.kit.supervisor`)."""
        if self._running:
            raise RuntimeError("this relay is already running")
        self._running = True
        self._loop = asyncio.get_running_loop()
        unsubscribe = on_events_committed(self.wake)
        try:
            await self.supervisor.run(functools.partial(self._cycle, stop), stop, wake=self._wake)
            await self._mark_before_leaving()
        finally:
            unsubscribe()
            # Flush before releasing the shards: a successor must not overtake what is in flight.
            await self.publisher.close()
            await self._disconnect(graceful=True)
            self._running = False

    def _idle(self) -> float:
        """Nothing to publish: rest until woken, the poll interval, or the next claim."""
        return self._shards.rest(self._poll_interval)

    async def _failed(self, exc: Exception) -> None:
        self.stats.retries += 1
        if isinstance(exc, NoProgress):
            return
        if isinstance(exc, KafkaError):
            await self.publisher.close()
        else:  # the database, most likely: start again from a new connection
            await self._disconnect(graceful=False)

    async def _cycle(self, stop: asyncio.Event) -> float:
        """One turn: publish a batch; answers how long to rest before the next."""
        connection = await self._connect()
        owned = self._shards.owned
        if self._unmarked:  # before the shards may change hands
            await self._mark(connection, self._unmarked, {})
        await self._shards.keep(connection)
        await connection.commit()
        if self._shards.owned != owned:
            self._next = None  # read for shards this relay may no longer own
        await self.publisher.start()
        if not self._shards.owned:
            return self._idle()
        rows, self._next = self._next, None
        if rows is None:
            rows = await repository.unsent(connection, self._shards.owned, self._batch_size)
            await connection.commit()
        if not rows:
            return self._idle()
        outcome = await self.publisher.publish(rows, stop)
        if outcome.uncertain:
            self.stats.delivery_failures += outcome.uncertain
            log.warning(
                "outbox relay: Kafka refused %d events; they will be sent again with a new "
                "producer, and may reach the topic twice (consumers dedupe by ce_id)",
                outcome.uncertain,
            )
        # The turn began by marking what was left: these are all that is acked and unmarked.
        self._unmarked, self._acked_at = list(outcome.acked), utcnow()
        # A short batch took every row there was: rows committed since have woken the relay
        # (their wake-up is kept until the next rest), so looking again now would find none.
        more = 0.0 if len(rows) >= self._batch_size else self._idle()
        if not outcome.failed:  # marked by the next turn, with its read
            return min(more, MARK_WITHIN_S)
        await self._mark(connection, self._unmarked, outcome.failed)
        # Back off when nothing moved; a row that keeps failing must not hold up the others.
        if not outcome.acked:
            raise NoProgress(f"none of {len(rows)} events reached Kafka")
        return more

    async def _mark(
        self, connection: AsyncConnection, acked: list[int], failed: dict[int, str]
    ) -> None:
        """Mark the acked rows sent and the failed ones' attempts. With none failed, the same
        round trip reads the next batch of the shards this relay owns (`self._next`)."""
        if acked and not failed and self._shards.owned:
            self._next = await repository.mark_sent_then_unsent(
                connection, acked, self._acked_at, self._shards.owned, self._batch_size
            )
        else:
            await repository.mark_sent(connection, acked, self._acked_at)
            await repository.mark_failed(connection, failed)
        await connection.commit()
        self.stats.published += len(acked)
        self._unmarked = []

    async def _mark_before_leaving(self) -> None:
        """Stopped: what Kafka acked is marked before the shards are released, so a successor
        does not send it again."""
        if self._unmarked and self._connection is not None:
            try:
                await self._mark(self._connection, self._unmarked, {})
            except Exception:
                log.warning(
                    "outbox relay: marking %d acked events failed; they will be sent again",
                    len(self._unmarked),
                    exc_info=True,
                )

    # --- the connection that holds the shards, reads and marks

    async def _connect(self) -> AsyncConnection:
        if self._connection is not None:
            return self._connection
        connection = await self._engine.connect()
        try:
            # Each statement stands alone (the shard locks are the session's, not a
            # transaction's), so none pays for BEGIN and COMMIT round trips.
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await self._shards.join(connection)
            await connection.commit()
        except BaseException:
            with contextlib.suppress(Exception):
                await connection.invalidate()
            raise
        self._connection = connection
        return connection

    async def _disconnect(self, *, graceful: bool) -> None:
        connection, self._connection = self._connection, None
        self._next = None
        released = self._shards.forget()
        if connection is None:
            return
        if released:
            log.info("outbox relay releases shards %s", released)
        if graceful:
            try:
                await self._shards.leave(connection)
                await connection.commit()
                await connection.close()  # back to the pool, without locks
                return
            except Exception:
                log.warning("outbox relay: releasing its shards failed", exc_info=True)
        # Closing the DBAPI connection ends the PostgreSQL session, and its locks with it.
        with contextlib.suppress(Exception):
            await connection.invalidate()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # another thread, with no loop running
        return None
