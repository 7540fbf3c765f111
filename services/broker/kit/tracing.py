"""The W3C trace context a request carries from filing through Kafka to the webhooks.

If OpenTelemetry has an active span (the SDK configured and instrumented), its context is used;
otherwise the caller's `traceparent` is continued, or a new trace started, so every request has a
trace id to return and to put on its events even when tracing export is off.

Later calls about a request (decisions, clarifications, escalations, revocation, grant tokens)
run in traces of their own; `follow_request` links their span to the request's first trace and
names the request on their log lines.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from opentelemetry import trace
from opentelemetry.trace import Link, SpanContext, TraceFlags

from core.logs import bind_request
from core.models.requests import DataRequest

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


@dataclass(frozen=True)
class TraceContext:
    trace_id: str  # 32 lowercase hex
    span_id: str  # 16 lowercase hex
    sampled: bool = True

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{'01' if self.sampled else '00'}"


def traceparent_of(request: DataRequest) -> str:
    """The request's filing span as a `traceparent`: the events about the request and its grants
    carry it, so that their consumers' spans join the request's trace."""
    return TraceContext(request.trace_id, request.span_id).traceparent


def _from_header(value: str | None) -> TraceContext | None:
    match = _TRACEPARENT.match((value or "").strip().lower())
    if match is None or set(match.group(1)) == {"0"} or set(match.group(2)) == {"0"}:
        return None
    return TraceContext(match.group(1), match.group(2), match.group(3) == "01")


def current_trace(incoming_traceparent: str | None = None) -> TraceContext:
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        return TraceContext(
            f"{span_context.trace_id:032x}",
            f"{span_context.span_id:016x}",
            span_context.trace_flags.sampled,
        )
    parent = _from_header(incoming_traceparent)
    if parent is not None:
        return TraceContext(parent.trace_id, secrets.token_hex(8), parent.sampled)
    return TraceContext(secrets.token_hex(16), secrets.token_hex(8))


def link_to(trace_id: str, span_id: str) -> Link:
    """A span link to the span `trace_id`/`span_id` names (a request's filing span)."""
    return Link(
        SpanContext(
            int(trace_id, 16),
            int(span_id, 16),
            is_remote=True,
            trace_flags=TraceFlags(TraceFlags.SAMPLED),
        ),
        {"cdo.link": "request"},
    )


def follow_request(request_id: str, trace_id: str, span_id: str) -> None:
    """This call (its current span: the HTTP server's, or a job's) is about a filed request: link
    it to the request's first trace, and name the request and that trace on every log line."""
    bind_request(request_id, trace_id)
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attribute("cdo.request_id", request_id)
        link = link_to(trace_id, span_id)
        span.add_link(link.context, link.attributes)
