"""OpenTelemetry tracing for the broker and the notifier, configured only by `OTEL_*` variables.

Tracing is on when `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or
`OTEL_TRACES_EXPORTER` is set and `OTEL_SDK_DISABLED` is not `true`; otherwise nothing is installed
and the code's own spans are the API's no-op ones (the W3C context still flows through the outbox,
Kafka and the webhooks). The sampler comes from `OTEL_TRACES_SAMPLER(_ARG)`, read by the SDK; the
OTLP protocol from `OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL` (`grpc`, the default, or `http/protobuf`).

Database and Redis spans are only recorded inside a trace: the relay's, the SLA job's and the
worker's polling would otherwise start a new trace every tenth of a second.

The FastAPI instrumentation names each server span for its route by trying the app's routes in
order on every request; `span_routes.RouteIndex` hands it only those that can match.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import Attributes
from starlette.types import ASGIApp

from core.span_routes import RouteIndex

_W3C = TraceContextTextMapPropagator()


def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


def tracing_enabled() -> bool:
    if _env("OTEL_SDK_DISABLED").lower() == "true":
        return False
    exporter = _env("OTEL_TRACES_EXPORTER").lower()
    if exporter == "none":
        return False
    endpoint = _env("OTEL_EXPORTER_OTLP_ENDPOINT") or _env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    return bool(endpoint or exporter)


def _exporter_from_env() -> SpanExporter:
    if _env("OTEL_TRACES_EXPORTER").lower() == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    protocol = (
        _env("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or _env("OTEL_EXPORTER_OTLP_PROTOCOL") or "grpc"
    ).lower()
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    if protocol == "http/protobuf":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter as OTLPHttpSpanExporter,
        )

        return OTLPHttpSpanExporter()
    raise ValueError(f"unsupported OTEL_EXPORTER_OTLP_PROTOCOL {protocol!r}")


def configure_tracing(
    service_name: str,
    *,
    exporter: SpanExporter | None = None,
    span_processor: SpanProcessor | None = None,
    install_global: bool = True,
) -> TracerProvider | None:
    """A tracer provider for `service_name` (`OTEL_SERVICE_NAME` overrides it), or None when
    tracing is off. An `exporter` or `span_processor` given (tests) turns it on regardless of the
    environment; `install_global=False` leaves the process-wide provider alone."""
    if exporter is None and span_processor is None and not tracing_enabled():
        return None
    resource = Resource.create({SERVICE_NAME: _env("OTEL_SERVICE_NAME") or service_name})
    provider = TracerProvider(resource=resource)  # the sampler: OTEL_TRACES_SAMPLER
    if span_processor is None:
        span_processor = BatchSpanProcessor(exporter or _exporter_from_env())
    provider.add_span_processor(span_processor)
    if install_global:
        trace.set_tracer_provider(provider)
    return provider


# --- spans only inside a trace (database, Redis)


class _ChildOnlyTracer(trace.Tracer):
    def __init__(self, tracer: trace.Tracer) -> None:
        self._tracer = tracer

    def start_span(
        self,
        name: str,
        context: otel_context.Context | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> trace.Span:
        if not trace.get_current_span(context).get_span_context().is_valid:
            return trace.INVALID_SPAN
        return self._tracer.start_span(name, context, *args, **kwargs)

    @contextmanager  # the API's own decorator is private; this one behaves the same
    def start_as_current_span(  # type: ignore[override]
        self,
        name: str,
        context: otel_context.Context | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> Iterator[trace.Span]:
        if not trace.get_current_span(context).get_span_context().is_valid:
            yield trace.INVALID_SPAN
            return
        with self._tracer.start_as_current_span(name, context, *args, **kwargs) as span:
            yield span


class _ChildOnlyTracerProvider(trace.TracerProvider):
    def __init__(self, provider: trace.TracerProvider) -> None:
        self._provider = provider

    def get_tracer(
        self,
        instrumenting_module_name: str,
        instrumenting_library_version: str | None = None,
        schema_url: str | None = None,
        attributes: Attributes | None = None,
    ) -> trace.Tracer:
        return _ChildOnlyTracer(
            self._provider.get_tracer(
                instrumenting_module_name, instrumenting_library_version, schema_url, attributes
            )
        )


# --- instrumentation


def instrument_app(app: FastAPI, provider: TracerProvider) -> None:
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        excluded_urls="/healthz,/readyz",
        exclude_spans=["receive", "send"],
    )
    _index_span_routes(app)


def _index_span_routes(app: FastAPI) -> None:
    """The instrumentation's middleware names each span from a `RouteIndex` (span_routes.py)
    instead of trying every route per request; it is built with the app's middleware stack."""
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    build = app.build_middleware_stack

    def build_indexed() -> ASGIApp:
        stack = build()
        layer: Any = stack
        while layer is not None and not isinstance(layer, OpenTelemetryMiddleware):
            layer = getattr(layer, "app", None)
        if layer is not None:
            layer.default_span_details = RouteIndex(app, layer.default_span_details)
        return stack

    app.build_middleware_stack = build_indexed  # type: ignore[method-assign]


def instrument_engine(engine: Any, provider: TracerProvider) -> None:
    """SQLAlchemy spans for this engine only (an `AsyncEngine` or a sync one), named with less
    work (sql_spans.py)."""
    from opentelemetry.metrics import get_meter

    from core.sql_spans import SqlSpans

    name = "opentelemetry.instrumentation.sqlalchemy"
    tracer = _ChildOnlyTracerProvider(provider).get_tracer(name)
    usage = get_meter(name).create_up_down_counter(
        "db.client.connections.usage", unit="connections"
    )
    SqlSpans(tracer, getattr(engine, "sync_engine", engine), usage)  # type: ignore[no-untyped-call]


def instrument_redis(client: Any, provider: TracerProvider) -> None:
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    RedisInstrumentor.instrument_client(client, tracer_provider=_ChildOnlyTracerProvider(provider))


def instrument_httpx(client: Any, provider: TracerProvider) -> None:
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor.instrument_client(client, tracer_provider=provider)


# --- W3C trace context as text


def extract(traceparent: str | None, tracestate: str | None = None) -> otel_context.Context:
    """The context a `traceparent` (and `tracestate`) continues; empty when there is none."""
    carrier = {"traceparent": traceparent or "", "tracestate": tracestate or ""}
    return _W3C.extract({k: v for k, v in carrier.items() if v})


def inject(span: trace.Span) -> tuple[str | None, str | None]:
    """`(traceparent, tracestate)` naming `span` as the parent; `(None, None)` for no span."""
    carrier: dict[str, str] = {}
    _W3C.inject(carrier, context=trace.set_span_in_context(span))
    return carrier.get("traceparent"), carrier.get("tracestate")


def kafka_attributes(
    topic: str, operation: str, key: str | bytes | None, extra: Mapping[str, Any] | None = None
) -> dict[str, str | int]:
    """Messaging semantic-convention attributes of a Kafka span."""
    attributes: dict[str, str | int] = {
        "messaging.system": "kafka",
        "messaging.destination.name": topic,
        "messaging.operation.type": operation,
    }
    if key is not None:
        attributes["messaging.kafka.message.key"] = (
            key.decode(errors="replace") if isinstance(key, bytes) else key
        )
    attributes.update({k: v for k, v in (extra or {}).items() if v is not None})
    return attributes
