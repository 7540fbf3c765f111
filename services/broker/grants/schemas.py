from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


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
