"""Later calls about a request run in traces of their own, each linked to the request's first
trace (the one its `trace_id` names): a decision, a grant token for its grant, a revocation, and
an escalation by the SLA job."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.oauth.clients import create_client
from broker.requests import sla
from core.clock import utcnow
from core.models.requests import RequestStep
from core.telemetry import configure_tracing
from testing.apps import LINKS, broker_with
from testing.clients import ALL_SCOPES, TokenFactory, bearer, decide, file
from testing.settings import Settings
from testing.workloads import request_body

pytestmark = pytest.mark.integration
# 广州市医疗保障局 asks 广州市公安局 for household data: a pair no other test uses, so the
# requester holds exactly the grant this test makes.
REQUESTER, PROVIDER = "gz-ybj", "gz-gaj"
DATASET = "gz-gaj-household-migration"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> TracerProvider:
    traced = configure_tracing(
        "cdo-broker", span_processor=SimpleSpanProcessor(exporter), install_global=False
    )
    assert traced is not None
    return traced


@pytest.fixture
async def traced(
    app: FastAPI, settings: Settings, provider: TracerProvider
) -> AsyncIterator[httpx.AsyncClient]:
    async with broker_with(app, settings, tracer_provider=provider) as http:
        yield http
    provider.shutdown()


def _servers(exporter: InMemorySpanExporter, route: str) -> list[ReadableSpan]:
    return [
        s
        for s in exporter.get_finished_spans()
        if s.kind is SpanKind.SERVER and (s.attributes or {}).get("http.route") == route
    ]


def _links_to(span: ReadableSpan, trace_id: str, span_id: int) -> bool:
    return any(
        f"{link.context.trace_id:032x}" == trace_id and link.context.span_id == span_id
        for link in span.links
    )


async def test_later_calls_link_to_the_requests_first_trace(
    traced: httpx.AsyncClient,
    exporter: InMemorySpanExporter,
    token_for: TokenFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    requester = bearer(await token_for(REQUESTER, ALL_SCOPES))
    provider_cdo = bearer(await token_for(PROVIDER, ALL_SCOPES + " grants:revoke"))

    filed = (await file(traced, requester, request_body(DATASET, ["id_number"]))).json()
    trace_id = filed["trace_id"]
    [filing] = _servers(exporter, "/v1/requests")
    assert f"{filing.context.trace_id:032x}" == trace_id
    filing_span = filing.context.span_id

    decided = await decide(traced, provider_cdo, filed["id"], decision="approve")
    assert decided.json()["status"] == "approved", decided.text
    [decision] = _servers(exporter, "/v1/requests/{request_id}/decision")
    assert f"{decision.context.trace_id:032x}" != trace_id  # a trace of its own...
    assert _links_to(decision, trace_id, filing_span)  # ...linked to the request's
    assert (decision.attributes or {})["cdo.request_id"] == filed["id"]

    async with sessionmaker() as session:
        client, secret = await create_client(
            session, organisation_id=REQUESTER, scope=f"grants:use dataset:{DATASET}:read"
        )
        await session.commit()
    token = await traced.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": f"dataset:{DATASET}:read"},
        auth=(client.id, secret),
    )
    assert token.status_code == 200, token.text
    [token_call] = _servers(exporter, "/oauth/token")
    assert _links_to(token_call, trace_id, filing_span)

    grant_id = decided.json()["grant_id"]
    revoked = await traced.post(
        f"/v1/grants/{grant_id}/revoke", headers=provider_cdo, json={"reason": "test"}
    )
    assert revoked.status_code == 200, revoked.text
    [revocation] = _servers(exporter, "/v1/grants/{grant_id}/revoke")
    assert _links_to(revocation, trace_id, filing_span)


async def test_an_escalation_is_a_trace_linked_to_the_request(
    app: FastAPI,
    traced: httpx.AsyncClient,
    provider: TracerProvider,
    exporter: InMemorySpanExporter,
    token_for: TokenFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    requester = bearer(await token_for(REQUESTER, ALL_SCOPES))
    filed = (await file(traced, requester, request_body(DATASET, ["id_number"]))).json()
    [filing] = [
        s
        for s in _servers(exporter, "/v1/requests")
        if f"{s.context.trace_id:032x}" == filed["trace_id"]
    ]
    async with sessionmaker() as session:
        await session.execute(
            update(RequestStep)
            .where(RequestStep.request_id == filed["id"])
            .values(due_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()

    await sla.run_once(
        sessionmaker,
        policy=app.state.routing_policy,
        links=LINKS,
        tracer=provider.get_tracer("test"),
    )

    escalations = [
        s
        for s in exporter.get_finished_spans()
        if s.name == "sla escalate" and (s.attributes or {}).get("cdo.request_id") == filed["id"]
    ]
    assert len(escalations) == 1
    [escalation] = escalations
    assert escalation.parent is None  # the job's own trace
    assert _links_to(escalation, filed["trace_id"], filing.context.span_id)
