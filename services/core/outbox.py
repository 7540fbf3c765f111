"""Recording events in the caller's transaction (the broker's services and the notifier's worker
both do); the broker's relay (broker/outbox) publishes them.

`record_event` only adds the row: the caller's next flush or its commit writes it, so the events
of one transaction go in one INSERT (or the caller takes them, `take_recorded`, and writes them
in a statement of its own). The event becomes visible to the relay when, and only if,
the caller commits the change it describes.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from core.clock import utcnow
from core.cloudevents import kafka_text
from core.db import encoded_as
from core.models.outbox import OutboxEvent, shard_of
from core.topics import TOPICS

SOURCE = "/cdo-broker"
# Kafka takes 1 MiB messages by default (the producer's max_request_size, the topics'
# max.message.bytes); what is left is room for the key, headers and batch framing.
MAX_DATA_BYTES = 1_000_000
# W3C Trace Context: version-traceid-parentid-flags, lowercase hex; later versions may append.
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}(-.*)?$")
_RECORDED = "core.outbox.recorded"  # session.info flag: this transaction wrote events
_HELD = "core.outbox.held"  # session.info: the events `hold_events` keeps for `take_recorded`


async def record_event(
    session: AsyncSession,
    *,
    topic: str,
    key: str,
    type: str,
    data: dict[str, Any],
    subject: str | None = None,
    traceparent: str | None = None,
    tracestate: str | None = None,
    source: str = SOURCE,
) -> OutboxEvent:
    """Add an event to the outbox of the session's transaction; the caller commits.

    `data` must be JSON-ready (e.g. `model.model_dump(mode="json")`). Without `traceparent`, the
    current OpenTelemetry span's context is recorded, if there is one.
    """
    if topic not in TOPICS:
        raise ValueError(f"unknown topic {topic!r}")
    if not key or not type:
        raise ValueError("an event needs a key and a type")
    text = kafka_text(data)  # also proves it is JSON, before the commit
    if len(text.encode()) > MAX_DATA_BYTES:
        raise ValueError(f"event data over {MAX_DATA_BYTES} bytes")
    if traceparent is None:
        traceparent, tracestate = current_trace_context()
    elif not _TRACEPARENT.match(traceparent):
        raise ValueError(f"malformed traceparent {traceparent!r}")
    row = OutboxEvent(
        event_id=str(uuid.uuid4()),
        topic=topic,
        key=key,
        shard=shard_of(key),
        type=type,
        source=source,
        subject=subject,
        data=data,
        traceparent=traceparent,
        tracestate=tracestate,
        created_at=utcnow(),
        attempts=0,
    )
    held = session.info.get(_HELD)
    if held is None:
        session.add(row)
    else:  # the caller takes it (`hold_events`) and writes it in its own statement, as it is
        encoded_as(row, "data", text)
        held.append(row)
    session.info[_RECORDED] = True
    return row


def hold_events(session: AsyncSession) -> None:
    """The events recorded in `session` from now on are kept aside for `take_recorded`, not
    added to the session: for a caller that writes them in its own statement."""
    session.info.setdefault(_HELD, [])


def take_recorded(session: AsyncSession) -> list[OutboxEvent]:
    """The events recorded in `session` since `hold_events`, in the order they were recorded,
    taken out of it: the caller writes them in its own statement, in the same transaction. The
    relays of this process are still woken by the commit."""
    held: list[OutboxEvent] = session.info.pop(_HELD, [])
    return held


def current_trace_context() -> tuple[str | None, str | None]:
    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier)
    return carrier.get("traceparent"), carrier.get("tracestate")


# Commits that carried events wake the relays of this process, so they publish at once instead of
# at their next poll. Other processes' relays find the rows by polling.
_commit_listeners: set[Callable[[], None]] = set()


def _after_commit(session: Session) -> None:
    if session.info.pop(_RECORDED, False):
        for listener in list(_commit_listeners):
            listener()


def _after_rollback(session: Session) -> None:
    session.info.pop(_RECORDED, None)


def on_events_committed(listener: Callable[[], None]) -> Callable[[], None]:
    """Call `listener` after each commit (in this process) that recorded events; returns the
    function that unsubscribes it. The listener runs inside the commit: it must only signal."""
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
    _commit_listeners.add(listener)
    return lambda: _commit_listeners.discard(listener)
