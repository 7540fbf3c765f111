"""The notifier's hot statements: each is one round trip, atomic on its own (PostgreSQL).

Every round trip costs CPU on both ends as well as time, and the notifier makes them per batch
rather than per delivery: one INSERT records what a batch of messages asks for, one UPDATE claims
the due deliveries together with their endpoints, one UPDATE records a batch of attempts. None
needs a transaction around it, so they run on a connection in autocommit mode (no BEGIN and
COMMIT round trips).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import JSON, DateTime, Executable, Integer, Result, String, Text, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY

from broker.webhooks.models import WebhookEndpoint


class Executor(Protocol):
    """A session, a connection, or the notifier's own autocommit connection."""

    async def execute(self, statement: Executable, params: dict[str, Any]) -> Result[Any]: ...


_TEXTS = ARRAY(Text)
_STAMPS = ARRAY(DateTime(timezone=True))
_INTS = ARRAY(Integer)

# Recipients the directory does not know (another environment's events on the shared topics, a
# body since removed) are left out by the join rather than failing the batch on the foreign key.
_INSERT = text(
    """INSERT INTO webhook_deliveries
    (id, organisation_id, event_type, ce_id, request_id, payload, traceparent,
     status, attempts, next_attempt_at, created_at)
SELECT n.id, n.organisation_id, n.event_type, n.ce_id, n.request_id, CAST(n.payload AS json),
       n.traceparent, 'pending', 0, :now, :now
FROM unnest(:ids, :organisations, :types, :ce_ids, :request_ids, :payloads, :traceparents)
     AS n(id, organisation_id, event_type, ce_id, request_id, payload, traceparent)
JOIN organisations o ON o.id = n.organisation_id
ON CONFLICT (id) DO NOTHING
RETURNING id
"""
).bindparams(
    *(
        bindparam(name, type_=_TEXTS)
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
class ClaimedRow:
    id: str
    organisation_id: str
    payload: dict[str, Any]
    traceparent: str | None
    attempts: int
    endpoint: WebhookEndpoint | None  # detached: read with the claim, never written through


# Due rows, oldest first, skipping rows other replicas hold and endpoints already at their limit;
# then at most `free` per endpoint (its limit minus what this replica has in flight) are leased,
# and answered with their endpoint. Rows over an endpoint's share stay due for a later pass.
_CLAIM = text(
    """WITH due AS (
    SELECT id, organisation_id, next_attempt_at
    FROM webhook_deliveries
    WHERE status = 'pending' AND next_attempt_at <= :now
      AND organisation_id <> ALL(:full)
    ORDER BY next_attempt_at
    LIMIT :batch
    FOR UPDATE SKIP LOCKED
), ranked AS (
    SELECT due.*, row_number() OVER (
        PARTITION BY organisation_id ORDER BY next_attempt_at, id) AS place
    FROM due
), used AS (
    SELECT * FROM unnest(:busy, :busy_used) AS u(organisation_id, in_flight)
), taken AS (
    SELECT r.id, r.next_attempt_at AS due_at, e.id AS endpoint_id, e.url, e.secret_ciphertext,
           e.previous_secret_ciphertext, e.previous_valid_until, e.disabled_at,
           e.disabled_reason
    FROM ranked r
    LEFT JOIN used u ON u.organisation_id = r.organisation_id
    LEFT JOIN webhook_endpoints e ON e.organisation_id = r.organisation_id
    WHERE r.place <= :limit - coalesce(u.in_flight, 0)
)
UPDATE webhook_deliveries d SET next_attempt_at = :lease
FROM taken t
WHERE d.id = t.id
RETURNING d.id, d.organisation_id, d.payload, d.traceparent, d.attempts, t.due_at,
          t.endpoint_id, t.url, t.secret_ciphertext, t.previous_secret_ciphertext,
          t.previous_valid_until, t.disabled_at, t.disabled_reason
"""
).bindparams(
    bindparam("now", type_=DateTime(timezone=True)),
    bindparam("lease", type_=DateTime(timezone=True)),
    bindparam("full", type_=_TEXTS),
    bindparam("busy", type_=_TEXTS),
    bindparam("busy_used", type_=_INTS),
    bindparam("batch", type_=Integer),
    bindparam("limit", type_=Integer),
)
_CLAIMED = _CLAIM.columns(
    id=String,
    organisation_id=String,
    payload=JSON,
    traceparent=String,
    attempts=Integer,
    due_at=DateTime(timezone=True),
    endpoint_id=String,
    url=String,
    secret_ciphertext=Text,
    previous_secret_ciphertext=Text,
    previous_valid_until=DateTime(timezone=True),
    disabled_at=DateTime(timezone=True),
    disabled_reason=Text,
)


async def claim_due(
    executor: Executor,
    *,
    now: datetime,
    lease: datetime,
    in_flight: dict[str, int],
    limit: int,
    batch: int,
) -> list[ClaimedRow]:
    """Leases up to `batch` due deliveries until `lease`, at most `limit` minus `in_flight` per
    endpoint, oldest first."""
    busy = {org: used for org, used in in_flight.items() if used > 0}
    params = {
        "now": now,
        "lease": lease,
        "full": [org for org, used in busy.items() if used >= limit],
        "busy": list(busy),
        "busy_used": list(busy.values()),
        "batch": batch,
        "limit": limit,
    }
    rows = sorted((await executor.execute(_CLAIMED, params)).mappings(), key=_age)
    return [
        ClaimedRow(
            id=row["id"],
            organisation_id=row["organisation_id"],
            payload=row["payload"],
            traceparent=row["traceparent"],
            attempts=row["attempts"],
            endpoint=_endpoint(row),
        )
        for row in rows
    ]


def _age(row: Any) -> tuple[datetime, str]:
    return row["due_at"], row["id"]


def _endpoint(row: Any) -> WebhookEndpoint | None:
    if row["endpoint_id"] is None:
        return None
    return WebhookEndpoint(
        id=row["endpoint_id"],
        organisation_id=row["organisation_id"],
        url=row["url"],
        secret_ciphertext=row["secret_ciphertext"],
        previous_secret_ciphertext=row["previous_secret_ciphertext"],
        previous_valid_until=row["previous_valid_until"],
        disabled_at=row["disabled_at"],
        disabled_reason=row["disabled_reason"],
    )


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
    *(bindparam(name, type_=_TEXTS) for name in ("ids", "statuses", "errors")),
    *(bindparam(name, type_=_TEXTS) for name in ("t_ids", "t_urls", "t_outcomes", "t_errors")),
    *(bindparam(name, type_=_STAMPS) for name in ("next_at", "delivered_at", "t_at")),
    *(bindparam(name, type_=_INTS) for name in ("codes", "attempts", "t_codes", "t_latency")),
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
