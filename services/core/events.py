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
    # an IT project's CDO vetoed it (一票否决): the request ends, `detail.reason` says why
    vetoed = "vetoed"
    cancelled = "cancelled"
    expired = "expired"
    # the requester appealed a rejection or a narrowed approval (申请协调)
    appealed = "appealed"
    # the appeal's coordinator let its deadline lapse: it passed up the appeal chain
    appeal_escalated = "appeal_escalated"
    # the appeal's coordinator's CDO left office: it passed up the appeal chain at once
    appeal_reassigned = "appeal_reassigned"
    appeal_decided = "appeal_decided"


RequestKind = Literal["share", "return", "demand", "it_project"]


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
    sla_working_days: int | None = Field(
        default=None, description="the step's limit in working days; null: elapsed seconds"
    )
    calendar_note: str | None = Field(
        default=None,
        description="set when due_at counted a year the calendar does not know by weekends only",
    )
    decisions: list[StepDecision]


class StepDecision(_Event):
    organisation_id: str
    decision: Literal["approve", "reject", "veto"]
    decided_by: str
    on_behalf_of: str | None
    comment: str | None
    decided_at: datetime


RouteStep.model_rebuild()


class RequestEvent(_Event):
    """Every lifecycle change of a request, on `datashare.requests`, keyed by request id."""

    event: RequestEventName
    request_id: str
    kind: RequestKind
    status: str
    requester_id: str
    provider_id: str = Field(
        description="the dataset's owner; a demand's presumed provider; an IT project's body"
    )
    dataset_id: str | None = Field(description="null for an IT project and an open demand")
    trace_id: str
    occurred_at: datetime
    actor: str | None = Field(description="organisation whose action caused the event")
    step: int | None = Field(description="index of the step concerned, if any")
    detail: dict[str, Any] = Field(default_factory=dict)


class FieldOut(_Event):
    name: str
    label: str
    personal: bool = Field(default=False, description="personal information (个人信息)")
    sensitive: bool = Field(default=False, description="sensitive personal information")


class TaskDataset(_Event):
    """The dataset asked for, with what a CDO judges a request by (the catalog's attributes)."""

    id: str
    name: str
    sharing_class: str
    owner_id: str
    grade: str = Field(default="general", description="general 一般 | important 重要 | core 核心")
    resource_code: str | None = None
    sharing_conditions: str | None = None
    sharing_method: str | None = None
    update_cycle: str | None = None
    open_attribute: str | None = None
    fields: list[FieldOut] = Field(
        default_factory=list, description="the fields asked for, with their personal flags"
    )


class TaskDemand(_Event):
    description: str
    presumed_provider_id: str


class TaskProject(_Event):
    name: str
    code: str
    budget_cny: int
    stage: Literal["initiation", "acceptance"]


class AppealDetail(_Event):
    appeal_id: str
    reason: str = Field(description="the requester's reason for appealing")
    grounds: Literal["rejected", "narrowed"]
    against: list[str] = Field(description="the bodies whose refusal is appealed")
    granted_fields: list[str] = Field(description="what the appealed decision granted")


class ApprovalTask(_Event):
    """An approval a CDO must give, on `datashare.approvals`, keyed by the deciding organisation.
    It carries all a CDO needs to decide without another call."""

    task: Literal[
        "approval.requested",
        "approval.escalated",
        "approval.reminder",
        "appeal.requested",
        "appeal.escalated",
    ]
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
    kind: RequestKind
    requester: dict[str, str]
    dataset: TaskDataset | None = Field(description="null for a demand and an IT project")
    demand: TaskDemand | None = None
    project: TaskProject | None = None
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
    appeal: AppealDetail | None = Field(
        default=None,
        description="for `appeal.*` tasks: the appeal the approver coordinates (申请协调)",
    )


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


class ProblemEventName(StrEnum):
    reported = "reported"
    answered = "answered"


class ProblemConcerns(_Event):
    organisations: list[str]
    requests: list[str]


class ProblemEvent(_Event):
    """A problem report (问题反映) filed with, or answered by, the provincial data bureau; on
    `datashare.requests`, keyed by the report's id. Told to the bureau, the reporter and the
    bodies named."""

    event: ProblemEventName
    problem_id: str
    status: Literal["open", "answered"]
    reporter_id: str
    addressed_to: str = Field(description="the provincial data bureau, who answers")
    summary: str
    details: str
    concerns: ProblemConcerns
    resolution: str | None
    reported_at: datetime
    answered_at: datetime | None
    problems_url: str = Field(description="the report in the API")
    occurred_at: datetime
    actor: str = Field(description="organisation whose action caused the event")


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
    "problem-event": ProblemEvent,
    "dead-letter": DeadLetter,
}


def ce_type(
    family: Literal["request", "approval", "grant", "notification", "problem"], name: str
) -> str:
    return f"{CE_TYPE_PREFIX}{family}.{name}"


def schema_of(name: str) -> str:
    model = EVENT_MODELS[name]
    schema = model.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://cdo-broker/schemas/events/{name}.schema.json"
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
