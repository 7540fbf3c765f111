"""Turning read events into durable delivery rows (PostgreSQL), idempotently: one INSERT per
batch of messages.

An event whose content the database refuses (a request id longer than its column, a NUL
character) would fail its whole batch at every try. Such a batch is written again one event at
a time, and the events refused on their own are answered, for the dead-letter topic; the rest
are recorded. Only refusals of content count (SQLSTATE classes 22, data exception, and 23,
integrity): any other error (PostgreSQL away, a missing table) is raised for the consumer to
retry the batch, since dead-lettering valid events would drop their notifications.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import DBAPIError

from core.db import database_unavailable
from notifier.messages import Event
from notifier.recipients import Notification, notifications
from notifier.repository import Executor
from notifier.repository.claims import ClaimedRow
from notifier.repository.deliveries import (
    NOT_TAKING,
    Taking,
    Written,
    insert_deliveries,
    known_organisations,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Intake:
    new: int  # delivery rows that were new (webhooks and messages to notification channels)
    refused: dict[int, str] = field(default_factory=dict)  # event index -> the database's words
    taken: list[ClaimedRow] = field(default_factory=list)  # new rows leased to the worker


def notifications_of(event: Event) -> list[Notification]:
    return notifications(event.ce_id, event.ce_type, event.ce_time, event.data)


def refuses_content(exc: BaseException) -> bool:
    """The database refused what a statement carried, not the statement or the connection."""
    if not isinstance(exc, DBAPIError) or database_unavailable(exc):
        return False
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith(("22", "23"))


async def record_deliveries(
    executor: Executor,
    events: Sequence[Event],
    *,
    now: datetime,
    traceparents: Sequence[str | None],
    taking: Taking = NOT_TAKING,
) -> Intake:
    """Adds a pending delivery per notification; an event seen again adds nothing (its webhook
    ids exist already). Each row keeps the trace context its delivery continues,
    `traceparents[i]` for the i-th event. The new webhook rows `taking` allows are leased to the
    worker and answered (`Intake.taken`). The one-at-a-time retry after a refusal needs an
    executor on which each statement stands alone (the notifier's autocommit connection)."""
    try:
        written = await _insert(executor, events, traceparents, now=now, taking=taking)
        return Intake(len(written.new), taken=written.taken)
    except DBAPIError as exc:
        if not refuses_content(exc):
            raise
        logger.warning("the database refused a batch of %d events (%s)", len(events), exc.orig)
    new, refused = 0, {}
    for index, (event, traceparent) in enumerate(zip(events, traceparents, strict=True)):
        try:  # the worker takes none of these: its claim delivers them
            written = await _insert(executor, [event], [traceparent], now=now)
        except DBAPIError as exc:
            if not refuses_content(exc):
                raise
            refused[index] = f"{getattr(exc.orig, 'sqlstate', '')}: {exc.orig}"
        else:
            new += len(written.new)
    return Intake(new, refused)


async def _insert(
    executor: Executor,
    events: Sequence[Event],
    traceparents: Sequence[str | None],
    *,
    now: datetime,
    taking: Taking = NOT_TAKING,
) -> Written:
    rows = [
        {
            "id": n.webhook_id,
            "organisation_id": n.organisation_id,
            "event_type": n.type,
            "ce_id": n.ce_id,
            "request_id": n.request_id,
            "payload": n.body,
            "traceparent": traceparent,
        }
        for event, traceparent in zip(events, traceparents, strict=True)
        for n in notifications_of(event)
    ]
    if not rows:
        return Written(set(), [])
    written = await insert_deliveries(executor, rows, now=now, taking=taking)
    left_out = {str(r["organisation_id"]) for r in rows if r["id"] not in written.new}
    if left_out:  # `new` also holds the rows for notification channels
        await _warn_of_unknown(executor, left_out)
    return written


async def _warn_of_unknown(executor: Executor, organisations: set[str]) -> None:
    """Rows left out are repeats or for recipients the directory does not know (an event from
    another environment sharing the topics, or a body since removed): name the latter."""
    known = await known_organisations(executor, organisations)
    for unknown in sorted(organisations - known):
        logger.warning("skipping notifications for unknown organisation %r", unknown)
