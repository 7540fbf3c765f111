"""The events the broker publishes: one pydantic model per topic family, the JSON Schemas in
`schemas/events/` are generated from these (`cdo-broker schemas`), and a test keeps them equal."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

CE_TYPE_PREFIX = "cn.gov.gd.cdo."


class RequestEventName(StrEnum):
    submitted = "submitted"
    routed = "routed"
    step_decided = "step_decided"
    escalated = "escalated"
    # an approver's CDO appointment ended: its place passed to its level's bureau (acting_for)
    reassigned = "reassigned"
    clarification_requested = "clarification_requested"
    clarification_answered = "clarification_answered"
    approved = "approved"
    rejected = "rejected"
    cancelled = "cancelled"
    expired = "expired"


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Period(_Event):
    start: datetime
    end: datetime


class RouteStep(_Event):
    index: int
    role: str
    status: str
    required: int
    approvers: list[str] = Field(description="organisation ids whose CDO decides (current ones)")
    acting_for: dict[str, str] = Field(description="approver -> the body it stands in for")
    due_at: datetime | None
    decisions: list[StepDecision]


class StepDecision(_Event):
    organisation_id: str
    decision: Literal["approve", "reject"]
    decided_by: str
    on_behalf_of: str | None
    comment: str | None
    decided_at: datetime


RouteStep.model_rebuild()


class RequestEvent(_Event):
    """Every lifecycle change of a request, on `datashare.requests`, keyed by request id."""

    event: RequestEventName
    request_id: str
    kind: Literal["share", "return"]
    status: str
    requester_id: str
    provider_id: str
    dataset_id: str
    trace_id: str
    occurred_at: datetime
    actor: str | None = Field(description="organisation whose action caused the event")
    step: int | None = Field(description="index of the step concerned, if any")
    detail: dict[str, Any] = Field(default_factory=dict)


class ApprovalTask(_Event):
    """An approval a CDO must give, on `datashare.approvals`, keyed by the deciding organisation.
    It carries all a CDO needs to decide without another call."""

    task: Literal["approval.requested", "approval.escalated", "approval.reminder"]
    request_id: str
    step: int
    role: str
    approver_id: str
    acting_for: str | None
    escalated_from: str | None
    delegate_ids: list[str] = Field(
        description="bodies the approver's CDO delegated to: they may decide, and hear of it too"
    )
    required: int
    kind: Literal["share", "return"]
    requester: dict[str, str]
    dataset: dict[str, str]
    fields: list[str]
    purpose: str
    legal_basis: str | None
    period: Period
    jurisdiction: str | None
    route: list[RouteStep]
    due_at: datetime
    decision_url: str
    # Optional only so that a notifier still reads the tasks older brokers published.
    console_url: str | None = Field(
        default=None,
        description="the request's decision page in the console (CONSOLE_BASE_URL), for people",
    )
    trace_id: str
    occurred_at: datetime


class GrantEventName(StrEnum):
    issued = "issued"
    paused = "paused"
    resumed = "resumed"
    revoked = "revoked"
    expired = "expired"


class GrantEvent(_Event):
    """A grant's life, on `datashare.grants`, keyed by grant id."""

    event: GrantEventName
    grant_id: str
    request_id: str
    grantee_id: str
    provider_id: str
    dataset_id: str
    fields: list[str]
    scope: str
    starts_at: datetime
    ends_at: datetime
    status: str
    decision_ids: list[str]
    trace_id: str
    occurred_at: datetime
    reason: str | None = None


class DeadLetter(_Event):
    """A webhook that exhausted its retries, on `datashare.notifications.dlq`, keyed by its
    webhook id; `cdo-broker webhooks replay` sends it again."""

    webhook_id: str
    organisation_id: str
    channel: str = Field(
        default="webhook",
        description="webhook, or the notification channel: wecom, dingtalk, email",
    )
    attempts: int | None
    last_error: str | None
    payload: dict[str, Any] = Field(description="the webhook body as it was sent")


EVENT_MODELS: dict[str, type[_Event]] = {
    "request-event": RequestEvent,
    "approval-task": ApprovalTask,
    "grant-event": GrantEvent,
    "dead-letter": DeadLetter,
}


def ce_type(family: Literal["request", "approval", "grant", "notification"], name: str) -> str:
    return f"{CE_TYPE_PREFIX}{family}.{name}"


def schema_of(name: str) -> str:
    model = EVENT_MODELS[name]
    schema = model.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://cdo-broker/schemas/events/{name}.schema.json"
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
