"""Tracing is configured by the standard `OTEL_*` variables only, and off costs nothing."""

from __future__ import annotations

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as OTLPHttpSpanExporter,
)

from core import telemetry
from core.telemetry import configure_tracing

OTEL = (
    "OTEL_SDK_DISABLED",
    "OTEL_TRACES_EXPORTER",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_SERVICE_NAME",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in OTEL:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"},
        {"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"},
    ],
)
def test_off_installs_nothing(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert configure_tracing("cdo-broker") is None


@pytest.mark.parametrize(
    ("protocol", "exporter_type"),
    [(None, OTLPSpanExporter), ("http/protobuf", OTLPHttpSpanExporter)],
)
def test_an_endpoint_turns_it_on(
    monkeypatch: pytest.MonkeyPatch, protocol: str | None, exporter_type: type
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")
    if protocol:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
    assert isinstance(telemetry._exporter_from_env(), exporter_type)
    provider = configure_tracing("cdo-notifier", install_global=False)
    assert provider is not None
    try:
        assert provider.resource.attributes["service.name"] == "cdo-notifier"
    finally:
        provider.shutdown()


def test_otel_service_name_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "broker-eu")
    provider = configure_tracing("cdo-broker", install_global=False)
    assert provider is not None
    try:
        assert provider.resource.attributes["service.name"] == "broker-eu"
    finally:
        provider.shutdown()
