"""What the notification channels API accepts and answers. Robot keys, access tokens and
signing secrets are taken in, never answered: only their last characters, as hints."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from broker.kit.inputs import Input

ChannelKind = Literal["wecom", "dingtalk", "email"]
NotificationType = Literal[
    "approval.requested",
    "approval.reminder",
    "approval.escalated",
    "request.decided",
    "grant.issued",
    "grant.revoked",
    "problem.reported",
    "problem.answered",
    "appeal.requested",
    "appeal.escalated",
    "appeal.decided",
]
# What a CDO's office must act on or hear the end of; grants are for its systems, by choice.
DEFAULT_EVENTS: tuple[NotificationType, ...] = (
    "approval.requested",
    "approval.reminder",
    "approval.escalated",
    "request.decided",
    "problem.reported",
    "problem.answered",
    "appeal.requested",
    "appeal.escalated",
    "appeal.decided",
)
MAX_RECIPIENTS = 10


class ChannelIn(Input):
    webhook_url: str | None = Field(
        default=None,
        min_length=1,
        max_length=2000,
        description="wecom, dingtalk: the group robot's webhook URL as the group's robot "
        "settings show it, with its `key` (WeCom) or `access_token` (DingTalk)",
        examples=["https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-…"],
    )
    secret: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="dingtalk: the robot's signing secret (加签, `SEC…`); messages are signed "
        "with it",
    )
    recipients: list[str] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_RECIPIENTS,
        description="email: the addresses that receive the messages",
        examples=[["cdo-office@gz.gov.cn"]],
    )
    events: list[NotificationType] | None = Field(
        default=None,
        min_length=1,
        description="which notifications the channel receives; default: approval tasks "
        "(requested, reminder, escalated), outcomes (`request.decided`) and problem reports "
        "(`problem.reported`, `problem.answered`)",
    )


class ChannelOut(BaseModel):
    id: str
    organisation_id: str
    kind: ChannelKind
    webhook_url: str | None = Field(description="the robot's URL without its credential")
    credentials: dict[str, str] = Field(
        description="each stored credential's last characters (`key`, `access_token`, "
        "`secret`), to tell which one is set; the values are never answered"
    )
    recipients: list[str] | None
    events: list[NotificationType]
    disabled_at: datetime | None = Field(
        description="set when the vendor answered that the robot is gone; PUT to re-enable"
    )
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime


class ChannelList(BaseModel):
    items: list[ChannelOut]
