"""The notifier's hot statements: each is one round trip, atomic on its own (PostgreSQL).

Every round trip costs CPU on both ends as well as time, and the notifier makes them per batch
rather than per delivery: one INSERT records what a batch of messages asks for (webhooks and
messages to notification channels), one UPDATE claims the due deliveries (claims.py), one UPDATE
records a batch of attempts. None
needs a transaction around it, so they run on a connection in autocommit mode (no BEGIN and
COMMIT round trips).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import DateTime, Executable, Integer, Result, Text, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY


class Executor(Protocol):
    """A session, a connection, or the notifier's own autocommit connection."""

    async def execute(self, statement: Executable, params: dict[str, Any]) -> Result[Any]: ...


TEXTS = ARRAY(Text)
STAMPS = ARRAY(DateTime(timezone=True))
INTS = ARRAY(Integer)

# Recipients the directory does not know (another environment's events on the shared topics, a
# body since removed) are left out by the join rather than failing the batch on the foreign key.
# Each notification is a webhook row, and a row more for each of the recipient's notification
# channels that takes its type: the webhook's id with the channel's kind after a dot, so a
# message consumed twice maps onto the same rows here too.
_INSERT = text(
    """WITH n AS (
    SELECT * FROM unnest(:ids, :organisations, :types, :ce_ids, :request_ids, :payloads,
                         :traceparents)
        AS n(id, organisation_id, event_type, ce_id, request_id, payload, traceparent)
), targets AS (
    SELECT n.*, 'webhook' AS channel, n.id AS delivery_id
    FROM n JOIN organisations o ON o.id = n.organisation_id
    UNION ALL
    SELECT n.*, c.kind, n.id || '.' || c.kind
    FROM n JOIN notification_channels c
      ON c.organisation_id = n.organisation_id AND c.events::jsonb ? n.event_type
)
INSERT INTO webhook_deliveries
    (id, organisation_id, channel, event_type, ce_id, request_id, payload, traceparent,
     status, attempts, next_attempt_at, created_at)
SELECT delivery_id, organisation_id, channel, event_type, ce_id, request_id,
       CAST(payload AS json), traceparent, 'pending', 0, :now, :now
FROM targets
ON CONFLICT (id) DO NOTHING
RETURNING id
"""
).bindparams(
    *(
        bindparam(name, type_=TEXTS)
        for name in (
            "ids",
            "organisations",
            "types",
            "ce_ids",
            "request_ids",
            "payloads",
            "traceparents",
        )
    ),
    bindparam("now", type_=DateTime(timezone=True)),
)


async def insert_deliveries(
    executor: Executor, rows: Sequence[dict[str, Any]], *, now: datetime
) -> set[str]:
    """Adds the pending deliveries `rows` describe; answers the ids that were new."""
    columns = {
        "ids": "id",
        "organisations": "organisation_id",
        "types": "event_type",
        "ce_ids": "ce_id",
        "request_ids": "request_id",
        "traceparents": "traceparent",
    }
    params: dict[str, Any] = {name: [r[key] for r in rows] for name, key in columns.items()}
    params["payloads"] = [json.dumps(r["payload"], ensure_ascii=False) for r in rows]
    params["now"] = now
    return set((await executor.execute(_INSERT, params)).scalars())


@dataclass(frozen=True)
class Settled:
    """What one attempt (or the lack of an endpoint) leaves on a delivery row; `tried` is the
    attempt to add to its history, if one was made."""

    delivery_id: str
    status: str  # pending (a retry), delivered or undeliverable
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    attempts: int | None  # None: unchanged (nothing was sent)
    delivered_at: datetime | None
    tried: Tried | None


@dataclass(frozen=True)
class Tried:
    endpoint_url: str
    attempted_at: datetime
    status_code: int | None
    latency_ms: int
    outcome: str
    error: str | None


_SETTLE = text(
    """WITH outcome AS (
    SELECT * FROM unnest(:ids, :statuses, :next_at, :codes, :errors, :attempts, :delivered_at)
        AS o(id, status, next_attempt_at, last_status_code, last_error, attempts, delivered_at)
), history AS (
    INSERT INTO webhook_attempts
        (delivery_id, endpoint_url, attempted_at, status_code, latency_ms, outcome, error)
    SELECT * FROM unnest(:t_ids, :t_urls, :t_at, :t_codes, :t_latency, :t_outcomes, :t_errors)
)
UPDATE webhook_deliveries d
SET status = o.status, next_attempt_at = o.next_attempt_at,
    last_status_code = o.last_status_code, last_error = o.last_error,
    attempts = coalesce(o.attempts, d.attempts),
    delivered_at = coalesce(o.delivered_at, d.delivered_at)
FROM outcome o
WHERE d.id = o.id
"""
).bindparams(
    *(bindparam(name, type_=TEXTS) for name in ("ids", "statuses", "errors")),
    *(bindparam(name, type_=TEXTS) for name in ("t_ids", "t_urls", "t_outcomes", "t_errors")),
    *(bindparam(name, type_=STAMPS) for name in ("next_at", "delivered_at", "t_at")),
    *(bindparam(name, type_=INTS) for name in ("codes", "attempts", "t_codes", "t_latency")),
)


async def settle(executor: Executor, outcomes: Sequence[Settled]) -> None:
    """Writes a batch of outcomes and their attempts, all or none, in one statement."""
    tried = [(o.delivery_id, o.tried) for o in outcomes if o.tried is not None]
    await executor.execute(
        _SETTLE,
        {
            "ids": [o.delivery_id for o in outcomes],
            "statuses": [o.status for o in outcomes],
            "next_at": [o.next_attempt_at for o in outcomes],
            "codes": [o.last_status_code for o in outcomes],
            "errors": [o.last_error for o in outcomes],
            "attempts": [o.attempts for o in outcomes],
            "delivered_at": [o.delivered_at for o in outcomes],
            "t_ids": [delivery_id for delivery_id, _ in tried],
            "t_urls": [t.endpoint_url for _, t in tried],
            "t_at": [t.attempted_at for _, t in tried],
            "t_codes": [t.status_code for _, t in tried],
            "t_latency": [t.latency_ms for _, t in tried],
            "t_outcomes": [t.outcome for _, t in tried],
            "t_errors": [t.error for _, t in tried],
        },
    )
