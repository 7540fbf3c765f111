"""Every error is RFC 9457 problem JSON; health and readiness tell the truth about dependencies."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from broker.app import create_app
from testing.apps import BASE_URL
from testing.clients import TokenFactory, bearer
from testing.processes import free_port
from testing.settings import Settings
from testing.waiting import wait_until

pytestmark = pytest.mark.integration
PROBLEM = "application/problem+json"


async def test_unknown_path_and_wrong_method(client: httpx.AsyncClient) -> None:
    missing = await client.get("/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
    assert missing.json()["type"].endswith("/not-found")

    wrong = await client.delete("/v1/organisations")
    assert wrong.status_code == 405
    assert wrong.headers["content-type"] == PROBLEM


async def test_a_body_that_is_not_json_is_415(
    client: httpx.AsyncClient, token_for: TokenFactory, province_bureau: str
) -> None:
    token = await token_for(province_bureau, "catalog:admin")
    response = await client.post(
        "/v1/datasets",
        headers=bearer(token) | {"content-type": "application/x-www-form-urlencoded"},
        content=b"id=x",
    )
    assert response.status_code == 415
    assert response.headers["content-type"] == PROBLEM


async def test_validation_errors_name_the_field(
    client: httpx.AsyncClient, token_for: TokenFactory, province_bureau: str
) -> None:
    token = await token_for(province_bureau, "catalog:admin")
    response = await client.post(
        "/v1/datasets",
        headers=bearer(token),
        json={
            "id": "test-ds-dup",
            "name": "重复字段",
            "name_en": "dup",
            "owner_id": province_bureau,
            "sharing_class": "sometimes",
            "fields": [{"name": "a", "label": "甲"}],
        },
    )
    assert response.status_code == 422
    problem = response.json()
    assert response.headers["content-type"] == PROBLEM
    assert problem["detail"].startswith("sharing_class")
    assert [e["field"] for e in problem["errors"]] == ["sharing_class"]
    assert (await client.get("/v1/datasets/test-ds-dup", headers=bearer(token))).status_code == 404


async def test_an_unexpected_error_is_500_without_internals(settings: Settings) -> None:
    app = create_app(settings)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http,
    ):
        response = await http.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text


async def test_a_statement_cut_off_by_postgresql_is_503(settings: Settings) -> None:
    """PostgreSQL restarting under a running statement: asyncpg says "connection was closed in
    the middle of operation", SQLAlchemy raises a plain DBAPIError; the caller must get a 503."""
    app = create_app(settings)
    backends: asyncio.Queue[int] = asyncio.Queue()

    @app.get("/slow")
    async def slow(request: Request) -> None:
        async with request.app.state.engine.connect() as connection:
            pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            await backends.put(pid)
            await connection.execute(text("SELECT pg_sleep(60)"))

    async def terminate() -> None:
        pid = await backends.get()
        async with app.state.engine.connect() as other:

            async def sleeping() -> bool:
                state = await other.scalar(
                    text("SELECT state FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
                )
                await other.commit()  # a fresh snapshot of pg_stat_activity each time
                return bool(state == "active")

            await wait_until(sleeping, limit_s=30, what="the slow statement to run")
            await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http,
    ):
        response, _ = await asyncio.gather(http.get("/slow"), terminate())
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"]
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"].endswith("/dependency-unavailable")


class _DriverError(Exception):
    """What asyncpg hands SQLAlchemy: an error carrying its SQLSTATE."""

    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("sqlstate", "status"),
    [("57P03", 503), ("57P01", 503), ("08006", 503), ("22012", 500)],
)
async def test_database_errors_by_sqlstate(settings: Settings, sqlstate: str, status: int) -> None:
    """Refused while PostgreSQL shuts down or starts (57P0x), or a broken connection (08xxx),
    is a 503 to retry; any other database error stays a 500."""
    app = create_app(settings)

    @app.get("/db")
    async def db() -> None:
        raise DBAPIError(
            "SELECT 1", None, _DriverError("the database system is shutting down", sqlstate)
        )

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http,
    ):
        response = await http.get("/db")
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    assert ("retry-after" in response.headers) == (status == 503)


async def test_health_and_readiness_with_everything_up(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok", "kafka": "ok"}


@pytest.fixture
async def app_with_dead_dependencies(settings: Settings) -> AsyncIterator[FastAPI]:
    port = free_port()
    broken = settings.model_copy(
        update={
            "database_url": settings.database_url.replace(
                settings.database_url.split("@")[1].split("/")[0], f"127.0.0.1:{port}"
            ),
            "redis_url": f"redis://127.0.0.1:{port}/0",
            "kafka_bootstrap_servers": f"127.0.0.1:{port}",
            "dependency_timeout_seconds": 1.0,
        }
    )
    app = create_app(broken)
    async with app.router.lifespan_context(app):
        yield app


async def test_dependencies_down_answer_503_with_retry_after(
    app: FastAPI, app_with_dead_dependencies: FastAPI, token_for: TokenFactory, city_department: str
) -> None:
    # the same signing key, so the token is valid and only the database is missing
    app_with_dead_dependencies.state.keyring = app.state.keyring
    token = await token_for(city_department, "requests:read")
    transport = httpx.ASGITransport(app=app_with_dead_dependencies)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        ready = await http.get("/readyz")
        listing = await http.get("/v1/organisations", headers=bearer(token))
        alive = await http.get("/healthz")

    assert ready.status_code == 503
    assert ready.headers["retry-after"]
    assert set(ready.json()["checks"]) == {"database", "redis", "kafka"}
    assert all(v != "ok" for v in ready.json()["checks"].values())
    assert listing.status_code == 503
    assert listing.headers["retry-after"]
    assert listing.headers["content-type"] == PROBLEM
    assert alive.status_code == 200
