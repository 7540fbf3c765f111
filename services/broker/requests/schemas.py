"""What the requests API answers, and what it accepts besides a filing (filing/schemas.py):
decisions, clarifications, withdrawals, appeals."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from broker.kit.inputs import Input
from broker.kit.validation_errors import Refusal
from broker.requests.filing.schemas import PeriodIn, ProjectIn, RequestKind
from core.words import DECISIONS_ZH


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
    decision: Literal["approve", "reject", "veto"]
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


class CoordinatorOut(BaseModel):
    organisation_id: str
    escalated_from: str | None
    current: bool
    added_at: datetime


class AppealOut(BaseModel):
    id: str
    status: Literal["pending", "upheld", "overturned"]
    grounds: Literal["rejected", "narrowed"]
    reason: str
    against: list[str] = Field(description="the bodies whose refusal is appealed")
    due_at: datetime = Field(description="when the current coordinator's time to decide ends")
    route: list[CoordinatorOut] = Field(description="who coordinates, in order (申请协调流程)")
    decided_by: str | None = Field(description="the coordinating body that decided")
    decided_by_person: PersonRef | None
    comment: str | None
    narrowing: dict[str, object] | None
    created_at: datetime
    decided_at: datetime | None


class RequestOut(BaseModel):
    id: str
    kind: RequestKind
    status: str
    status_reason: str | None
    requester_id: str
    dataset_id: str | None = Field(
        description="null for an IT project, and for a demand until its approval drafts the "
        "catalog entry"
    )
    provider_id: str = Field(
        description="the dataset's owner; a demand's presumed provider; an IT project's body"
    )
    description: str | None = Field(default=None, description="a demand's data wanted")
    project: ProjectIn | None = Field(default=None, description="an IT project")
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
    appeal: AppealOut | None = Field(
        default=None, description="the requester's appeal (申请协调), once there is one"
    )


class DecisionIn(Input):
    decision: Literal["approve", "reject", "veto"] = Field(
        description="an IT project is approved or vetoed (一票否决); every other kind is "
        "approved or rejected"
    )
    comment: str | None = Field(default=None, max_length=2000)
    fields: list[str] | None = Field(
        default=None, min_length=1, description="approve only these (a subset of those asked)"
    )
    period: PeriodIn | None = Field(default=None, description="approve a shorter period only")

    @model_validator(mode="after")
    def _reason_for_reject(self) -> DecisionIn:
        if self.decision in ("reject", "veto"):
            if not (self.comment and self.comment.strip()):
                raise Refusal(
                    f"comment: a {self.decision} gives its reason",
                    f"comment: {DECISIONS_ZH[self.decision]}须填写理由",
                )
            if self.fields is not None or self.period is not None:
                raise Refusal(
                    "decision: only an approval narrows fields or period",
                    "decision: 只有同意可以缩小数据项或使用期限",
                )
        return self


class ClarificationIn(Input):
    question: str = Field(min_length=2, max_length=2000)


class ClarificationAnswerIn(Input):
    answer: str = Field(min_length=1, max_length=4000)


class CancelIn(Input):
    reason: str | None = Field(default=None, max_length=2000)


class AppealIn(Input):
    reason: str = Field(min_length=2, max_length=4000, description="why the refusal is wrong")


class AppealDecisionIn(Input):
    decision: Literal["uphold", "overturn"]
    comment: str = Field(min_length=2, max_length=2000, description="the coordinator's reason")
    fields: list[str] | None = Field(
        default=None, min_length=1, description="overturn: approve only these of those asked"
    )
    period: PeriodIn | None = Field(
        default=None, description="overturn: approve a shorter period than asked"
    )

    @model_validator(mode="after")
    def _narrows_only_an_overturn(self) -> AppealDecisionIn:
        if not self.comment.strip():
            raise Refusal(
                "comment: a decision on an appeal gives its reason",
                "comment: 申请协调的决定须填写理由",
            )
        if self.decision == "uphold" and (self.fields is not None or self.period is not None):
            raise Refusal(
                "decision: only an overturn narrows fields or period",
                "decision: 只有改变原决定可以缩小数据项或使用期限",
            )
        return self

    def narrowing(self) -> dict[str, object] | None:
        return narrowing_record(self.fields, self.period)


def narrowing_record(fields: list[str] | None, period: PeriodIn | None) -> dict[str, object] | None:
    """How a decision narrowed what it grants, as recorded (and compared for a repeat)."""
    if fields is None and period is None:
        return None
    return {
        "fields": sorted(fields) if fields is not None else None,
        "period": period.model_dump(mode="json") if period else None,
    }
