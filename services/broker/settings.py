"""The broker's settings: the shared ones (core.settings) and its own, read from the environment
once, when the app or a command starts; and `Rate`, the type the rate limits are written in.

The bottom of the broker: it imports only core, so every part of the broker may import it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator

from core.settings import CoreSettings, Environment

_UNITS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(?:(second|minute|hour|day)|(\d+(?:\.\d+)?)\s*s)\s*$")


@dataclass(frozen=True)
class Rate:
    """`limit` events per `per_s` seconds, written `120/minute` or `5/300s`."""

    limit: int
    per_s: float

    @classmethod
    def parse(cls, text: str) -> Rate:
        return _parsed(text)


@lru_cache(maxsize=64)
def _parsed(text: str) -> Rate:
    """`Rate.parse`, once a text: the limits are read from the settings on every call they
    count (each token, filing and introspection), and a Rate never changes."""
    match = _RATE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a rate like '120/minute' or '5/300s'")
    per_s = _UNITS[match[2]] if match[2] else float(match[3])
    if int(match[1]) < 1 or per_s <= 0:
        raise ValueError(f"{text!r}: the limit and the period must be positive")
    return Rate(int(match[1]), per_s)


class BrokerSettings(CoreSettings):
    # `cdo-broker migrate` connects with this one (the schema's owner) if set, and grants the role
    # of DATABASE_URL what the broker may do: no UPDATE or DELETE of audit rows.
    migration_database_url: str | None = Field(default=None, alias="MIGRATION_DATABASE_URL")
    redis_url: str | None = Field(default=None, alias="REDIS_URL")

    # PEM private key(s), newest first, comma-separated paths. The first signs; all are published.
    signing_key_files: str | None = Field(default=None, alias="OAUTH_SIGNING_KEY_FILES")
    signing_key_pem: str | None = Field(default=None, alias="OAUTH_SIGNING_KEY")
    # Optionally trust an existing identity provider's access tokens (oauth/external.py).
    external_issuer: str | None = Field(default=None, alias="EXTERNAL_ISSUER")
    external_jwks_url: str | None = Field(default=None, alias="EXTERNAL_JWKS_URL")
    external_org_claim: str = Field(default="org_id", alias="EXTERNAL_ORG_CLAIM")
    # The `aud` external tokens must carry; unset: the broker itself (OAUTH_ISSUER).
    external_audience: str | None = Field(default=None, alias="EXTERNAL_AUDIENCE")
    # A token signed by a key the cached JWKS lacks fetches it again at most this often.
    external_jwks_min_refetch_seconds: float = Field(
        default=60.0, ge=0, alias="EXTERNAL_JWKS_MIN_REFETCH"
    )
    # People may sign in through an upstream OpenID Connect provider, the province's unified
    # sign-on (oauth/upstream.py): the ID token's OIDC_UPSTREAM_CLAIM is a person's username here.
    oidc_upstream_issuer: str | None = Field(default=None, alias="OIDC_UPSTREAM_ISSUER")
    oidc_upstream_client_id: str | None = Field(default=None, alias="OIDC_UPSTREAM_CLIENT_ID")
    oidc_upstream_client_secret: str | None = Field(
        default=None, alias="OIDC_UPSTREAM_CLIENT_SECRET"
    )
    oidc_upstream_claim: str = Field(default="preferred_username", alias="OIDC_UPSTREAM_CLAIM")
    oidc_upstream_scope: str = Field(default="openid profile", alias="OIDC_UPSTREAM_SCOPE")
    oidc_upstream_name: str = Field(default="全省统一身份认证", alias="OIDC_UPSTREAM_NAME")
    access_token_ttl_seconds: int = Field(default=900, ge=60, le=86400, alias="ACCESS_TOKEN_TTL")
    # People (CONTRACT v2): decisions only by a person who signed in; unset: true in production.
    decisions_require_person_setting: bool | None = Field(
        default=None, alias="DECISIONS_REQUIRE_PERSON"
    )
    refresh_token_ttl_seconds: int = Field(
        default=8 * 3600, ge=300, le=30 * 86400, alias="REFRESH_TOKEN_TTL"
    )

    # The routing policy (YAML, see schemas/routing-policy.schema.json); default: the packaged one.
    routing_policy_file: Path | None = Field(default=None, alias="ROUTING_POLICY_FILE")
    # How often each broker process looks for overdue steps and lapsed requests.
    sla_check_interval_seconds: float = Field(default=30.0, gt=0, alias="SLA_CHECK_INTERVAL")
    sla_job_enabled: bool = Field(default=True, alias="SLA_JOB")
    # Years of public holidays and make-up working days the packaged calendar lacks (YAML, see
    # schemas/holidays.schema.json), read and checked at start: broker/calendar.
    holidays_file: Path | None = Field(default=None, alias="HOLIDAYS_FILE")
    # The CDO evaluation's indicators and weights (YAML, see
    # schemas/evaluation-indicators.schema.json); default: the packaged ones. Checked at start.
    evaluation_indicators_file: Path | None = Field(
        default=None, alias="EVALUATION_INDICATORS_FILE"
    )

    # The outbox relay publishes committed events to Kafka from every broker process (they share
    # the work); OUTBOX_RELAY=false leaves it to `cdo-broker relay`. How often it looks for rows
    # committed by other processes (its own commits wake it at once):
    outbox_relay_enabled: bool = Field(default=True, alias="OUTBOX_RELAY")
    outbox_poll_interval_seconds: float = Field(
        default=0.1, gt=0, le=60, alias="OUTBOX_POLL_INTERVAL"
    )

    # The audit chain's HMAC keys, newest first (audit/keys.py): never stored in the database;
    # development mode generates one under BROKER_DEV_KEY_DIR, production refuses to start without.
    audit_key: str | None = Field(default=None, alias="AUDIT_KEY")

    # The grant feed (`GET /v1/grants/changes`): how often each process reads new changes (its
    # own commits wake it at once), and after how long without one a listener gets a heartbeat.
    grant_feed_poll_interval_seconds: float = Field(
        default=0.5, gt=0, le=60, alias="GRANT_FEED_POLL_INTERVAL"
    )
    grant_feed_heartbeat_seconds: float = Field(
        default=15.0, gt=0, le=300, alias="GRANT_FEED_HEARTBEAT"
    )

    # `cdo-broker archive`: published outbox rows and delivered webhooks older than this move to
    # their archive tables (broker/outbox/archive.py).
    archive_after_days: float = Field(default=30, gt=0, alias="ARCHIVE_AFTER_DAYS")

    # How long a rotated webhook secret keeps signing next to the new one.
    webhook_rotation_overlap_seconds: int = Field(
        default=86400, ge=0, alias="WEBHOOK_ROTATION_OVERLAP"
    )

    # The proxies (addresses or CIDRs, comma-separated) whose X-Forwarded-For and -Proto `serve`
    # believes. Lockouts and rates count per caller address (oauth/lockout.py): behind a proxy
    # not listed here every caller has the proxy's address. Never "*" where callers can reach
    # the broker other than through those proxies.
    forwarded_allow_ips: str = Field(default="127.0.0.1,::1", alias="FORWARDED_ALLOW_IPS")

    # Where operators open a trace: `{trace_id}` is replaced, e.g. Jaeger's
    # http://127.0.0.1:16686/trace/{trace_id}. The request timeline links each trace id to it.
    trace_ui_url: str | None = Field(default=None, alias="TRACE_UI_URL")

    # Abuse limits (kit/ratelimit.py), counted in Redis: rates are "N/second|minute|hour|day" or
    # "N/<seconds>s". Failed client authentications beyond AUTH_FAILURE_LIMIT (per client id and
    # address) or AUTH_FAILURE_LIMIT_ADDRESS (per address, of ids no client has) lock that pair,
    # or that address for unknown ids, out for AUTH_LOCKOUT seconds, doubling at each further
    # lockout up to AUTH_LOCKOUT_MAX (oauth/lockout.py says why so).
    rate_limit_prefix: str = Field(default="cdo:rl", min_length=1, alias="RATE_LIMIT_PREFIX")
    rate_limit_token: str = Field(default="120/minute", alias="RATE_LIMIT_TOKEN")
    rate_limit_introspect: str = Field(default="6000/minute", alias="RATE_LIMIT_INTROSPECT")
    rate_limit_submit: str = Field(default="600/minute", alias="RATE_LIMIT_SUBMIT")
    # Console sign-ins per address (console/lockout.py); failed ones lock (username, address)
    # pairs out as AUTH_FAILURE_LIMIT and AUTH_LOCKOUT say.
    rate_limit_signin: str = Field(default="60/minute", alias="RATE_LIMIT_SIGNIN")
    auth_failure_limit: str = Field(default="5/300s", alias="AUTH_FAILURE_LIMIT")
    auth_failure_limit_address: str = Field(default="100/300s", alias="AUTH_FAILURE_LIMIT_ADDRESS")
    auth_lockout_seconds: float = Field(default=60.0, gt=0, alias="AUTH_LOCKOUT")
    auth_lockout_max_seconds: float = Field(default=900.0, gt=0, alias="AUTH_LOCKOUT_MAX")
    max_body_bytes: int = Field(default=256 * 1024, ge=1024, alias="MAX_BODY_BYTES")

    @property
    def decisions_require_person(self) -> bool:
        if self.decisions_require_person_setting is not None:
            return self.decisions_require_person_setting
        return self.environment is Environment.production

    @field_validator(
        "rate_limit_token",
        "rate_limit_introspect",
        "rate_limit_submit",
        "rate_limit_signin",
        "auth_failure_limit",
        "auth_failure_limit_address",
    )
    @classmethod
    def _is_a_rate(cls, value: str) -> str:
        Rate.parse(value)
        return value

    @field_validator("trace_ui_url")
    @classmethod
    def _names_the_trace(cls, value: str | None) -> str | None:
        if value is not None and "{trace_id}" not in value:
            raise ValueError("TRACE_UI_URL must contain {trace_id}")
        return value or None
