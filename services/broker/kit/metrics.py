"""OpenTelemetry metrics: scrapeable at `/metrics` (Prometheus text) and pushed by OTLP when an
OTLP endpoint is configured. One MeterProvider per process, made on first use, since the
Prometheus registry it feeds is process-wide."""

from __future__ import annotations

import os
from functools import cache

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.metrics import Counter, Histogram, Meter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource


@cache
def meter() -> Meter:
    readers: list[MetricReader] = [PrometheusMetricReader()]
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"
    ):
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter

        readers.append(PeriodicExportingMetricReader(OTLPMetricExporter()))
    service = os.environ.get("OTEL_SERVICE_NAME", "cdo-broker")
    provider = MeterProvider(
        metric_readers=readers, resource=Resource.create({"service.name": service})
    )
    return provider.get_meter("cdo-broker")


class Instruments:
    """The broker's series; names follow OpenTelemetry conventions, Prometheus adds `_total`."""

    def __init__(self, m: Meter) -> None:
        self.requests: Counter = m.create_counter(
            "cdo.requests", description="requests filed, by kind and resulting status"
        )
        self.decisions: Counter = m.create_counter(
            "cdo.decisions", description="CDO decisions, by decision and approver level"
        )
        self.decision_seconds: Histogram = m.create_histogram(
            "cdo.decision.duration", unit="s",
            description="SLA-clock time to decide (holds excluded), by approver level",
        )  # fmt: skip
        self.escalations: Counter = m.create_counter(
            "cdo.escalations", description="SLA breaches escalated up the chain"
        )
        self.tokens: Counter = m.create_counter(
            "cdo.tokens", description="token requests, by outcome (issued or refused)"
        )
        self.introspections: Counter = m.create_counter(
            "cdo.introspections", description="introspections, by answer (active or not)"
        )


@cache
def instruments() -> Instruments:
    return Instruments(meter())
