"""Reading a consumed message: a CloudEvent (binary mode: `ce_*` headers) of a family the
notifier knows, whose JSON value passes that family's event model, the one
`schemas/events/*.schema.json` is generated from. Pure: no I/O.

A message that is not is `Unreadable`, with a stable `reason` (a metric label and the
`dlq_reason` header) and a detail for people: reading it again would fail again, so it goes to
the dead-letter topic rather than stopping the consumer. Validation is strict (no `"3"` for 3)
and, like the schemas, refuses unknown fields: a newer event needs a notifier that knows it,
which is why notifiers are upgraded before brokers (docs/OPERATIONS.md).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from core.events import CE_TYPE_PREFIX, ApprovalTask, GrantEvent, ProblemEvent, RequestEvent

MODELS: dict[str, type[BaseModel]] = {
    "request": RequestEvent,
    "approval": ApprovalTask,
    "grant": GrantEvent,
    "problem": ProblemEvent,
}
DETAIL_CHARS = 1000


class Reason(enum.StrEnum):
    not_cloudevent = "not-cloudevent"  # no `ce_id` or `ce_type` header, or one not UTF-8
    unknown_type = "unknown-type"  # a `ce_type` of no family the notifier reads
    not_json = "not-json"  # no value, or not UTF-8 JSON
    schema = "schema"  # JSON that fails its family's event schema
    unprocessable = "unprocessable"  # valid, but the database refuses its content


class Unreadable(Exception):
    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail[:DETAIL_CHARS]


class Message(Protocol):
    """What is read of a Kafka record (aiokafka's `ConsumerRecord` is one)."""

    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes]]: ...


@dataclass(frozen=True)
class Event:
    ce_id: str
    ce_type: str
    ce_time: str
    data: dict[str, Any]


def header_of(message: Message, name: str) -> str | None:
    """The header's text; bytes that are not UTF-8 are replaced, never raised on."""
    for key, value in message.headers:
        if key == name:
            return bytes(value).decode(errors="replace")
    return None


def read(message: Message) -> Event:
    """The message as an event, or `Unreadable`."""
    ce_id, ce_type = _strict_header(message, "ce_id"), _strict_header(message, "ce_type")
    if not ce_id or not ce_type:
        raise Unreadable(Reason.not_cloudevent, "no ce_id or ce_type header")
    family = ce_type.removeprefix(CE_TYPE_PREFIX).partition(".")[0]
    model = MODELS.get(family) if ce_type.startswith(CE_TYPE_PREFIX) else None
    if model is None:
        raise Unreadable(Reason.unknown_type, f"no event family for ce_type {ce_type!r}")
    if message.value is None:
        raise Unreadable(Reason.not_json, "no value")
    try:
        data = json.loads(message.value.decode())  # bytes would also pass UTF-16 and -32
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Unreadable(Reason.not_json, str(exc)) from None
    try:
        model.model_validate_json(message.value, strict=True)
    except ValidationError as exc:
        raise Unreadable(Reason.schema, _errors(exc)) from None
    return Event(ce_id, ce_type, header_of(message, "ce_time") or "", data)


def _strict_header(message: Message, name: str) -> str | None:
    for key, value in message.headers:
        if key == name:
            try:
                return bytes(value).decode()
            except UnicodeDecodeError:
                raise Unreadable(Reason.not_cloudevent, f"header {name} is not UTF-8") from None
    return None


def _errors(exc: ValidationError) -> str:
    """`field.path: message` for each error, e.g. `approver_id: Field required`."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or '(value)'}: {error['msg']}"
        for error in exc.errors(include_url=False)
    )
