"""Generated from the broker's schemas by scripts/generate_models.py: do not edit."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class GrantEvent(BaseModel):
    """
    A grant's life, on `datashare.grants`, keyed by grant id.
    """

    model_config = ConfigDict(
        extra="ignore",
    )
    dataset_id: Annotated[str, Field(title="Dataset Id")]
    decision_ids: Annotated[list[str], Field(title="Decision Ids")]
    ends_at: Annotated[AwareDatetime, Field(title="Ends At")]
    event: Annotated[
        Literal["issued", "paused", "resumed", "revoked", "expired"], Field(title="GrantEventName")
    ]
    fields: Annotated[list[str], Field(title="Fields")]
    grant_id: Annotated[str, Field(title="Grant Id")]
    grantee_id: Annotated[str, Field(title="Grantee Id")]
    occurred_at: Annotated[AwareDatetime, Field(title="Occurred At")]
    provider_id: Annotated[str, Field(title="Provider Id")]
    reason: Annotated[str | None, Field(title="Reason")] = None
    request_id: Annotated[str, Field(title="Request Id")]
    scope: Annotated[str, Field(title="Scope")]
    starts_at: Annotated[AwareDatetime, Field(title="Starts At")]
    status: Annotated[str, Field(title="Status")]
    trace_id: Annotated[str, Field(title="Trace Id")]
