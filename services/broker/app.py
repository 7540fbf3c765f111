"""The broker's ASGI application: `create_app()` wires routers; `lifespan` owns the clients."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from redis.asyncio import Redis
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker import production
from broker.appointments.endpoints import router as appointments_router
from broker.audit.keys import audit_keys_from_settings
from broker.calendar.installed import calendar_from
from broker.calendar.installed import install as install_calendar
from broker.calendar.metrics import watch_calendar
from broker.catalog.endpoints import router as catalog_router
from broker.console.mount import install_console
from broker.directory.endpoints import router as directory_router
from broker.directory.repository import current_view
from broker.evaluation.dependencies import EVALUATION_INDICATORS
from broker.evaluation.endpoints import router as evaluation_router
from broker.evaluation.indicators import load_indicators
from broker.grants.dependencies import GRANT_FEED
from broker.grants.endpoints import router as grants_router
from broker.grants.feed import GrantFeed
from broker.health.endpoints import router as health_router
from broker.kit.body_limit import LimitBodySize
from broker.kit.content_type import RequireJSONBody
from broker.kit.deps import (
    AUTOCOMMIT_SESSIONMAKER,
    ENGINE,
    RATE_LIMITER,
    REDIS,
    SESSIONMAKER,
    SETTINGS,
    AppResource,
)
from broker.kit.nul_characters import RefuseNulCharacters
from broker.kit.problem_docs import document_problems
from broker.kit.problem_handlers import install_problem_handlers
from broker.kit.ratelimit import RateLimiter
from broker.notifications.endpoints import router as notifications_router
from broker.oauth.client_cache import ClientCache
from broker.oauth.dependencies import (
    AUTHORIZATION_SERVER,
    CLIENT_CACHE,
    EXTERNAL_ISSUER,
    KEYRING,
    STANDING_CACHE,
    UPSTREAM,
)
from broker.oauth.endpoints import router as oauth_router
from broker.oauth.external import ExternalIssuer
from broker.oauth.keys import load_keyring
from broker.oauth.oidc_endpoints import router as oidc_router
from broker.oauth.server import BrokerAuthorizationServer
from broker.oauth.standing import REDIS_INFO, StandingCache
from broker.oauth.upstream import UpstreamProvider
from broker.oauth.uses import FLUSH_INTERVAL_S, UseFlusher
from broker.outbox.metrics import watch_backlog
from broker.outbox.relay import OutboxRelay
from broker.problems.endpoints import router as problems_router
from broker.publication.endpoints import router as publication_router
from broker.reports.endpoints import router as reports_router
from broker.requests import sla
from broker.requests.dependencies import ROUTING_POLICY
from broker.requests.endpoints import router as requests_router
from broker.requests.links import Links
from broker.routing.policy import load_policy
from broker.settings import BrokerSettings
from broker.webhooks.endpoints import router as webhooks_router
from core.clock import utcnow
from core.db import create_engine, create_sessionmaker
from core.heap import freeze_long_lived, thaw
from core.telemetry import configure_tracing, instrument_app, instrument_engine, instrument_redis
from core.webhooks.secrets import cipher_from_settings

BACKLOG_SAMPLE_S = 10.0  # how often the outbox backlog gauges are refreshed
# The relay this process runs, if any: no endpoint needs it, whoever inspects a running app may.
OUTBOX_RELAY = AppResource[OutboxRelay | None]("outbox_relay")
logger = logging.getLogger(__name__)


async def _load_directory(sessionmaker: async_sessionmaker[AsyncSession], timeout_s: float) -> None:
    """The process's directory cache, loaded at start: the first filing does not pay for it, and
    it is frozen with the rest of what start-up leaves (`core/heap.py`). A database that cannot
    answer now only defers the load to the first filing, as before."""
    try:
        async with asyncio.timeout(timeout_s), sessionmaker() as session:
            await current_view(session, utcnow())
    except (DBAPIError, OSError, TimeoutError) as exc:
        logger.warning("the directory cache was not loaded at start: %r", exc)


def create_app(
    settings: BrokerSettings | None = None, *, tracer_provider: TracerProvider | None = None
) -> FastAPI:
    """The app; tracing as the `OTEL_*` variables say, or into `tracer_provider` (tests)."""
    settings = settings or BrokerSettings()
    tracer_provider = tracer_provider or configure_tracing("cdo-broker")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # A bad HOLIDAYS_FILE stops the start, naming the entry.
        uninstall_calendar = install_calendar(calendar_from(settings.holidays_file))
        watch_calendar()
        engine = create_engine(settings.database_url)
        try:
            await production.check(settings, engine)
        except BaseException:
            await engine.dispose()
            uninstall_calendar()
            raise
        redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
        # The limits' own client: each of the limiter's calls is bounded by DEPENDENCY_TIMEOUT
        # already (kit/ratelimit.py), so it goes without redis-py's per-command socket timeout
        # (a task and a timer around every command's write, a timeout around its read: a third
        # of the client's CPU a command); every other use of Redis keeps it.
        limits_redis = (
            Redis.from_url(settings.redis_url, socket_timeout=None) if settings.redis_url else None
        )
        if tracer_provider is not None:
            instrument_engine(engine, tracer_provider)
            for client in (redis, limits_redis):
                if client is not None:
                    instrument_redis(client, tracer_provider)
        keyring = load_keyring(settings)
        cipher_from_settings(settings)  # production without WEBHOOK_SECRET_KEY fails here
        audit_keys = audit_keys_from_settings(settings)  # and without AUDIT_KEY here
        SETTINGS.put(app, settings)
        ENGINE.put(app, engine)
        # Each session carries the app's Redis: a grant writer moves the grants' version there.
        info = {"audit_keys": audit_keys, REDIS_INFO: redis}
        sessionmaker = SESSIONMAKER.put(app, create_sessionmaker(engine, **info))
        autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        AUTOCOMMIT_SESSIONMAKER.put(app, create_sessionmaker(autocommit, **info))
        REDIS.put(app, redis)
        RATE_LIMITER.put(
            app,
            RateLimiter(
                limits_redis,
                prefix=settings.rate_limit_prefix,
                timeout_s=settings.dependency_timeout_seconds,
            ),
        )
        KEYRING.put(app, keyring)
        EXTERNAL_ISSUER.put(
            app,
            ExternalIssuer(
                settings.external_issuer,
                settings.external_jwks_url,
                settings.external_org_claim,
                settings.external_audience or settings.issuer,
                min_refetch_s=settings.external_jwks_min_refetch_seconds,
            )
            if settings.external_issuer and settings.external_jwks_url
            else None,
        )
        UPSTREAM.put(app, UpstreamProvider.of(settings))
        CLIENT_CACHE.put(app, ClientCache())
        STANDING_CACHE.put(app, StandingCache())
        AUTHORIZATION_SERVER.put(
            app,
            BrokerAuthorizationServer(keyring, settings.issuer, settings.access_token_ttl_seconds),
        )
        policy = ROUTING_POLICY.put(app, load_policy(settings.routing_policy_file))
        EVALUATION_INDICATORS.put(app, load_indicators(settings.evaluation_indicators_file))
        await _load_directory(sessionmaker, settings.dependency_timeout_seconds)
        freeze_long_lived()  # before the background loops start: only what stays is alive
        stop = asyncio.Event()
        background: list[asyncio.Task[None]] = []
        if settings.sla_job_enabled:
            background.append(
                asyncio.create_task(
                    sla.run_forever(
                        sessionmaker,
                        policy=policy,
                        links=Links.of(settings),
                        interval_s=settings.sla_check_interval_seconds,
                        stop=stop,
                        tracer=trace.get_tracer(
                            "broker.requests.sla", tracer_provider=tracer_provider
                        ),
                    ),
                    name="sla-job",
                )
            )
        background.append(
            asyncio.create_task(
                watch_backlog(sessionmaker, interval_s=BACKLOG_SAMPLE_S, stop=stop),
                name="outbox-backlog",
            )
        )
        feed = GRANT_FEED.put(
            app, GrantFeed(sessionmaker, poll_s=settings.grant_feed_poll_interval_seconds)
        )
        background.append(asyncio.create_task(feed.run(stop), name="grant-feed"))
        relay = OUTBOX_RELAY.put(
            app,
            OutboxRelay.from_settings(engine, settings, tracer_provider=tracer_provider)
            if settings.kafka_bootstrap_servers and settings.outbox_relay_enabled
            else None,
        )
        if relay is not None:
            background.append(asyncio.create_task(relay.run(stop), name="outbox-relay"))
        if redis is not None:  # introspections' uses counted in Redis, added to the grants
            flusher = UseFlusher(redis, sessionmaker, interval_s=FLUSH_INTERVAL_S)
            background.append(asyncio.create_task(flusher.run(stop), name="grant-uses"))
        try:
            yield
        finally:
            thaw()
            stop.set()
            await asyncio.gather(*background, return_exceptions=True)
            for client in (redis, limits_redis):
                if client is not None:
                    await client.aclose()
            await engine.dispose()
            uninstall_calendar()

    app = FastAPI(
        title="CDO data-sharing broker",
        version="1.0.0",
        description="Files cross-department and cross-level data-sharing requests, routes them "
        "to the responsible Chief Data Officers and turns approvals into OAuth grants.",
        lifespan=lifespan,
        docs_url=None,  # served from vendored files instead (console/mount.py)
        redoc_url=None,  # ReDoc would load from a CDN
    )
    install_problem_handlers(app)
    document_problems(app)
    if tracer_provider is not None:
        instrument_app(app, tracer_provider)
    app.add_middleware(RefuseNulCharacters)
    app.add_middleware(RequireJSONBody)
    app.add_middleware(LimitBodySize, max_bytes=settings.max_body_bytes)
    for router in (
        health_router,
        oauth_router,
        directory_router,
        appointments_router,
        catalog_router,
        publication_router,
        requests_router,
        grants_router,
        reports_router,
        evaluation_router,
        problems_router,
        webhooks_router,
        notifications_router,
        oidc_router,
    ):
        app.include_router(router)
    install_console(app)
    return app
