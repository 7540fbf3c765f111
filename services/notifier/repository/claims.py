"""Claiming due deliveries: one UPDATE leases a batch of them (FOR UPDATE SKIP LOCKED, so
replicas share the work) and answers each with what sending it needs: the organisation's
webhook endpoint, or its notification channel and the names its message shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import JSON, DateTime, Integer, bindparam, text

from core.models.notifications import NotificationChannel
from core.models.webhooks import WebhookEndpoint
from notifier.repository import INTS, TEXTS, Executor


@dataclass(frozen=True)
class ClaimedRow:
    id: str
    organisation_id: str
    channel: str  # webhook | wecom | dingtalk | email
    payload: dict[str, Any]
    traceparent: str | None
    attempts: int
    # detached: read with the claim, never written through; the one the channel names
    endpoint: WebhookEndpoint | None = None
    notification_channel: NotificationChannel | None = None
    names: dict[str, str] = field(default_factory=dict)  # for a channel's message: id -> name

    @property
    def target(self) -> str:
        """What the per-endpoint limit counts by: an organisation's endpoint or one channel."""
        return target_key(self.organisation_id, self.channel)


def target_key(organisation_id: str, channel: str) -> str:
    return organisation_id if channel == "webhook" else f"{organisation_id}/{channel}"


# The ids a message may name (organisations, those a problem report names, and a dataset),
# answered with their names for the messages to notification channels (webhooks carry the ids
# alone).
_NAMES = """CASE WHEN d.channel <> 'webhook' THEN (
    SELECT json_object_agg(x.id, x.name) FROM (
        SELECT o.id, o.name FROM organisations o
        WHERE o.id IN (d.payload->'data'->>'approver_id', d.payload->'data'->>'escalated_from',
                       d.payload->'data'->>'acting_for', d.payload->'data'->>'requester_id',
                       d.payload->'data'->>'provider_id', d.payload->'data'->>'grantee_id',
                       d.payload->'data'->>'jurisdiction', d.payload->'data'->>'reporter_id',
                       d.payload->'data'->>'addressed_to')
           OR o.id IN (SELECT json_array_elements_text(
                           d.payload->'data'->'concerns'->'organisations'))
        UNION ALL
        SELECT s.id, s.name FROM datasets s WHERE s.id = d.payload->'data'->>'dataset_id'
    ) x) END"""

