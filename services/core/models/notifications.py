"""The chat robots and mailboxes where an organisation's people hear of their work.

Besides the webhook to its systems, an organisation may register one channel of each kind: a
WeCom (企业微信, on which 粤政易 is built) group robot, a DingTalk group robot, and e-mail to a
list of addresses. Messages to them are rows of `webhook_deliveries` with the channel's kind in
`channel`, so they share the webhooks' retries, delivery log and replay.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from core.db import Base, UTCDateTime


class NotificationChannel(Base):
    __tablename__ = "notification_channels"
    __table_args__ = (UniqueConstraint("organisation_id", "kind"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[str] = mapped_column(String(20))  # wecom | dingtalk | email
    # A robot's webhook URL without its credential (WeCom's `key`, DingTalk's `access_token`),
    # which is kept with the DingTalk signing secret in `secret_ciphertext`: Fernet-encrypted
    # JSON under WEBHOOK_SECRET_KEY, like webhook secrets, never answered in full.
    url: Mapped[str | None] = mapped_column(String(2000))
    secret_ciphertext: Mapped[str | None] = mapped_column(Text)
    recipients: Mapped[list[str] | None] = mapped_column(JSON)  # e-mail addresses
    events: Mapped[list[str]] = mapped_column(JSON)  # the webhook types sent to the channel
    # Set when the vendor says the robot is gone (removed from its group, token unknown).
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
