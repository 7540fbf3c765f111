"""OpenTelemetry metrics: scrapeable at `/metrics` (Prometheus text) and pushed by OTLP when an
OTLP endpoint is configured. One MeterProvider per process, made on first use, since the
Prometheus registry it feeds is process-wide. docs/OPERATIONS.md says what each series means."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.metrics import CallbackOptions, Counter, Histogram, Meter, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

_service = {"name": "cdo-broker"}


def use_service_name(name: str) -> None:
    """The process's `service.name` (the notifier calls this before any metric is made)."""
    _service["name"] = name


@cache
def meter() -> Meter:
    readers: list[MetricReader] = [PrometheusMetricReader()]
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"
    ):
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter

        readers.append(PeriodicExportingMetricReader(OTLPMetricExporter()))
    service = os.environ.get("OTEL_SERVICE_NAME", _service["name"])
    provider = MeterProvider(
        metric_readers=readers, resource=Resource.create({"service.name": service})
    )
    return provider.get_meter("cdo-broker")


@dataclass
class Gauges:
    """Levels the process's loops sample and the collector reads: None (or empty) is reported as
    no value rather than a stale one."""

    outbox_backlog: int | None = None
    outbox_oldest_age_s: float | None = None
    # (topic, partition) -> messages behind the partition's end, after the last commit
    consumer_lag: dict[tuple[str, int], int] = field(default_factory=dict)
    # background loop name -> `time.monotonic()` of its last successful turn (or of its start)
    loop_success: dict[str, float] = field(default_factory=dict)


gauges = Gauges()


def _outbox_backlog(_: CallbackOptions) -> Iterable[Observation]:
    if gauges.outbox_backlog is not None:
        yield Observation(gauges.outbox_backlog)


def _outbox_age(_: CallbackOptions) -> Iterable[Observation]:
    if gauges.outbox_oldest_age_s is not None:
        yield Observation(gauges.outbox_oldest_age_s)


def _consumer_lag(_: CallbackOptions) -> Iterable[Observation]:
    for (topic, partition), lag in list(gauges.consumer_lag.items()):
        yield Observation(lag, {"topic": topic, "partition": str(partition)})


def _loop_success_age(_: CallbackOptions) -> Iterable[Observation]:
    now = time.monotonic()
    for name, at in list(gauges.loop_success.items()):
        yield Observation(now - at, {"loop": name})


class Instruments:
    """The services' series; names follow OpenTelemetry conventions, Prometheus adds `_total`."""

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
        self.sla_breaches: Counter = m.create_counter(
            "cdo.sla.breaches", description="approvers whose SLA lapsed, by their level"
        )
        self.escalations: Counter = m.create_counter(
            "cdo.escalations", description="SLA lapses, by whether the step moved up or not"
        )
        self.tokens: Counter = m.create_counter(
            "cdo.tokens", description="token requests, by outcome (issued or refused)"
        )
        self.introspections: Counter = m.create_counter(
            "cdo.introspections", description="introspections, by answer (active or not)"
        )
        self.webhook_attempts: Counter = m.create_counter(
            "cdo.webhook.attempts", description="webhook POSTs, by endpoint (its org) and outcome"
        )
        self.webhook_failures: Counter = m.create_counter(
            "cdo.webhook.failures", description="webhook POSTs that did not deliver, by endpoint"
        )
        self.webhook_dead: Counter = m.create_counter(
            "cdo.webhook.dead",
            description="deliveries that went dead (retries exhausted, or failed permanently)",
        )
        self.webhook_seconds: Histogram = m.create_histogram(
            "cdo.webhook.duration", unit="s", description="webhook POST latency, by endpoint"
        )
        m.create_observable_gauge(
            "cdo.outbox.backlog", [_outbox_backlog], description="outbox rows not yet on Kafka"
        )
        m.create_observable_gauge(
            "cdo.outbox.oldest_age", [_outbox_age], unit="s",
            description="how long the oldest unsent outbox row has waited",
        )  # fmt: skip
        m.create_observable_gauge(
            "cdo.notifier.consumer.lag", [_consumer_lag],
            description="messages the notifier is behind, by topic and partition",
        )  # fmt: skip
        self.dead_lettered: Counter = m.create_counter(
            "cdo.consumer.dead_lettered",
            description="unreadable messages sent to datashare.dlq, by topic and reason",
        )
        self.loop_restarts: Counter = m.create_counter(
            "cdo.loop.restarts",
            description="failed turns of a background loop, retried after a backoff",
        )
        m.create_observable_gauge(
            "cdo.loop.last_success_age", [_loop_success_age], unit="s",
            description="since a background loop last turned without failing (or started)",
        )  # fmt: skip
        self.calendar_unknown_years: Counter = m.create_counter(
            "cdo.calendar.unknown_year",
            description="deadlines that counted a year the calendar does not know by weekends "
            "only, by year (add it to HOLIDAYS_FILE)",
        )


@cache
def instruments() -> Instruments:
    return Instruments(meter())
