"""What the webhooks API accepts and answers. Secrets appear only where they are first given."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from broker.directory.schemas import AwareDatetime
from broker.kit.inputs import Input
from broker.kit.windows import require_end_after_start

MAX_OVERLAP_SECONDS = 7 * 24 * 3600

DeliveryStatus = Literal["pending", "delivered", "dead", "undeliverable"]
ReplayableStatus = Literal["dead", "undeliverable", "delivered"]
DeliveryChannel = Literal["webhook", "wecom", "dingtalk", "email"]


class EndpointIn(Input):
    url: str = Field(
        min_length=1,
        max_length=2000,
        description="https URL on the public internet that receives the signed webhooks",
        examples=["https://cdo.gz.gov.cn/hooks/cdo-broker"],
    )


class RotateIn(Input):
    overlap_seconds: int | None = Field(
        default=None,
        ge=0,
        le=MAX_OVERLAP_SECONDS,
        description="how long the old secret still signs (default WEBHOOK_ROTATION_OVERLAP)",
    )


class EndpointOut(BaseModel):
    id: str
    organisation_id: str
    url: str
    created_at: datetime
    updated_at: datetime
    rotation_ends_at: datetime | None = Field(
        description="while a rotation overlaps: when the previous secret stops signing"
    )
    disabled_at: datetime | None = Field(
        description="set when the receiver answered 410 Gone; PUT the endpoint to re-enable it"
    )
    disabled_reason: str | None


class EndpointWithSecret(EndpointOut):
    secret: str = Field(
        description="the signing secret, `whsec_` + base64 of 32 bytes; shown this once only",
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw8QtLEfSYbDg="],
    )


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    attempted_at: datetime
    endpoint_url: str
    status_code: int | None = Field(description="the receiver's HTTP status; null if none")
    latency_ms: int
    outcome: str = Field(description="delivered | retry | gone | failed_permanently")
    error: str | None


class DeliveryOut(BaseModel):
    id: str = Field(description="the `webhook-id` header of every attempt")
    channel: DeliveryChannel = Field(
        description="`webhook`: the signed POST to your endpoint; `wecom`, `dingtalk`, "
        "`email`: the message to your notification channel of that kind"
    )
    event_type: str
    request_id: str | None
    status: DeliveryStatus
    attempts_in_schedule: int = Field(
        description="attempts since the delivery was queued or last replayed: the retry "
        "schedule's position (`attempts` lists every attempt ever made)"
    )
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    dead_at: datetime | None
    payload: dict[str, Any] = Field(description="the body that is signed and sent")
    attempts: list[AttemptOut]


class ReplayIn(Input):
    force: bool = Field(default=False, description="also send a delivery that was delivered")


class RangeReplayIn(Input):
    model_config = ConfigDict(validate_by_name=True)

    from_: AwareDatetime = Field(alias="from", description="created at or after this time")
    to: AwareDatetime = Field(description="created before this time")
    status: ReplayableStatus | None = Field(
        default=None,
        description="only deliveries in this status; default: dead and undeliverable ones "
        "(`delivered` needs `force`)",
    )
    force: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> RangeReplayIn:
        require_end_after_start(self.from_, self.to, start_field="from", end_field="to")
        return self


class ReplayOut(BaseModel):
    requeued: int = Field(description="how many deliveries went back to pending")
