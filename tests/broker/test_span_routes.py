"""A server span is named for its route as OpenTelemetry's FastAPI instrumentation names it,
though the instrumentation is handed only the routes that can match (core/span_routes.py)."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from broker.app import create_app
from core.span_routes import RouteIndex
from core.telemetry import configure_tracing
from testing.settings import Settings

pytestmark = pytest.mark.integration

OTHER_PATHS = ("/", "/nope", "/v1", "/v1/", "/v1/nope", "/v1/requests/a/b/c/d", "//x", "")


def _index(app: FastAPI) -> RouteIndex:
    layer = app.build_middleware_stack()
    while not isinstance(layer, OpenTelemetryMiddleware):
        layer = layer.app  # type: ignore[attr-defined]
    index = layer.default_span_details
    assert isinstance(index, RouteIndex)
    return index


def _paths(app: FastAPI) -> list[str]:
    """A path each route matches (its parameters filled in), one below it, and some none do."""
    templates = {str(route.path) for route in iter_route_contexts(app.routes) if route.path}
    filled = {re.sub(r"\{[^}]*\}", "x-1", template) for template in templates}
    return sorted(filled | {f"{path}/more" for path in filled} | set(OTHER_PATHS))


def test_every_route_is_named_as_the_instrumentation_names_it(settings: Settings) -> None:
    provider = configure_tracing(
        "cdo-broker",
        span_processor=SimpleSpanProcessor(InMemorySpanExporter()),
        install_global=False,
    )
    assert provider is not None
    app = create_app(settings, tracer_provider=provider)
    index = _index(app)
    named = 0
    for path in _paths(app):
        for method in ("GET", "POST", "PUT", "DELETE"):
            for root_path in ("", "/broker"):
                scope = {
                    "type": "http",
                    "method": method,
                    "path": root_path + path,
                    "root_path": root_path,
                    "app": app,
                    "headers": [],
                    "query_string": b"",
                }
                name, attributes = index(scope)
                assert (name, attributes) == index.details(scope), (method, path)
                named += "http.route" in attributes
    assert named > 500  # the routes were found, not only the fallback of the method's name
    provider.shutdown()
