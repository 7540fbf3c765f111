"""CloudEvents 1.0, Kafka binding, binary content mode: the headers and value of one event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import pytest

from core.cloudevents import kafka_headers, kafka_value, rfc3339


@dataclass(frozen=True)
class Row:
    event_id: str = "0b8e4b8e-5d6c-4a36-9a49-3f1d2f3a1c11"
    source: str = "/cdo-broker"
    type: str = "cn.gov.gd.cdo.request.submitted"
    created_at: datetime = datetime(2026, 11, 27, 5, 52, 20, 969465, tzinfo=UTC)
    subject: str | None = None
    traceparent: str | None = None
    tracestate: str | None = None


def test_the_required_attributes_become_ce_headers() -> None:
    assert kafka_headers(Row()) == [
        ("ce_specversion", b"1.0"),
        ("ce_id", b"0b8e4b8e-5d6c-4a36-9a49-3f1d2f3a1c11"),
        ("ce_source", b"/cdo-broker"),
        ("ce_type", b"cn.gov.gd.cdo.request.submitted"),
        ("ce_time", b"2026-11-27T05:52:20.969465Z"),
        ("content-type", b"application/json"),
    ]


def test_subject_and_trace_context_travel_when_present() -> None:
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    row = Row(subject="req_1", traceparent=traceparent, tracestate="cdo=1")

    extra = kafka_headers(row)[6:]

    assert extra == [
        ("ce_subject", b"req_1"),
        ("traceparent", traceparent.encode()),
        ("tracestate", b"cdo=1"),
    ]


def test_time_is_rfc3339_in_utc() -> None:
    beijing = timezone(timedelta(hours=8))

    assert rfc3339(datetime(2026, 11, 27, 13, 52, 20, tzinfo=beijing)) == "2026-11-27T05:52:20Z"
    with pytest.raises(ValueError, match="naive"):
        rfc3339(datetime(2026, 11, 27, 13, 52, 20))


def test_the_value_is_the_data_as_compact_utf8_json() -> None:
    value = kafka_value({"name": "广州市公安局", "fields": ["id", "name"]})

    assert value == '{"name":"广州市公安局","fields":["id","name"]}'.encode()
