"""What the problem reports API accepts and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from broker.kit.inputs import Input
from broker.kit.validation_errors import Refusal

MAX_CONCERNED = 50


class Concerns(Input):
    organisations: list[str] = Field(
        default_factory=list,
        max_length=MAX_CONCERNED,
        description="ids of the bodies the problem is about (a body that does not answer, ...)",
    )
    requests: list[str] = Field(
        default_factory=list,
        max_length=MAX_CONCERNED,
        description="ids of requests the problem is about; only ones your organisation may see",
    )

    @model_validator(mode="after")
    def _each_once(self) -> Concerns:
        for name in ("organisations", "requests"):
            ids = getattr(self, name)
            if len(set(ids)) != len(ids):
                raise Refusal(f"{name}: each id once", f"{name}: 每个标识只能填写一次")
        return self


class ProblemIn(Input):
    summary: str = Field(min_length=2, max_length=200, description="one line: what is wrong")
    details: str = Field(min_length=2, max_length=8000, description="what happened, what is asked")
    concerns: Concerns = Field(default_factory=Concerns)


class AnswerIn(Input):
    resolution: str = Field(min_length=2, max_length=8000, description="how the bureau resolved it")


class ProblemOut(BaseModel):
    id: str
    status: Literal["open", "answered"]
    reporter_id: str
    addressed_to: str = Field(description="the provincial data bureau, who answers")
    summary: str
    details: str
    concerns: Concerns
    resolution: str | None
    created_at: datetime
    answered_at: datetime | None
