"""Webhook endpoints organisations register, and every delivery the notifier makes to them.

Deliveries live in PostgreSQL so pending retries survive a notifier restart; a delivery's id is
the `webhook-id` sent with every attempt, derived from the event and the recipient, so a Kafka
message consumed twice maps onto the same delivery.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from core.db import Base, UTCDateTime


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), unique=True)
    url: Mapped[str] = mapped_column(String(2000))
    # Secrets are encrypted at rest (Fernet, key from WEBHOOK_SECRET_KEY), never logged.
    secret_ciphertext: Mapped[str] = mapped_column(Text)
    # During a rotation the old secret signs too, until `previous_valid_until`.
    previous_secret_ciphertext: Mapped[str | None] = mapped_column(Text)
    previous_valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class _DeliveryColumns:
    """A delivery's columns, in `webhook_deliveries` and in its archive alike."""

    id: Mapped[str] = mapped_column(String(60), primary_key=True)  # the webhook-id
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    # `webhook` (the organisation's endpoint), or the kind of its notification channel:
    # `wecom`, `dingtalk`, `email` (broker/notifications); one row per message and channel.
    channel: Mapped[str] = mapped_column(String(20), default="webhook", server_default="webhook")
    event_type: Mapped[str] = mapped_column(String(60), index=True)
    ce_id: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(40), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    traceparent: Mapped[str | None] = mapped_column(String(60))
    # pending -> delivered | dead (retries exhausted, sent to the DLQ) | undeliverable (no or
    # disabled endpoint); dead and undeliverable ones can be replayed (back to pending).
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dead_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookDelivery(_DeliveryColumns, Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_org", "organisation_id", "created_at"),
    )


class ArchivedDelivery(_DeliveryColumns, Base):
    """A delivered webhook moved out of `webhook_deliveries` once older than ARCHIVE_AFTER_DAYS
    (broker/outbox/archive.py), with its attempts: the table the notifier claims due rows from
    stays the size of those days; a request's timeline still finds them here. Dead and
    undeliverable rows stay, to be replayed."""

    __tablename__ = "webhook_deliveries_archive"


class _AttemptColumns:
    endpoint_url: Mapped[str] = mapped_column(String(2000))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(30))
    error: Mapped[str | None] = mapped_column(Text)


class WebhookAttempt(_AttemptColumns, Base):
    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    delivery_id: Mapped[str] = mapped_column(ForeignKey("webhook_deliveries.id"), index=True)


class ArchivedAttempt(_AttemptColumns, Base):
    __tablename__ = "webhook_attempts_archive"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    delivery_id: Mapped[str] = mapped_column(String(60), index=True)
