"""The broker's app and the notifier run in the test's own process: more broker apps over the
suite's database with some settings changed, served over ASGI or over real HTTP, and the real
notifier in a consumer group of its own."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider

from broker.app import create_app
from broker.requests.links import Links
from notifier.cli import serve
from notifier.consumer import TOPICS
from testing.kafka import group_at_the_end
from testing.processes import free_port
from testing.settings import Settings
from testing.waiting import wait_until

BASE_URL = "http://localhost"  # loopback, so authlib accepts plain http in tests
LINKS = Links(api_base=BASE_URL, console_base=f"{BASE_URL}/console")  # as the settings say


@asynccontextmanager
async def broker_with(
    app: FastAPI,
    settings: Settings,
    *,
    tracer_provider: TracerProvider | None = None,
    client_address: str = "127.0.0.1",
    **overrides: Any,
) -> AsyncIterator[httpx.AsyncClient]:
    """Another broker app over the same database with some settings changed (a policy file,
    loopback webhooks, a dead dependency), accepting the tokens `app` signs, traced into
    `tracer_provider` if one is given, called from `client_address`. Its background jobs are
    off unless asked for, so they do not race the session's own."""
    changed = {"sla_job_enabled": False, "outbox_relay_enabled": False} | overrides
    other = create_app(settings.model_copy(update=changed), tracer_provider=tracer_provider)
    async with other.router.lifespan_context(other):
        other.state.keyring = app.state.keyring
        transport = httpx.ASGITransport(app=other, client=(client_address, 50123))
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
            yield http


@asynccontextmanager
async def served_app(
    settings: Settings, *, host: str = "127.0.0.1", port: int | None = None, **overrides: Any
) -> AsyncIterator[tuple[str, FastAPI]]:
    """Another broker app over the same database, served by uvicorn on a loopback port in this
    process (real HTTP: streams stream), its issuer that URL; yields the URL and the app. Its
    background jobs are off unless asked for, like `broker_with`'s; its grant feed runs. `host`:
    the name in its URL (`localhost` keeps a browser's cookies apart from 127.0.0.1's)."""
    port = port or free_port()
    url = f"http://{host}:{port}"
    changed = {"sla_job_enabled": False, "outbox_relay_enabled": False, "issuer": url}
    served = create_app(settings.model_copy(update=changed | overrides))
    async with served.router.lifespan_context(served):
        config = uvicorn.Config(
            served, host="127.0.0.1", port=port, lifespan="off", log_level="warning"
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        await wait_until(lambda: server.started or task.done(), limit_s=10, what="uvicorn")
        assert server.started, task
        try:
            yield url, served
        finally:
            server.should_exit = True
            await task


@asynccontextmanager
async def served_broker(
    settings: Settings, *, host: str = "127.0.0.1", port: int | None = None, **overrides: Any
) -> AsyncIterator[str]:
    """`served_app`'s URL."""
    async with served_app(settings, host=host, port=port, **overrides) as (url, _):
        yield url


@asynccontextmanager
async def running_notifier(
    settings: Settings,
    tracer_provider: TracerProvider | None = None,
    *,
    http: tuple[str, int] | None = None,
    **overrides: Any,
) -> AsyncIterator[None]:
    """The real notifier in this process, as the local demo runs it (loopback webhook URLs
    allowed), in a consumer group of its own that starts at the topics' end (they hold earlier
    runs' events); returns once it has joined its group. `http`: where it answers `/healthz`,
    `/readyz` and `/metrics`."""
    assert settings.kafka_bootstrap_servers
    group = f"test-{secrets.token_hex(4)}"
    await group_at_the_end(settings.kafka_bootstrap_servers, group, TOPICS)
    local = settings.model_copy(
        update={"webhook_allow_private_urls": True, "notifier_group_id": group} | overrides
    )
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(
        serve(local, stop, ready=ready, tracer_provider=tracer_provider, http=http)
    )
    await wait_until(ready.is_set, limit_s=30, what="the notifier to join its group")
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)
