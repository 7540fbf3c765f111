"""The notifier's settings: the shared ones (core.settings) and its own."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from core.settings import CoreSettings


class NotifierSettings(CoreSettings):
    webhook_retry_schedule: str | None = Field(default=None, alias="WEBHOOK_RETRY_SCHEDULE")
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60, alias="WEBHOOK_TIMEOUT")
    webhook_concurrency_per_endpoint: int = Field(
        default=4, ge=1, le=64, alias="WEBHOOK_CONCURRENCY_PER_ENDPOINT"
    )
    # E-mail notification channels: SMTP_HOST (core.settings), always with STARTTLS (the
    # password travels only inside TLS). SMTP_CA_FILE trusts a private CA instead of the system's.
    smtp_port: int = Field(default=587, ge=1, le=65535, alias="SMTP_PORT")
    smtp_username: str | None = Field(default=None, alias="SMTP_USERNAME")
    smtp_password: SecretStr | None = Field(default=None, alias="SMTP_PASSWORD")
    smtp_from: str = Field(default="cdo-broker@localhost", alias="SMTP_FROM")
    smtp_ca_file: Path | None = Field(default=None, alias="SMTP_CA_FILE")
    smtp_timeout_seconds: float = Field(default=30.0, gt=0, le=300, alias="SMTP_TIMEOUT")
    # The notifier's own HTTP port: /healthz, /readyz and /metrics (no API).
    notifier_http_host: str = Field(default="127.0.0.1", alias="NOTIFIER_HTTP_HOST")
    notifier_http_port: int = Field(default=8001, ge=1, le=65535, alias="NOTIFIER_HTTP_PORT")
    notifier_group_id: str = Field(default="cdo-notifier", alias="NOTIFIER_GROUP_ID")
    # Where a consumer group with no committed offsets starts: `earliest` loses nothing.
    notifier_start_at: Literal["earliest", "latest"] = Field(
        default="earliest", alias="NOTIFIER_START_AT"
    )
