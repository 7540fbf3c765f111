from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from broker.kit.inputs import Input


class GrantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    request_id: str
    grantee_id: str
    provider_id: str
    dataset_id: str
    fields: list[str]
    purpose: str
    jurisdiction: str | None
    scope: str
    starts_at: datetime
    ends_at: datetime
    status: str
    decision_ids: list[str]
    created_at: datetime
    revoked_at: datetime | None
    revoke_reason: str | None
    use_count: int
    last_used_at: datetime | None


class GrantUseIn(Input):
    grant_id: str = Field(min_length=1, max_length=40)
    count: int = Field(ge=1, le=1_000_000_000, description="uses since the last report")
    last_used_at: datetime = Field(description="the latest of those uses")


class GrantUsesIn(Input):
    uses: list[GrantUseIn] = Field(min_length=1, max_length=500)


class GrantUsesOut(BaseModel):
    counted: list[str] = Field(description="grants on your datasets: their counts were added")
    ignored: list[str] = Field(description="grants not on your datasets, or unknown: not counted")
