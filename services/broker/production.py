"""What the broker refuses to start without: settings that would make a check silently pass.

- REDIS_URL in production. Revoked token ids and the lockout after failed client
  authentications live in Redis (oauth/revocation.py, kit/ratelimit.py); without it a revocation
  could not be kept and the lockout would be off. Refusing to start was chosen over keeping them
  in PostgreSQL when Redis is missing: production already runs Redis (readiness checks it, rate
  limits and idempotency keys live there), a second store for the same facts is a second code
  path to get wrong, and it would not help the case that matters at run time, Redis configured
  but down, where revocation and introspection answer 503 instead of pretending.
- An https OAUTH_ISSUER: the tokens' `iss` and `aud` and the metadata URLs. Plain http only in
  development and only on a loopback host (a local run, the tests).
- In production on PostgreSQL, a database role that cannot change audit rows (README, "The
  database roles"); checked when the database answers at start, skipped (with a warning) when it
  does not, so an outage does not keep the broker down.

The signing keys' strength is checked where they are loaded (oauth/keys.py).
"""

from __future__ import annotations

import ipaddress
import logging
from urllib.parse import urlsplit

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from broker.audit import repository as audit
from broker.settings import BrokerSettings
from core.settings import Environment

logger = logging.getLogger(__name__)


class RefusedToStart(RuntimeError):
    """The configuration would leave a check silently off: the process must not start."""


def is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refusals(settings: BrokerSettings) -> list[str]:
    """Why these settings may not serve, in words an operator acts on; empty if they may."""
    found = []
    production = settings.environment is Environment.production
    if production and not settings.redis_url:
        found.append(
            "BROKER_ENV=production needs REDIS_URL: token revocation and the lockout after "
            "failed client authentications are kept in Redis, and without it a revocation "
            "would change nothing"
        )
    issuer = urlsplit(settings.issuer)
    if issuer.scheme != "https" and not (
        not production and issuer.scheme == "http" and is_loopback(issuer.hostname)
    ):
        found.append(
            f"OAUTH_ISSUER must be an https URL ({settings.issuer!r} is not); plain http is "
            "allowed only in development and on a loopback host"
        )
    upstream = urlsplit(settings.oidc_upstream_issuer or "")
    if settings.oidc_upstream_issuer and (
        upstream.scheme != "https"
        and not (not production and upstream.scheme == "http" and is_loopback(upstream.hostname))
    ):
        found.append(
            f"OIDC_UPSTREAM_ISSUER must be an https URL ({settings.oidc_upstream_issuer!r} is "
            "not): people's sign-in is trusted to it"
        )
    if settings.oidc_upstream_issuer and not (
        settings.oidc_upstream_client_id and settings.oidc_upstream_client_secret
    ):
        found.append(
            "OIDC_UPSTREAM_ISSUER needs OIDC_UPSTREAM_CLIENT_ID and OIDC_UPSTREAM_CLIENT_SECRET, "
            "the broker's registration at the unified sign-on"
        )
    return found


async def audit_role_refusal(settings: BrokerSettings, engine: AsyncEngine) -> str | None:
    """In production on PostgreSQL: why the broker's role may not serve (it can change audit
    rows), or None."""
    if settings.environment is not Environment.production or engine.dialect.name != "postgresql":
        return None
    try:
        async with engine.connect() as connection:
            writable = await audit.role_may_change_rows(connection)
    except (DBAPIError, OSError) as exc:
        logger.warning("the audit log's privileges were not checked at start: %r", exc)
        return None
    if not writable:
        return None
    user = engine.url.username or "the broker's role"
    return (
        f"BROKER_ENV=production: the database role {user} may UPDATE, DELETE or TRUNCATE "
        "audit_log; connect as a role that may only append to it and migrate as the owner "
        "(MIGRATION_DATABASE_URL; README, 'The database roles')"
    )


async def check(settings: BrokerSettings, engine: AsyncEngine) -> None:
    """Raises `RefusedToStart` naming every reason at once."""
    found = refusals(settings)
    if not found and (role := await audit_role_refusal(settings, engine)):
        found.append(role)
    if found:
        raise RefusedToStart("the broker refuses to start: " + "; ".join(found))
