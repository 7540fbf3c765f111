"""Generated from the broker's schemas by scripts/generate_models.py: do not edit."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class AppealDetail(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    against: Annotated[
        list[str], Field(description="the bodies whose refusal is appealed", title="Against")
    ]
    appeal_id: Annotated[str, Field(title="Appeal Id")]
    granted_fields: Annotated[
        list[str], Field(description="what the appealed decision granted", title="Granted Fields")
    ]
    grounds: Annotated[Literal["rejected", "narrowed"], Field(title="Grounds")]
    reason: Annotated[
        str, Field(description="the requester's reason for appealing", title="Reason")
    ]


class FieldOut(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    label: Annotated[str, Field(title="Label")]
    name: Annotated[str, Field(title="Name")]
    personal: Annotated[
        bool | None, Field(description="personal information (个人信息)", title="Personal")
    ] = False
    sensitive: Annotated[
        bool | None, Field(description="sensitive personal information", title="Sensitive")
    ] = False


class Period(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    end: Annotated[AwareDatetime, Field(title="End")]
    start: Annotated[AwareDatetime, Field(title="Start")]


class StepDecision(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    comment: Annotated[str | None, Field(title="Comment")]
    decided_at: Annotated[AwareDatetime, Field(title="Decided At")]
    decided_by: Annotated[str, Field(title="Decided By")]
    decision: Annotated[Literal["approve", "reject", "veto"], Field(title="Decision")]
    on_behalf_of: Annotated[str | None, Field(title="On Behalf Of")]
    organisation_id: Annotated[str, Field(title="Organisation Id")]


class TaskDataset(BaseModel):
    """
    The dataset asked for, with what a CDO judges a request by (the catalog's attributes).
    """

    model_config = ConfigDict(
        extra="ignore",
    )
    fields: Annotated[
        list[FieldOut] | None,
        Field(description="the fields asked for, with their personal flags", title="Fields"),
    ] = None
    grade: Annotated[
        str | None, Field(description="general 一般 | important 重要 | core 核心", title="Grade")
    ] = "general"
    id: Annotated[str, Field(title="Id")]
    name: Annotated[str, Field(title="Name")]
    open_attribute: Annotated[str | None, Field(title="Open Attribute")] = None
    owner_id: Annotated[str, Field(title="Owner Id")]
    resource_code: Annotated[str | None, Field(title="Resource Code")] = None
    sharing_class: Annotated[str, Field(title="Sharing Class")]
    sharing_conditions: Annotated[str | None, Field(title="Sharing Conditions")] = None
    sharing_method: Annotated[str | None, Field(title="Sharing Method")] = None
    update_cycle: Annotated[str | None, Field(title="Update Cycle")] = None


class TaskDemand(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    description: Annotated[str, Field(title="Description")]
    presumed_provider_id: Annotated[str, Field(title="Presumed Provider Id")]


class TaskProject(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    budget_cny: Annotated[int, Field(title="Budget Cny")]
    code: Annotated[str, Field(title="Code")]
    name: Annotated[str, Field(title="Name")]
    stage: Annotated[Literal["initiation", "acceptance"], Field(title="Stage")]


class RouteStep(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    acting_for: Annotated[
        dict[str, str],
        Field(description="approver -> the body it stands in for", title="Acting For"),
    ]
    approvers: Annotated[
        list[str],
        Field(description="organisation ids whose CDO decides (current ones)", title="Approvers"),
    ]
    calendar_note: Annotated[
        str | None,
        Field(
            description="set when due_at counted a year the calendar does not know by weekends only",
            title="Calendar Note",
        ),
    ] = None
    decisions: Annotated[list[StepDecision], Field(title="Decisions")]
    due_at: Annotated[AwareDatetime | None, Field(title="Due At")]
    index: Annotated[int, Field(title="Index")]
    required: Annotated[int, Field(title="Required")]
    role: Annotated[str, Field(title="Role")]
    sla_working_days: Annotated[
        int | None,
        Field(
            description="the step's limit in working days; null: elapsed seconds",
            title="Sla Working Days",
        ),
    ] = None
    status: Annotated[str, Field(title="Status")]


class ApprovalTask(BaseModel):
    """
    An approval a CDO must give, on `datashare.approvals`, keyed by the deciding organisation.
    It carries all a CDO needs to decide without another call.
    """

    model_config = ConfigDict(
        extra="ignore",
    )
    acting_for: Annotated[str | None, Field(title="Acting For")]
    appeal: Annotated[
        AppealDetail | None,
        Field(description="for `appeal.*` tasks: the appeal the approver coordinates (申请协调)"),
    ] = None
    approver_id: Annotated[str, Field(title="Approver Id")]
    console_url: Annotated[
        str | None,
        Field(
            description="the request's decision page in the console (CONSOLE_BASE_URL), for people",
            title="Console Url",
        ),
    ] = None
    dataset: Annotated[TaskDataset | None, Field(description="null for a demand and an IT project")]
    decision_url: Annotated[str, Field(title="Decision Url")]
    delegate_ids: Annotated[
        list[str],
        Field(
            description="bodies the approver's CDO delegated to: they may decide, and hear of it too",
            title="Delegate Ids",
        ),
    ]
    demand: TaskDemand | None = None
    due_at: Annotated[AwareDatetime, Field(title="Due At")]
    escalated_from: Annotated[str | None, Field(title="Escalated From")]
    fields: Annotated[list[str], Field(title="Fields")]
    jurisdiction: Annotated[str | None, Field(title="Jurisdiction")]
    kind: Annotated[Literal["share", "return", "demand", "it_project"], Field(title="Kind")]
    legal_basis: Annotated[str | None, Field(title="Legal Basis")]
    occurred_at: Annotated[AwareDatetime, Field(title="Occurred At")]
    period: Period
    project: TaskProject | None = None
    purpose: Annotated[str, Field(title="Purpose")]
    request_id: Annotated[str, Field(title="Request Id")]
    requester: Annotated[dict[str, str], Field(title="Requester")]
    required: Annotated[int, Field(title="Required")]
    role: Annotated[str, Field(title="Role")]
    route: Annotated[list[RouteStep], Field(title="Route")]
    step: Annotated[int, Field(title="Step")]
    task: Annotated[
        Literal[
            "approval.requested",
            "approval.escalated",
            "approval.reminder",
            "appeal.requested",
            "appeal.escalated",
        ],
        Field(title="Task"),
    ]
    trace_id: Annotated[str, Field(title="Trace Id")]
