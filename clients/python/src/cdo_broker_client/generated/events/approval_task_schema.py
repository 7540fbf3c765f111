"""Generated from the broker's schemas by scripts/generate_models.py: do not edit."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


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
    decision: Annotated[Literal["approve", "reject"], Field(title="Decision")]
    on_behalf_of: Annotated[str | None, Field(title="On Behalf Of")]
    organisation_id: Annotated[str, Field(title="Organisation Id")]


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
    decisions: Annotated[list[StepDecision], Field(title="Decisions")]
    due_at: Annotated[AwareDatetime | None, Field(title="Due At")]
    index: Annotated[int, Field(title="Index")]
    required: Annotated[int, Field(title="Required")]
    role: Annotated[str, Field(title="Role")]
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
    approver_id: Annotated[str, Field(title="Approver Id")]
    console_url: Annotated[
        str | None,
        Field(
            description="the request's decision page in the console (CONSOLE_BASE_URL), for people",
            title="Console Url",
        ),
    ] = None
    dataset: Annotated[dict[str, str], Field(title="Dataset")]
    decision_url: Annotated[str, Field(title="Decision Url")]
    delegate_ids: Annotated[
        list[str],
        Field(
            description="bodies the approver's CDO delegated to: they may decide, and hear of it too",
            title="Delegate Ids",
        ),
    ]
    due_at: Annotated[AwareDatetime, Field(title="Due At")]
    escalated_from: Annotated[str | None, Field(title="Escalated From")]
    fields: Annotated[list[str], Field(title="Fields")]
    jurisdiction: Annotated[str | None, Field(title="Jurisdiction")]
    kind: Annotated[Literal["share", "return"], Field(title="Kind")]
    legal_basis: Annotated[str | None, Field(title="Legal Basis")]
    occurred_at: Annotated[AwareDatetime, Field(title="Occurred At")]
    period: Period
    purpose: Annotated[str, Field(title="Purpose")]
    request_id: Annotated[str, Field(title="Request Id")]
    requester: Annotated[dict[str, str], Field(title="Requester")]
    required: Annotated[int, Field(title="Required")]
    role: Annotated[str, Field(title="Role")]
    route: Annotated[list[RouteStep], Field(title="Route")]
    step: Annotated[int, Field(title="Step")]
    task: Annotated[
        Literal["approval.requested", "approval.escalated", "approval.reminder"],
        Field(title="Task"),
    ]
    trace_id: Annotated[str, Field(title="Trace Id")]
