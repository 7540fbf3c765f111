"""The settings both services read (each adds its own: broker.settings, notifier.settings), from
the environment once, when a process or a command starts. A deployment gives both services one
environment; each reads its part."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    development = "development"
    production = "production"


class CoreSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    environment: Environment = Field(default=Environment.development, alias="BROKER_ENV")
    database_url: str = Field(default="sqlite+aiosqlite:///./cdo-broker.db", alias="DATABASE_URL")
    kafka_bootstrap_servers: str | None = Field(default=None, alias="KAFKA_BOOTSTRAP_SERVERS")
    # How every Kafka client of the process connects (core/kafka.py): TLS with the CA that signed
    # the brokers' certificates, SASL/SCRAM as the process's own principal, both (SASL_SSL), or
    # neither. A client certificate (mutual TLS) is optional.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT", alias="KAFKA_SECURITY_PROTOCOL"
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = Field(
        default="SCRAM-SHA-512", alias="KAFKA_SASL_MECHANISM"
    )
    kafka_sasl_username: str | None = Field(default=None, alias="KAFKA_SASL_USERNAME")
    kafka_sasl_password: SecretStr | None = Field(default=None, alias="KAFKA_SASL_PASSWORD")
    kafka_ssl_cafile: Path | None = Field(default=None, alias="KAFKA_SSL_CAFILE")
    kafka_ssl_certfile: Path | None = Field(default=None, alias="KAFKA_SSL_CERTFILE")
    kafka_ssl_keyfile: Path | None = Field(default=None, alias="KAFKA_SSL_KEYFILE")

    # The public base URL of the broker: the `iss` of every token and the base of metadata URLs.
    issuer: str = Field(default="http://127.0.0.1:8000", alias="OAUTH_ISSUER")
    # Where people open a request (the console's decision page, linked from every notification):
    # default OAUTH_ISSUER + "/console".
    console_base_url: str | None = Field(default=None, alias="CONSOLE_BASE_URL")
    # Where development mode keeps the keys it generates when none is configured.
    dev_key_dir: Path = Field(default=Path(".broker"), alias="BROKER_DEV_KEY_DIR")

    # Webhooks (the notifier and the endpoint API).
    # Fernet key (urlsafe base64 of 32 bytes) that encrypts signing secrets at rest; development
    # mode generates one under BROKER_DEV_KEY_DIR, production refuses to start without it.
    webhook_secret_key: str | None = Field(default=None, alias="WEBHOOK_SECRET_KEY")
    webhook_allow_private_urls: bool = Field(default=False, alias="WEBHOOK_ALLOW_PRIVATE_URLS")
    # E-mail notification channels need an SMTP submission server: the broker refuses e-mail
    # channels without one, the notifier sends through it (its other SMTP_* settings).
    smtp_host: str | None = Field(default=None, alias="SMTP_HOST")

    # JSON lines on stderr (core/logs.py), at this level and above.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", alias="LOG_LEVEL"
    )
    dependency_timeout_seconds: float = Field(default=2.0, gt=0, alias="DEPENDENCY_TIMEOUT")

    @property
    def console_base(self) -> str:
        """CONSOLE_BASE_URL, or the console under OAUTH_ISSUER; without a trailing slash."""
        return (self.console_base_url or f"{self.issuer.rstrip('/')}/console").rstrip("/")

    @model_validator(mode="after")
    def _kafka_security_is_whole(self) -> CoreSettings:
        if self.kafka_security_protocol.startswith("SASL_") and not (
            self.kafka_sasl_username and self.kafka_sasl_password
        ):
            raise ValueError(
                f"KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs "
                "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
            )
        if (self.kafka_ssl_certfile is None) != (self.kafka_ssl_keyfile is None):
            raise ValueError("KAFKA_SSL_CERTFILE and KAFKA_SSL_KEYFILE go together")
        return self