# Due rows, oldest first, skipping rows other replicas hold and targets already at their limit
# (a target: an organisation's webhook endpoint, or one of its notification channels); then at
# most `free` per target (its limit minus what this replica has in flight) are leased, and
# answered with their endpoint or channel. Rows over a target's share stay due for a later pass.
_CLAIM = text(
    f"""WITH due AS (
    SELECT id, organisation_id, channel, next_attempt_at,
           CASE WHEN channel = 'webhook' THEN organisation_id
                ELSE organisation_id || '/' || channel END AS target
    FROM webhook_deliveries
    WHERE status = 'pending' AND next_attempt_at <= :now
      AND (CASE WHEN channel = 'webhook' THEN organisation_id
                ELSE organisation_id || '/' || channel END) <> ALL(:full)
    ORDER BY next_attempt_at
    LIMIT :batch
    FOR UPDATE SKIP LOCKED
), ranked AS (
    SELECT due.*, row_number() OVER (
        PARTITION BY target ORDER BY next_attempt_at, id) AS place
    FROM due
), used AS (
    SELECT * FROM unnest(:busy, :busy_used) AS u(target, in_flight)
), taken AS (
    SELECT r.id, r.next_attempt_at AS due_at, e.id AS endpoint_id, e.url, e.secret_ciphertext,
           e.previous_secret_ciphertext, e.previous_valid_until, e.disabled_at,
           e.disabled_reason, c.id AS channel_id, c.url AS channel_url,
           c.secret_ciphertext AS channel_secret, c.recipients AS channel_recipients,
           c.events AS channel_events, c.disabled_at AS channel_disabled_at,
           c.disabled_reason AS channel_disabled_reason
    FROM ranked r
    LEFT JOIN used u ON u.target = r.target
    LEFT JOIN webhook_endpoints e
      ON r.channel = 'webhook' AND e.organisation_id = r.organisation_id
    LEFT JOIN notification_channels c
      ON c.organisation_id = r.organisation_id AND c.kind = r.channel
    WHERE r.place <= :limit - coalesce(u.in_flight, 0)
)
UPDATE webhook_deliveries d SET next_attempt_at = :lease
FROM taken t
WHERE d.id = t.id
RETURNING d.id, d.organisation_id, d.channel, d.payload, d.traceparent, d.attempts, t.due_at,
          t.endpoint_id, t.url, t.secret_ciphertext, t.previous_secret_ciphertext,
          t.previous_valid_until, t.disabled_at, t.disabled_reason, t.channel_id,
          t.channel_url, t.channel_secret, t.channel_recipients, t.channel_events,
          t.channel_disabled_at, t.channel_disabled_reason, {_NAMES} AS names
"""
).bindparams(
    bindparam("now", type_=DateTime(timezone=True)),
    bindparam("lease", type_=DateTime(timezone=True)),
    bindparam("full", type_=TEXTS),
    bindparam("busy", type_=TEXTS),
    bindparam("busy_used", type_=INTS),
    bindparam("batch", type_=Integer),
    bindparam("limit", type_=Integer),
)
# The answer's JSON columns, decoded (the rest are what the driver gives).
_CLAIMED = _CLAIM.columns(payload=JSON, channel_recipients=JSON, channel_events=JSON, names=JSON)


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
    target (`ClaimedRow.target`), oldest first."""
    busy = {target: used for target, used in in_flight.items() if used > 0}
    params = {
        "now": now,
        "lease": lease,
        "full": [target for target, used in busy.items() if used >= limit],
        "busy": list(busy),
        "busy_used": list(busy.values()),
        "batch": batch,
        "limit": limit,
    }
    rows = sorted((await executor.execute(_CLAIMED, params)).mappings(), key=_age)
    return [claimed(row) for row in rows]


def claimed(row: Any) -> ClaimedRow:
    """A leased row as the claim answers it (the intake answers the rows it leases the same
    way: `deliveries`)."""
    return ClaimedRow(
        id=row["id"],
        organisation_id=row["organisation_id"],
        channel=row["channel"],
        payload=row["payload"],
        traceparent=row["traceparent"],
        attempts=row["attempts"],
        endpoint=_detached(WebhookEndpoint, row, _ENDPOINT),
        notification_channel=_detached(NotificationChannel, row, _CHANNEL),
        names=row["names"] or {},
    )


def _age(row: Any) -> tuple[datetime, str]:
    return row["due_at"], row["id"]


_Model = TypeVar("_Model", WebhookEndpoint, NotificationChannel)
# Each detached model's attributes, and the column of the claim's answer that gives each.
_ENDPOINT = {
    "id": "endpoint_id",
    "organisation_id": "organisation_id",
    "url": "url",
    "secret_ciphertext": "secret_ciphertext",
    "previous_secret_ciphertext": "previous_secret_ciphertext",
    "previous_valid_until": "previous_valid_until",
    "disabled_at": "disabled_at",
    "disabled_reason": "disabled_reason",
}
_CHANNEL = {
    "id": "channel_id",
    "organisation_id": "organisation_id",
    "kind": "channel",
    "url": "channel_url",
    "secret_ciphertext": "channel_secret",
    "recipients": "channel_recipients",
    "events": "channel_events",
    "disabled_at": "channel_disabled_at",
    "disabled_reason": "channel_disabled_reason",
}


def _detached(model: type[_Model], row: Any, columns: dict[str, str]) -> _Model | None:
    """The model the row names, or None when its join found none."""
    if row[columns["id"]] is None:
        return None
    return model(**{attribute: row[column] for attribute, column in columns.items()})
