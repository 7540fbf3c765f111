"""Generated from the broker's schemas by scripts/generate_models.py: do not edit."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field


class DeadLetter(BaseModel):
    """
    A webhook that exhausted its retries, on `datashare.notifications.dlq`, keyed by its
    webhook id; `cdo-broker webhooks replay` sends it again.
    """

    model_config = ConfigDict(
        extra="ignore",
    )
    attempts: Annotated[int | None, Field(title="Attempts")]
    channel: Annotated[
        str | None,
        Field(
            description="webhook, or the notification channel: wecom, dingtalk, email",
            title="Channel",
        ),
    ] = "webhook"
    last_error: Annotated[str | None, Field(title="Last Error")]
    organisation_id: Annotated[str, Field(title="Organisation Id")]
    payload: Annotated[
        dict[str, Any], Field(description="the webhook body as it was sent", title="Payload")
    ]
    webhook_id: Annotated[str, Field(title="Webhook Id")]
