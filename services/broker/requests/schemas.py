"""What the requests API accepts and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from broker.directory.schemas import AwareDatetime


class PeriodIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> PeriodIn:
        if self.end <= self.start:
            raise ValueError("end: must be after start")
        return self


class RequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["share", "return"]
    dataset_id: str = Field(min_length=1, max_length=100)
    fields: list[str] = Field(min_length=1, max_length=200)
    purpose: str = Field(min_length=4, max_length=2000, description="purpose and usage scenario")
    legal_basis: str | None = Field(default=None, min_length=2, max_length=2000)
    period: PeriodIn
    jurisdiction: str | None = Field(
        default=None,
        pattern=r"^\d{6}(\d{3})?$",
        description="for a return: the division code of the jurisdiction the data concerns",
    )

    @model_validator(mode="after")
    def _return_has_jurisdiction(self) -> RequestIn:
        if self.kind == "return" and self.jurisdiction is None:
            raise ValueError("jurisdiction: a return names the jurisdiction it covers")
        if self.kind == "share" and self.jurisdiction is not None:
            raise ValueError("jurisdiction: only a return names a jurisdiction")
        if len(set(self.fields)) != len(self.fields):
            raise ValueError("fields: each field once")
        return self


class Period(BaseModel):
    start: datetime
    end: datetime


class ApproverOut(BaseModel):
    organisation_id: str
    acting_for: str | None
    escalated_from: str | None
    current: bool
    cdo: str | None = Field(description="name of the approver's active CDO, if any")


class PersonRef(BaseModel):
    id: str
    name: str


class DecisionOut(BaseModel):
    id: str
    organisation_id: str
    decision: Literal["approve", "reject"]
    decided_by: str
    decided_by_person: PersonRef | None = Field(
        default=None, description="the person who signed in and decided; null: a system"
    )
    on_behalf_of: str | None
    comment: str | None
    narrowing: dict[str, object] | None
    created_at: datetime
    signature: str | None = Field(
        description="compact JWS (RS256, broker JWKS) over the decision's content"
    )


class StepOut(BaseModel):
    index: int
    role: str
    status: str
    required: int
    sla_working_days: int | None = Field(
        default=None,
        description="the step's limit in working days (工作日); null when the policy gives "
        "elapsed seconds",
    )
    sla_seconds: int = Field(
        description="the limit in elapsed seconds; for a working-day limit its nominal length "
        "(N x 86400), which no deadline uses: read due_at"
    )
    started_at: datetime | None
    due_at: datetime | None = Field(
        description="when the current approvers' limit ends: with working days, 18:00 China "
        "Standard Time on a working day; after a clarification, which carries the working time "
        "that was left, a moment in a working day's office hours (09:00-18:00)"
    )
    calendar_note: str | None = Field(
        default=None,
        description="set when due_at counted a year the broker's calendar does not know by "
        "weekends only (the operator adds the year to HOLIDAYS_FILE)",
    )
    on_hold_since: datetime | None
    escalations: int
    approvers: list[ApproverOut]
    decisions: list[DecisionOut]


class RequestOut(BaseModel):
    id: str
    kind: Literal["share", "return"]
    status: str
    status_reason: str | None
    requester_id: str
    dataset_id: str
    provider_id: str
    fields: list[str]
    purpose: str
    legal_basis: str | None
    period: Period
    jurisdiction: str | None
    granted_fields: list[str]
    granted_period: Period
    routing_rule: str
    current_step: int | None
    route: list[StepOut]
    grant_id: str | None
    trace_id: str
    created_at: datetime
    updated_at: datetime
    decided_at: datetime | None


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject"]
    comment: str | None = Field(default=None, max_length=2000)
    fields: list[str] | None = Field(
        default=None, min_length=1, description="approve only these (a subset of those asked)"
    )
    period: PeriodIn | None = Field(default=None, description="approve a shorter period only")

    @model_validator(mode="after")
    def _reason_for_reject(self) -> DecisionIn:
        if self.decision == "reject":
            if not (self.comment and self.comment.strip()):
                raise ValueError("comment: a rejection gives its reason")
            if self.fields is not None or self.period is not None:
                raise ValueError("decision: only an approval narrows fields or period")
        return self


class ClarificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=2, max_length=2000)


class ClarificationAnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: str = Field(min_length=1, max_length=4000)


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=2000)
