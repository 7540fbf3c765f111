"""One trace from filing to webhook: the broker's HTTP server span, its database spans, the outbox
relay's Kafka publish span, the notifier's process span and the webhook POST's client span, with
the receiver seeing the POST span in `traceparent`. Both services export into one in-memory
exporter, each through its own tracer provider (nothing process-wide is installed)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from broker.app import create_app
from core import topics
from core.telemetry import configure_tracing
from testing.apps import BASE_URL, running_notifier
from testing.clients import ALL_SCOPES, TokenFactory, bearer
from testing.receivers import Receiver, running_receiver
from testing.settings import Settings
from testing.waiting import wait_until
from testing.workloads import request_body

pytestmark = pytest.mark.integration
# 深圳市交通运输局 and its government: orgs whose endpoints no other test registers
REQUESTER, APPROVER = "sz-jtj", "sz-gov"


def _provider(service: str, exporter: InMemorySpanExporter) -> TracerProvider:
    provider = configure_tracing(
        service, span_processor=SimpleSpanProcessor(exporter), install_global=False
    )
    assert provider is not None
    return provider


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
async def traced_broker(
    app: FastAPI, settings: Settings, exporter: InMemorySpanExporter
) -> AsyncIterator[httpx.AsyncClient]:
    """A broker app traced into `exporter`, with its own relay. The session app's relay shares
    the outbox's shards with it, so for this test it traces into the same provider too."""
    provider = _provider("cdo-broker", exporter)
    changed = {
        "sla_job_enabled": False,
        "outbox_relay_enabled": True,
        "webhook_allow_private_urls": True,
    }
    traced = create_app(settings.model_copy(update=changed), tracer_provider=provider)
    session_relay = app.state.outbox_relay
    untraced = session_relay.publisher.tracer
    session_relay.publisher.tracer = trace.get_tracer(
        "broker.outbox.relay", tracer_provider=provider
    )
    try:
        async with traced.router.lifespan_context(traced):
            traced.state.keyring = app.state.keyring
            transport = httpx.ASGITransport(app=traced)
            async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
                yield http
    finally:
        session_relay.publisher.tracer = untraced
        provider.shutdown()


@pytest.fixture
async def traced_notifier(
    settings: Settings, exporter: InMemorySpanExporter
) -> AsyncIterator[None]:
    provider = _provider("cdo-notifier", exporter)
    async with running_notifier(settings, provider):
        yield
    provider.shutdown()


def _service(span: ReadableSpan) -> Any:
    return span.resource.attributes.get("service.name")


def _parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


async def test_filing_to_webhook_is_one_trace(
    traced_broker: httpx.AsyncClient,
    traced_notifier: None,
    exporter: InMemorySpanExporter,
    token_for: TokenFactory,
) -> None:
    approver = bearer(await token_for(APPROVER, ALL_SCOPES + " webhooks:manage"))
    requester = bearer(await token_for(REQUESTER, ALL_SCOPES))
    receiver: Receiver
    async with running_receiver() as receiver:
        registered = await traced_broker.put(
            "/v1/webhooks/endpoint", headers=approver, json={"url": receiver.url}
        )
        assert registered.status_code in (200, 201), registered.text

        filed = await traced_broker.post(
            "/v1/requests",
            headers=requester,
            json=request_body("gd-rst-social-insurance-enrolment", ["id_number"]),
        )
        assert filed.status_code == 201, filed.text
        request_id, trace_id = filed.json()["id"], filed.json()["trace_id"]

        def task_heard() -> bool:
            return any(
                json.loads(r.body)["type"] == "approval.requested"
                and json.loads(r.body)["data"]["request_id"] == request_id
                for r in receiver.requests
            )

        await wait_until(task_heard, limit_s=60, what="the approver's webhook")

    webhook = next(
        r
        for r in receiver.requests
        if json.loads(r.body)["type"] == "approval.requested"
        and json.loads(r.body)["data"]["request_id"] == request_id
    )
    _, heard_trace, heard_span, _ = webhook.headers["traceparent"].split("-")
    assert heard_trace == trace_id

    def spans_of_trace() -> dict[int, ReadableSpan]:
        return {
            s.context.span_id: s
            for s in exporter.get_finished_spans()
            if s.context is not None and f"{s.context.trace_id:032x}" == trace_id
        }

    def post_and_its_parent() -> bool:
        spans = spans_of_trace()
        post = spans.get(int(heard_span, 16))
        return post is not None and (_parent_id(post) or 0) in spans

    # The POST span ends just after the receiver answers; the consumer's `process` span, its
    # parent, when its batch is handled (dead letters acked), which on a busy machine can be later.
    await wait_until(post_and_its_parent, limit_s=10, what="the POST span and its parent")
    spans = spans_of_trace()

    post = spans[int(heard_span, 16)]
    assert post.kind is SpanKind.CLIENT
    assert _service(post) == "cdo-notifier"
    assert post.attributes is not None
    assert post.attributes.get("http.request.method", post.attributes.get("http.method")) == "POST"

    process = spans[_parent_id(post) or 0]
    assert process.kind is SpanKind.CONSUMER
    assert _service(process) == "cdo-notifier"
    assert process.attributes is not None
    assert process.attributes["messaging.system"] == "kafka"
    assert process.attributes["messaging.operation.type"] == "process"
    assert process.attributes["messaging.destination.name"] == topics.APPROVALS
    assert process.attributes["messaging.kafka.message.key"] == APPROVER
    assert isinstance(process.attributes["messaging.kafka.offset"], int)
    assert str(process.attributes["messaging.consumer.group.name"]).startswith("test-")

    publish = spans[_parent_id(process) or 0]
    assert publish.kind is SpanKind.PRODUCER
    assert _service(publish) == "cdo-broker"
    assert publish.attributes is not None
    assert publish.attributes["messaging.system"] == "kafka"
    assert publish.attributes["messaging.operation.type"] == "publish"
    assert publish.attributes["messaging.destination.name"] == topics.APPROVALS
    assert publish.attributes["messaging.kafka.message.key"] == APPROVER
    assert (
        publish.attributes["messaging.kafka.offset"] == process.attributes["messaging.kafka.offset"]
    )

    server = spans[_parent_id(publish) or 0]
    assert server.kind is SpanKind.SERVER
    assert _service(server) == "cdo-broker"
    assert server.attributes is not None
    assert server.attributes["http.route"] == "/v1/requests"
    assert server.parent is None  # the caller sent no traceparent: the trace starts here

    database = [s for s in spans.values() if _parent_id(s) == server.context.span_id]
    assert any(s.kind is SpanKind.CLIENT and _service(s) == "cdo-broker" for s in database)
