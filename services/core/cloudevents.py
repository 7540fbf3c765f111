"""CloudEvents 1.0 in the Kafka protocol binding's binary content mode.

The event's attributes travel as `ce_*` headers, `content-type` names the value's format, and the
value is the event's `data` as JSON. W3C trace context rides along in `traceparent`/`tracestate`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Protocol

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"


class CloudEventRow(Protocol):
    """What a message needs from an outbox row (an `OutboxEvent` or the relay's snapshot)."""

    @property
    def event_id(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def subject(self) -> str | None: ...
    @property
    def traceparent(self) -> str | None: ...
    @property
    def tracestate(self) -> str | None: ...


def rfc3339(moment: datetime) -> str:
    """`2026-11-27T05:52:20.969465Z`: UTC, as CloudEvents' `time` wants (RFC 3339)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime has no place in an event time")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def kafka_headers(event: CloudEventRow) -> list[tuple[str, bytes]]:
    headers = [
        ("ce_specversion", SPECVERSION),
        ("ce_id", event.event_id),
        ("ce_source", event.source),
        ("ce_type", event.type),
        ("ce_time", rfc3339(event.created_at)),
        ("content-type", CONTENT_TYPE),
    ]
    optional = [
        ("ce_subject", event.subject),
        ("traceparent", event.traceparent),
        ("tracestate", event.tracestate),
    ]
    headers += [(name, value) for name, value in optional if value]
    return [(name, value.encode()) for name, value in headers]


def kafka_text(data: dict[str, Any]) -> str:
    """An event's `data` as the message's JSON, before its UTF-8 encoding."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def kafka_value(data: dict[str, Any]) -> bytes:
    return kafka_text(data).encode()
