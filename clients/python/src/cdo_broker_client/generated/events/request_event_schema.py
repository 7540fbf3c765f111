"""Generated from the broker's schemas by scripts/generate_models.py: do not edit."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class RequestEvent(BaseModel):
    """
    Every lifecycle change of a request, on `datashare.requests`, keyed by request id.
    """

    model_config = ConfigDict(
        extra="ignore",
    )
    actor: Annotated[
        str | None, Field(description="organisation whose action caused the event", title="Actor")
    ]
    dataset_id: Annotated[
        str | None,
        Field(description="null for an IT project and an open demand", title="Dataset Id"),
    ]
    detail: Annotated[dict[str, Any] | None, Field(title="Detail")] = None
    event: Annotated[
        Literal[
            "submitted",
            "routed",
            "step_decided",
            "escalated",
            "reassigned",
            "clarification_requested",
            "clarification_answered",
            "approved",
            "rejected",
            "vetoed",
            "cancelled",
            "expired",
            "appealed",
            "appeal_escalated",
            "appeal_reassigned",
            "appeal_decided",
        ],
        Field(title="RequestEventName"),
    ]
    kind: Annotated[Literal["share", "return", "demand", "it_project"], Field(title="Kind")]
    occurred_at: Annotated[AwareDatetime, Field(title="Occurred At")]
    provider_id: Annotated[
        str,
        Field(
            description="the dataset's owner; a demand's presumed provider; an IT project's body",
            title="Provider Id",
        ),
    ]
    request_id: Annotated[str, Field(title="Request Id")]
    requester_id: Annotated[str, Field(title="Requester Id")]
    status: Annotated[str, Field(title="Status")]
    step: Annotated[
        int | None, Field(description="index of the step concerned, if any", title="Step")
    ]
    trace_id: Annotated[str, Field(title="Trace Id")]
