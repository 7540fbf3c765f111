"""The local stack's Jaeger: a request filed through a real broker process leaves its trace, with
the broker's and the notifier's spans, where Jaeger's query API and the trace page find it by the
201's `trace_id`.

Jaeger runs from the binary built in the default state dir: `deploy/local/test` starts that build
(minutes, the first time) beside the suite, and this waits for it. It runs in a state dir of its
own on free ports (`start-jaeger`), and `down` stops it whatever the outcome.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier.consumer import TOPICS
from testing.clients import ALL_SCOPES, bearer_from
from testing.kafka import group_at_the_end
from testing.processes import free_port, module, running, serving_broker
from testing.settings import Settings
from testing.stacks import Stack, exported
from testing.waiting import wait_until
from testing.workloads import request_body

# A first build on a busy two-core machine: about 5 minutes, more while the suite runs beside it.
BUILD_LIMIT_S = 1200
pytestmark = [pytest.mark.stack, pytest.mark.timeout(BUILD_LIMIT_S + 300)]


@asynccontextmanager
async def local_jaeger(root: Path) -> AsyncIterator[dict[str, str]]:
    """Jaeger started by the stack on free ports; its export lines."""
    await Stack.default().run("build-jaeger", limit_s=BUILD_LIMIT_S)
    ports = {
        "JAEGER_UI_PORT": str(free_port()),
        "JAEGER_OTLP_GRPC_PORT": str(free_port()),
        "JAEGER_OTLP_HTTP_PORT": str(free_port()),
    }
    stack = Stack(root / "stack", env=ports)
    stack.borrow("jaeger/bin", ".sum")
    try:
        yield exported(await stack.run("start-jaeger"))
    finally:
        await stack.down()


async def _spans_of(ui: str, trace_id: str) -> list[tuple[str, str]]:
    """(service, operation) of every span Jaeger holds of the trace; [] while it has none."""
    async with httpx.AsyncClient(base_url=ui) as http:
        answer = await http.get(f"/api/traces/{trace_id}")
    if answer.status_code == 404:
        return []
    assert answer.status_code == 200, answer.text
    [trace] = answer.json()["data"]
    services = {key: process["serviceName"] for key, process in trace["processes"].items()}
    return [(services[span["processID"]], span["operationName"]) for span in trace["spans"]]


async def test_a_filed_requests_trace_is_in_jaeger(
    settings: Settings,
    seeded: Any,
    sessionmaker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    assert settings.kafka_bootstrap_servers
    group = f"test-jaeger-{os.getpid()}-{free_port()}"
    await group_at_the_end(settings.kafka_bootstrap_servers, group, TOPICS)

    async with local_jaeger(tmp_path) as tracing:
        ui = tracing["TRACE_UI_URL"].removesuffix("/trace/{trace_id}")
        port = free_port()
        env = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")} | {
            "DATABASE_URL": settings.database_url,
            "OAUTH_ISSUER": f"http://127.0.0.1:{port}",
            "BROKER_DEV_KEY_DIR": str(settings.dev_key_dir),
            "SLA_JOB": "false",
            "NOTIFIER_GROUP_ID": group,
            "NOTIFIER_HTTP_PORT": str(free_port()),
            **tracing,
        }
        async with AsyncExitStack() as processes:
            await processes.enter_async_context(
                running("notifier", module("cdo_cli", "notifier"), env)
            )
            await processes.enter_async_context(serving_broker(env, port))
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                filed = await http.post(
                    "/v1/requests",
                    headers=await bearer_from(http, sessionmaker, "gz-rsj", ALL_SCOPES),
                    json=request_body("gz-gaj-household-migration", ["id_number"]),
                )
            assert filed.status_code == 201, filed.text
            trace_id = filed.json()["trace_id"]

            spans: list[tuple[str, str]] = []

            async def broker_and_notifier_spans() -> bool:
                nonlocal spans
                spans = await _spans_of(ui, trace_id)
                return ("cdo-broker", "POST /v1/requests") in spans and any(
                    service == "cdo-notifier" and operation.startswith("process datashare.")
                    for service, operation in spans
                )

            # The services export in batches, every few seconds.
            await wait_until(
                broker_and_notifier_spans, limit_s=60, poll_s=0.5,
                what=f"the broker's and the notifier's spans of trace {trace_id} in Jaeger",
            )  # fmt: skip

        assert ("cdo-notifier", "process datashare.approvals") in spans
        async with httpx.AsyncClient() as http:
            page = await http.get(tracing["TRACE_UI_URL"].replace("{trace_id}", trace_id))
        assert page.status_code == 200
        assert "<title>Traces · cdo-broker local Jaeger</title>" in page.text
