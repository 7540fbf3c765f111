"""What the evaluation API accepts and answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import TypedDict

from pydantic import BaseModel, ConfigDict, Field, model_validator

from broker.kit.inputs import Input
from broker.kit.validation_errors import Refusal


class ScoreIn(Input):
    organisation_id: str = Field(description="the body whose CDO is evaluated")
    indicator: str = Field(
        description="an `entered` indicator's id (GET /v1/evaluation/indicators)"
    )
    period_start: date = Field(description="first day of the period scored (China Standard Time)")
    period_end: date = Field(description="the day after the period's last (end exclusive)")
    score: int = Field(ge=0, le=100)
    comment: str = Field(min_length=2, max_length=2000, description="评价意见: why this score")

    @model_validator(mode="after")
    def _ordered(self) -> ScoreIn:
        if self.period_end <= self.period_start:
            raise Refusal(
                "period_end: must be after period_start", "period_end: 评价期末须晚于期初"
            )
        return self


class ScoreOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    organisation_id: str
    indicator: str
    period_start: date
    period_end: date
    score: int
    comment: str
    entered_by_org_id: str
    entered_by_person_id: str | None
    created_at: datetime


class IndicatorOut(BaseModel):
    id: str
    group: str
    name: str
    name_en: str
    source: str
    weight: float
    measure: str | None
    best: float | None
    worst: float | None


class GroupOut(BaseModel):
    id: str
    name: str
    name_en: str


class IndicatorsOut(BaseModel):
    groups: list[GroupOut]
    indicators: list[IndicatorOut]


class IndicatorResult(BaseModel):
    indicator: str
    value: float | None = Field(description="the measure, or the entered score; null: none")
    score: float | None = Field(description="0-100; null without a value")
    weight: float
    comment: str | None = Field(default=None, description="an entered score's comment")


class ScorecardRow(BaseModel):
    organisation_id: str
    organisation_name: str
    level: str
    appointment_id: str | None
    person_name: str | None
    total: float | None = Field(
        description="weighted mean (0-100) of the indicators with a score; null: none has"
    )
    groups: dict[str, float | None] = Field(description="each group's weighted mean")
    indicators: list[IndicatorResult]


class Scorecard(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: datetime = Field(alias="from")
    to: datetime
    evaluated_by: str = Field(description="the organisation whose jurisdiction bounds the rows")
    rows: list[ScorecardRow]


# The scorecard as the endpoint builds it: plain dicts of strings and floats, which Python's
# garbage collector does not even track, instead of 9 models a row (the province's scorecard has
# about 7,500 rows; docs/BENCHMARKS.md, *bench/scale*). `Scorecard` above stays the contract:
# the OpenAPI schema is its, and tests/broker/evaluation/test_card.py checks these serialise
# byte for byte as it does.
class IndicatorResultJson(TypedDict):
    indicator: str
    value: float | None
    score: float | None
    weight: float
    comment: str | None


class ScorecardRowJson(TypedDict):
    organisation_id: str
    organisation_name: str
    level: str
    appointment_id: str | None
    person_name: str | None
    total: float | None
    groups: dict[str, float | None]
    indicators: list[IndicatorResultJson]


ScorecardJson = TypedDict(
    "ScorecardJson",
    {"from": str, "to": str, "evaluated_by": str, "rows": list[ScorecardRowJson]},
)
