"""Configuration, read from the environment once, when the app or a command starts."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    development = "development"
    production = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    environment: Environment = Field(default=Environment.development, alias="BROKER_ENV")
    database_url: str = Field(default="sqlite+aiosqlite:///./cdo-broker.db", alias="DATABASE_URL")
    redis_url: str | None = Field(default=None, alias="REDIS_URL")
    kafka_bootstrap_servers: str | None = Field(default=None, alias="KAFKA_BOOTSTRAP_SERVERS")

    # The public base URL of the broker: the `iss` of every token and the base of metadata URLs.
    issuer: str = Field(default="http://127.0.0.1:8000", alias="OAUTH_ISSUER")
    # PEM private key(s), newest first, comma-separated paths. The first signs; all are published.
    signing_key_files: str | None = Field(default=None, alias="OAUTH_SIGNING_KEY_FILES")
    signing_key_pem: str | None = Field(default=None, alias="OAUTH_SIGNING_KEY")
    # Where development mode keeps the key it generates when none is configured.
    dev_key_dir: Path = Field(default=Path(".broker"), alias="BROKER_DEV_KEY_DIR")
    access_token_ttl_seconds: int = Field(default=900, ge=60, le=86400, alias="ACCESS_TOKEN_TTL")

    dependency_timeout_seconds: float = Field(default=2.0, gt=0, alias="DEPENDENCY_TIMEOUT")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
