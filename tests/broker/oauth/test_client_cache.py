"""The OAuth clients each broker process keeps (oauth/client_cache.py): never a client that has
changed, on any replica, whether Redis answers or not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from redis.asyncio import Redis

from broker.app import create_app
from broker.oauth import revocation
from broker.oauth.client_cache import ClientCache
from broker.oauth.server import ClientRecord, DataGrant
from broker.settings import BrokerSettings as Settings
from testing.apps import BASE_URL
from testing.clients import Sessions, new_client
from testing.processes import cdo_broker

Auth = tuple[str, str]


def _record(client_id: str = "cli_a", secret_hash: str = "h1") -> ClientRecord:
    return ClientRecord(client_id, "gz-rsj", "requests:read", secret_hash, revoked=False)


def test_a_client_is_kept_only_while_the_version_it_was_read_at_holds() -> None:
    cache = ClientCache()
    assert cache.get(b"v1", "cli_a") is None
    cache.put(b"v1", _record())
    assert cache.get(b"v1", "cli_a") == _record()
    assert cache.get(b"v2", "cli_a") is None  # moved: everything kept is dropped
    assert cache.get(b"v1", "cli_a") is None  # and not brought back by an older reader
    cache.put(b"v2", _record(secret_hash="h2"))  # read before the version went back to v1
    assert cache.get(b"v1", "cli_a") is None


def test_nothing_is_served_or_kept_while_the_version_is_not_known() -> None:
    cache = ClientCache()
    cache.get(b"v1", "cli_a")
    cache.put(b"v1", _record())
    assert cache.get(None, "cli_a") is None  # Redis did not answer: the database decides
    cache.put(None, _record(secret_hash="h2"))
    assert cache.get(b"v1", "cli_a") == _record()


def test_an_entry_is_trusted_for_its_maximum_age_at_most() -> None:
    cache = ClientCache(max_age_s=0.0)
    cache.get(b"v1", "cli_a")
    cache.put(b"v1", _record())
    assert cache.get(b"v1", "cli_a") is None


def test_a_kept_client_carries_no_grants() -> None:
    cache = ClientCache()
    cache.get(b"v1", "cli_a")
    grant = DataGrant("grt_1", "d", ("f",), "purpose", None, 0, "req_1", ("t", "s"))
    with_grants = ClientRecord("cli_a", "gz-rsj", "requests:read", "h1", False, grants={"d": grant})
    cache.put(b"v1", with_grants)
    kept = cache.get(b"v1", "cli_a")
    assert kept is not None
    assert kept.grants == {}


@asynccontextmanager
async def _replica(settings: Settings, **changes: object) -> AsyncIterator[httpx.AsyncClient]:
    """One more broker process on the same database (and, unless told, the same Redis)."""
    app = create_app(
        settings.model_copy(
            update={"sla_job_enabled": False, "outbox_relay_enabled": False, **changes}
        )
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
            yield http


async def _token(http: httpx.AsyncClient, auth: Auth) -> httpx.Response:
    return await http.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=auth)


def _assert_invalid_client(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"


async def _introspect(http: httpx.AsyncClient, auth: Auth, token: str) -> httpx.Response:
    return await http.post("/oauth/introspect", data={"token": token}, auth=auth)


@pytest.mark.integration
async def test_a_client_revoked_is_refused_by_every_replica_once_its_revocation_key_is_gone(
    settings: Settings, sessionmaker: Sessions, migrated: str, seeded: object
) -> None:
    auth = await new_client(sessionmaker, "gz-rsj", "requests:read tokens:introspect")
    async with _replica(settings) as one, _replica(settings) as two:
        for http in (one, two):  # each process now keeps the client
            token = (await _token(http, auth)).json()["access_token"]
            assert (await _introspect(http, auth, token)).json()["active"] is True

        revoked = cdo_broker("client", "revoke", "--id", auth[0], database_url=migrated)
        assert revoked.returncode == 0, revoked.stderr
        # As if the revocation key had expired: the replicas must have dropped what they kept.
        assert settings.redis_url
        redis = Redis.from_url(settings.redis_url)
        try:
            await redis.delete(revocation.client_key(auth[0]))
        finally:
            await redis.aclose()

        for http in (one, two):
            refused = await _token(http, auth)
            _assert_invalid_client(refused)
            refused = await _introspect(http, auth, token)
            _assert_invalid_client(refused)


@pytest.mark.integration
async def test_a_client_whose_revocation_is_in_redis_is_refused_before_it_commits(
    settings: Settings, sessionmaker: Sessions, seeded: object
) -> None:
    auth = await new_client(sessionmaker, "gz-rsj", "requests:read")
    assert settings.redis_url
    async with _replica(settings) as http:
        assert (await _token(http, auth)).status_code == 200  # kept
        redis = Redis.from_url(settings.redis_url)
        try:  # what `client revoke` writes before its commit
            await revocation.revoke_client(redis, auth[0], seconds_left=60)
        finally:
            await redis.aclose()
        refused = await _token(http, auth)
    _assert_invalid_client(refused)


@pytest.mark.integration
async def test_without_redis_every_call_reads_its_client_from_the_database(
    settings: Settings, sessionmaker: Sessions, migrated: str, seeded: object
) -> None:
    auth = await new_client(sessionmaker, "gz-rsj", "requests:read")
    # This process cannot reach Redis, so it never learns of the version the revocation sets.
    async with _replica(settings, redis_url="redis://127.0.0.1:1/0") as http:
        assert (await _token(http, auth)).status_code == 200
        revoked = cdo_broker("client", "revoke", "--id", auth[0], database_url=migrated)
        assert revoked.returncode == 0, revoked.stderr
        refused = await _token(http, auth)
    _assert_invalid_client(refused)
