"""The delivery worker: takes due deliveries from PostgreSQL, delivers them, records every attempt.

Claiming: due rows are leased (their next attempt moved past the delivery timeout) by one
statement that takes them with FOR UPDATE SKIP LOCKED and answers them with their endpoints, so
several notifier replicas share the work and a replica that dies mid-delivery leaves rows that
fall due again when the lease ends: delivered at least once, always under the same webhook-id.

No head-of-line blocking: a replica never claims more rows for an organisation than its
per-endpoint limit has free slots, so a slow or dead endpoint holds up only its own deliveries.

Handing over: the consumer's INSERT of new rows leases those this worker has free slots for and
answers them with their endpoints (`hand_over`), so a new webhook goes out without waiting for a
claim, and a claim is made only for what is left (rows over a limit, messages to channels). A
claim and a hand-over count the slots one at a time.

Recording: what an attempt's outcome makes of its row is settled in settling.py; one recorder
writes those outcomes in batches, one statement each, and a delivery's slot is free once its
outcome is written. A delivery holds no database connection: the claim, the recorder and the
consumer each keep one.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import httpx
from opentelemetry import context as otel_context
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import utcnow
from core.supervisor import Backoff, Supervisor
from core.telemetry import extract
from core.webhooks.secrets import SecretCipher, signing_secrets
from notifier.channels import channel_target, message_for, send_to_channel
from notifier.delivery import Attempt, EndpointTarget, Outcome, OutgoingEvent, deliver_once
from notifier.intake import Intake
from notifier.recorder import Recorder
from notifier.repository.autocommit import AutocommitConnection
from notifier.repository.claims import ClaimedRow, claim_due
from notifier.repository.deliveries import NOT_TAKING, Taking
from notifier.schedule import parse_schedule
from notifier.settings import NotifierSettings
from notifier.settling import Settler

logger = logging.getLogger(__name__)
LEASE_MARGIN_S = 5.0
CLAIM_BATCH = 100


class DeliveryWorker:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: NotifierSettings,
        cipher: SecretCipher,
        *,
        client: httpx.AsyncClient,
        poll_interval_s: float = 0.2,
        rng: random.Random | None = None,
    ) -> None:
        self._sessions = sessionmaker
        self._settings = settings
        self._cipher = cipher
        self._client = client
        self._poll_s = poll_interval_s
        self._limit = settings.webhook_concurrency_per_endpoint
        self._console_base = settings.console_base
        self._active: Counter[str] = Counter()  # claimed, not yet finished, per target
        # Held by a claim or a hand-over while it is in flight: it counted `_active` as it was.
        self._counting = asyncio.Lock()
        self._stopping = False  # no more hand-overs: what is in flight is finishing
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._claims = AutocommitConnection(sessionmaker)
        self._recorder = Recorder(sessionmaker)
        self._settler = Settler(
            sessionmaker,
            self._recorder,
            parse_schedule(settings.webhook_retry_schedule),
            rng or random.Random(),
        )
        self.supervisor = Supervisor(
            "delivery-worker", backoff=Backoff(first_s=poll_interval_s, cap_s=5.0)
        )

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        recording = asyncio.create_task(self._recorder.run())
        try:
            await self.supervisor.run(self._claim_and_deliver, stop, wake=self._wake)
            async with self._counting:  # a hand-over in flight starts its deliveries first
                self._stopping = True
            # Graceful stop: finish what is in flight (bounded by the delivery timeout).
            if self._tasks:
                await asyncio.wait(self._tasks, timeout=self._settings.webhook_timeout_seconds + 2)
        finally:
            self._stopping = True
            await self._claims.close()
            self._recorder.stop()
            await recording

    async def _claim_and_deliver(self) -> float:
        """One turn: claim what is due and start delivering it; rest unless the claim was full.
        A restart of PostgreSQL fails a claim once: the held connection is then replaced."""
        async with self._counting:
            claimed = await self.claim()
            self._start(claimed)
        return self._poll_s if len(claimed) < CLAIM_BATCH else 0.0

    async def hand_over(self, write: Callable[[Taking], Awaitable[Intake]]) -> Intake:
        """Runs the consumer's `write` of new rows, letting it lease those this worker has free
        slots for (none once it is stopping), and starts delivering what it leased."""
        async with self._counting:
            taking = NOT_TAKING
            if not self._stopping:
                # `_active` holds only targets with deliveries in flight (`_done` drops the rest).
                taking = Taking(dict(self._active), self._limit, self._lease(utcnow()))
            intake = await write(taking)
            self._start(intake.taken)
        return intake

    def _start(self, deliveries: list[ClaimedRow]) -> None:
        for delivery in deliveries:
            self._active[delivery.target] += 1
            task = asyncio.create_task(self._deliver(delivery))
            self._tasks.add(task)
            task.add_done_callback(functools.partial(self._done, delivery.target))

    def _done(self, target: str, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        # Of the rows a claim left due, those of a target it found (or filled) at its limit wait
        # for a slot there: a slot freed there, or while a claim in flight counted it as taken,
        # lets the next claim take more, so claim again at once then. (Due rows beyond a claim's
        # batch are taken by the poll, as before.) Any other freed slot would cost a claim (a
        # round trip) per delivery that finds nothing the consumer's wake-up and the poll do not.
        if self._counting.locked() or self._active[target] >= self._limit:
            self._wake.set()
        self._active[target] -= 1
        if self._active[target] <= 0:
            del self._active[target]
        if not task.cancelled() and task.exception() is not None:
            logger.error("delivery task failed", exc_info=task.exception())

    async def claim(self) -> list[ClaimedRow]:
        """What is due, as many as the slots allow; under `_counting` (`_claim_and_deliver`)."""
        now = utcnow()
        return await claim_due(
            self._claims,
            now=now,
            lease=self._lease(now),
            in_flight=dict(self._active),
            limit=self._limit,
            batch=CLAIM_BATCH,
        )

    def _lease(self, now: datetime) -> datetime:
        """Until when a row taken now is this worker's: past its delivery's timeout."""
        return now + timedelta(seconds=self._settings.webhook_timeout_seconds + LEASE_MARGIN_S)

    async def _deliver(self, delivery: ClaimedRow) -> None:
        if delivery.channel != "webhook":
            await self._send_to_channel(delivery)
            return
        now = utcnow()
        endpoint = delivery.endpoint
        if endpoint is None or endpoint.disabled_at is not None:
            reason = (
                "no webhook endpoint registered"
                if endpoint is None
                else f"endpoint disabled: {endpoint.disabled_reason}"
            )
            await self._settler.undeliverable(delivery, reason)
            return
        target = EndpointTarget(
            id=endpoint.id,
            url=endpoint.url,
            secrets=signing_secrets(endpoint, now, self._cipher),
        )
        # The POST continues the trace its delivery row was recorded in (the notifier's process
        # span): with tracing on, the instrumented client's span for it is that span's child and
        # its `traceparent` replaces the stored one on the request.
        token = otel_context.attach(extract(delivery.traceparent))
        try:
            attempt = await deliver_once(
                self._client,
                target,
                OutgoingEvent.from_payload(delivery.id, delivery.payload, delivery.traceparent),
                timeout_s=self._settings.webhook_timeout_seconds,
                allow_private=self._settings.webhook_allow_private_urls,
            )
        finally:
            otel_context.detach(token)
        await self._settler.settle(delivery, endpoint.url, attempt)

    async def _send_to_channel(self, delivery: ClaimedRow) -> None:
        """A message to one of the organisation's notification channels, in Chinese."""
        channel = delivery.notification_channel
        if channel is None or channel.disabled_at is not None:
            reason = (
                f"no {delivery.channel} channel registered"
                if channel is None
                else f"channel disabled: {channel.disabled_reason}"
            )
            await self._settler.undeliverable(delivery, reason)
            return
        target = channel_target(channel, self._cipher)
        try:
            message = message_for(
                delivery.payload, delivery.organisation_id, delivery.names, self._console_base
            )
        except (KeyError, TypeError, ValueError) as exc:  # a payload no message is made of
            failed = Attempt(utcnow(), None, 0, f"no message: {exc!r}", Outcome.failed_permanently)
            await self._settler.settle(delivery, target.label, failed)
            return
        token = otel_context.attach(extract(delivery.traceparent))
        try:
            attempt = await send_to_channel(
                self._client, self._settings, target, message, delivery_id=delivery.id,
                now=utcnow(),
            )  # fmt: skip
        finally:
            otel_context.detach(token)
        await self._settler.settle(delivery, target.label, attempt)
