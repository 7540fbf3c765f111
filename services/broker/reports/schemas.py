"""What the reports API answers. The CSV export has exactly the columns of `CdoEvaluationRow`."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from core.models.directory import Level


class GroupBy(StrEnum):
    cdo = "cdo"
    body = "body"


class CdoEvaluationRow(BaseModel):
    organisation_id: str
    organisation_name: str
    level: Level
    appointment_id: str | None = Field(
        description="the CDO appointment; null in per-body rows, and for a body's activity while "
        "it had no CDO"
    )
    person_name: str | None
    title: str | None
    requests_routed: int
    decided: int
    decided_by_delegate: int
    approved: int
    rejected: int
    decision_seconds_median: int | None = Field(description="nearest-rank; null without decisions")
    decision_seconds_p90: int | None = Field(description="nearest-rank; null without decisions")
    decision_working_seconds_median: int | None = Field(
        default=None,
        description="in working time (office hours of working days, holds excluded); "
        "nearest-rank; null without decisions",
    )
    decision_working_seconds_p90: int | None = Field(
        default=None, description="in working time; nearest-rank; null without decisions"
    )
    sla_breaches: int
    escalations_caused: int
    escalations_received: int
    clarifications_asked: int
    grants_revoked_after_approval: int


class CdoEvaluationReport(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: datetime = Field(alias="from")
    to: datetime
    level: Level | None
    group_by: GroupBy
    rows: list[CdoEvaluationRow]


CSV_COLUMNS = tuple(CdoEvaluationRow.model_fields)
