"""Typed events: the data of Kafka events and webhooks, generated from `schemas/events/`.

`parse_webhook(payload)` turns a verified webhook body (`{"type", "timestamp", "data"}`) into
one of the webhook models below, its `data` typed by its `type`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from cdo_broker_client.generated.events.approval_task_schema import ApprovalTask
from cdo_broker_client.generated.events.dead_letter_schema import DeadLetter
from cdo_broker_client.generated.events.grant_event_schema import GrantEvent
from cdo_broker_client.generated.events.problem_event_schema import ProblemEvent
from cdo_broker_client.generated.events.request_event_schema import RequestEvent


class _Webhook(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    timestamp: datetime


class ApprovalWebhook(_Webhook):
    """A step for your CDO to decide (or a reminder, or an escalation to or from you)."""

    type: Literal[
        "approval.requested",
        "approval.escalated",
        "approval.reminder",
        "appeal.requested",
        "appeal.escalated",
    ]
    data: ApprovalTask


class RequestDecidedWebhook(_Webhook):
    """A request your organisation filed is final, or an appeal (申请协调) of it, or against your
    refusal, was decided."""

    type: Literal["request.decided", "appeal.decided"]
    data: RequestEvent


class GrantWebhook(_Webhook):
    """A grant you hold or give was issued or revoked."""

    type: Literal["grant.issued", "grant.revoked"]
    data: GrantEvent


class ProblemWebhook(_Webhook):
    """A problem report (问题反映) to answer (the provincial bureau), naming you, or answered."""

    type: Literal["problem.reported", "problem.answered"]
    data: ProblemEvent


WebhookEvent = Annotated[
    ApprovalWebhook | RequestDecidedWebhook | GrantWebhook | ProblemWebhook,
    Field(discriminator="type"),
]
_WEBHOOK: TypeAdapter[WebhookEvent] = TypeAdapter(WebhookEvent)


def parse_webhook(payload: dict[str, Any]) -> WebhookEvent:
    """The typed webhook; pydantic's ValidationError for a type this version does not know."""
    return _WEBHOOK.validate_python(payload)


__all__ = [
    "ApprovalTask",
    "ApprovalWebhook",
    "DeadLetter",
    "GrantEvent",
    "GrantWebhook",
    "ProblemEvent",
    "ProblemWebhook",
    "RequestDecidedWebhook",
    "RequestEvent",
    "WebhookEvent",
    "parse_webhook",
]
