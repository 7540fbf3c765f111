"""Generated from the broker's schemas by scripts/generate_models.py: do not edit."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class ProblemConcerns(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    organisations: Annotated[list[str], Field(title="Organisations")]
    requests: Annotated[list[str], Field(title="Requests")]


class ProblemEvent(BaseModel):
    """
    A problem report (问题反映) filed with, or answered by, the provincial data bureau; on
    `datashare.requests`, keyed by the report's id. Told to the bureau, the reporter and the
    bodies named.
    """

    model_config = ConfigDict(
        extra="ignore",
    )
    actor: Annotated[
        str, Field(description="organisation whose action caused the event", title="Actor")
    ]
    addressed_to: Annotated[
        str, Field(description="the provincial data bureau, who answers", title="Addressed To")
    ]
    answered_at: Annotated[AwareDatetime | None, Field(title="Answered At")]
    concerns: ProblemConcerns
    details: Annotated[str, Field(title="Details")]
    event: Annotated[Literal["reported", "answered"], Field(title="ProblemEventName")]
    occurred_at: Annotated[AwareDatetime, Field(title="Occurred At")]
    problem_id: Annotated[str, Field(title="Problem Id")]
    problems_url: Annotated[str, Field(description="the report in the API", title="Problems Url")]
    reported_at: Annotated[AwareDatetime, Field(title="Reported At")]
    reporter_id: Annotated[str, Field(title="Reporter Id")]
    resolution: Annotated[str | None, Field(title="Resolution")]
    status: Annotated[Literal["open", "answered"], Field(title="Status")]
    summary: Annotated[str, Field(title="Summary")]
