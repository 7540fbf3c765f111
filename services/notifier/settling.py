"""What an attempt's outcome makes of its delivery row: delivered, tried again later on the retry
schedule, dead (with its dead-letter event) or undeliverable (a 410 also disables the endpoint).

A delivered row or a retry goes to the recorder, which writes a batch of them in one statement.
A dead or gone one takes a transaction of its own, atomic with the event or the disabling that
goes with it.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import topics
from core.clock import utcnow
from core.events import DeadLetter, ce_type
from core.metrics import instruments
from core.outbox import record_event
from notifier.delivery import Attempt, Outcome
from notifier.recorder import Recorder
from notifier.repository import outcomes
from notifier.repository.claims import ClaimedRow
from notifier.repository.outcomes import Settled, Tried
from notifier.schedule import next_delay


class Settler:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        recorder: Recorder,
        schedule: tuple[float, ...],
        rng: random.Random,
    ) -> None:
        self._sessions = sessionmaker
        self._recorder = recorder
        self._schedule = schedule
        self._rng = rng

    async def undeliverable(self, delivery: ClaimedRow, reason: str) -> None:
        """Nothing was sent: there is no endpoint or channel to send to, or it is disabled."""
        await self._recorder.record(
            Settled(delivery.id, "undeliverable", None, None, reason, None, None, None)
        )

    async def settle(self, delivery: ClaimedRow, label: str, attempt: Attempt) -> None:
        """`label`: where the attempt went, as the delivery log shows it (no credential)."""
        _measure(delivery.target, attempt)
        number = delivery.attempts + 1
        if attempt.outcome is Outcome.gone:
            await self._finish(delivery, attempt, label, status="undeliverable", attempts=number)
            return
        if attempt.outcome is Outcome.delivered:
            status, next_at = "delivered", None
        elif attempt.outcome is Outcome.failed_permanently:
            status, next_at = "dead", None
        else:
            delay = next_delay(number, self._schedule, attempt.retry_after_s, self._rng)
            status = "pending" if delay is not None else "dead"
            next_at = attempt.at + timedelta(seconds=delay) if delay is not None else None
        if status == "dead":
            instruments().webhook_dead.add(1, {"endpoint": delivery.target})
            await self._finish(delivery, attempt, label, status=status, attempts=number)
            return
        await self._recorder.record(
            Settled(
                delivery_id=delivery.id,
                status=status,
                next_attempt_at=next_at,
                last_status_code=attempt.status,
                last_error=attempt.error,
                attempts=number,
                delivered_at=utcnow() if status == "delivered" else None,
                tried=_tried(label, attempt),
            )
        )

    async def _finish(
        self, delivery: ClaimedRow, attempt: Attempt, label: str, *, status: str, attempts: int
    ) -> None:
        now = utcnow()
        async with self._sessions() as session, session.begin():
            if status == "dead":  # to the dead-letter topic through the outbox: in this transaction
                await record_event(
                    session,
                    topic=topics.NOTIFICATIONS_DLQ,
                    key=delivery.id,
                    type=ce_type("notification", "dead"),
                    subject=delivery.payload.get("data", {}).get("request_id"),
                    data=DeadLetter(
                        webhook_id=delivery.id,
                        organisation_id=delivery.organisation_id,
                        channel=delivery.channel,
                        attempts=attempts,
                        last_error=attempt.error,
                        payload=delivery.payload,
                    ).model_dump(mode="json"),
                    traceparent=delivery.traceparent,
                )
            if attempt.outcome is Outcome.gone:
                await outcomes.disable_target(session, delivery, now, attempt.error)
            await outcomes.finish(
                session, delivery.id, status, now=now, next_attempt_at=None,
                last_status_code=attempt.status, last_error=attempt.error, attempts=attempts,
                tried=_tried(label, attempt),
            )  # fmt: skip


def _measure(endpoint: str, attempt: Attempt) -> None:
    """Webhook series, labelled by the endpoint's organisation (one endpoint each), or for a
    notification channel `<organisation>/<kind>`: a label per URL would grow without bound as
    receivers move."""
    meters = instruments()
    meters.webhook_attempts.add(1, {"endpoint": endpoint, "outcome": attempt.outcome.value})
    if attempt.outcome is not Outcome.delivered:
        status = str(attempt.status) if attempt.status is not None else "no_answer"
        meters.webhook_failures.add(1, {"endpoint": endpoint, "status": status})
    meters.webhook_seconds.record(attempt.latency_ms / 1000, {"endpoint": endpoint})


def _tried(label: str, attempt: Attempt) -> Tried:
    """The attempt as its history row records it."""
    return Tried(
        endpoint_url=label,
        attempted_at=attempt.at,
        status_code=attempt.status,
        latency_ms=attempt.latency_ms,
        outcome=attempt.outcome.value,
        error=attempt.error,
    )
