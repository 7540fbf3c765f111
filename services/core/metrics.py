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


# The counters: the attribute of Instruments, the series, what it counts (docs/OPERATIONS.md).
_COUNTERS = (
    ("requests", "cdo.requests", "requests filed, by kind and resulting status"),
    ("decisions", "cdo.decisions", "CDO decisions, by decision and approver level"),
    ("sla_breaches", "cdo.sla.breaches", "approvers whose SLA lapsed, by their level"),
    ("escalations", "cdo.escalations", "SLA lapses, by whether the step moved up or not"),
    ("tokens", "cdo.tokens", "token requests, by outcome (issued or refused)"),
    ("introspections", "cdo.introspections", "introspections, by answer (active or not)"),
    (
        "webhook_attempts",
        "cdo.webhook.attempts",
        "webhook POSTs, by endpoint (its org) and outcome",
    ),
    ("webhook_failures", "cdo.webhook.failures", "webhook POSTs that did not deliver, by endpoint"),
    (
        "webhook_dead",
        "cdo.webhook.dead",
        "deliveries that went dead (retries exhausted, or failed permanently)",
    ),
    (
        "dead_lettered",
        "cdo.consumer.dead_lettered",
        "unreadable messages sent to datashare.dlq, by topic and reason",
    ),
    (
        "loop_restarts",
        "cdo.loop.restarts",
        "failed turns of a background loop, retried after a backoff",
    ),
    (
        "calendar_unknown_years",
        "cdo.calendar.unknown_year",
        "deadlines that counted a year the calendar does not know by weekends only, by year "
        "(add it to HOLIDAYS_FILE)",
    ),
)


class Instruments:
    """The services' series; names follow OpenTelemetry conventions, Prometheus adds `_total`."""

    requests: Counter
    decisions: Counter
    sla_breaches: Counter
    escalations: Counter
    tokens: Counter
    introspections: Counter
    webhook_attempts: Counter
    webhook_failures: Counter
    webhook_dead: Counter
    dead_lettered: Counter
    loop_restarts: Counter
    calendar_unknown_years: Counter

    def __init__(self, m: Meter) -> None:
        for attribute, name, description in _COUNTERS:
            setattr(self, attribute, m.create_counter(name, description=description))
        self.decision_seconds: Histogram = m.create_histogram(
            "cdo.decision.duration", unit="s",
            description="SLA-clock time to decide (holds excluded), by approver level",
        )  # fmt: skip
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
        m.create_observable_gauge(
            "cdo.loop.last_success_age", [_loop_success_age], unit="s",
            description="since a background loop last turned without failing (or started)",
        )  # fmt: skip


@cache
def instruments() -> Instruments:
    return Instruments(meter())
