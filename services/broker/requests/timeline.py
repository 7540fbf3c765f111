"""A request's timeline for operators: every event in order (its appeal's, and those of the
problem reports that name it, included), with its actor, step, deadline and trace context, and
every webhook sent about it with each attempt, so where a request is stuck (and who holds it)
shows at a glance, and its trace can be opened."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from broker.outbox import repository as outbox
from broker.requests.repository import routes
from broker.webhooks import repository as webhooks
from core.models.requests import DataRequest


class TimelineEvent(BaseModel):
    at: datetime
    type: str = Field(description="e.g. request.submitted, approval.requested, grant.issued")
    topic: str
    actor: str | None
    step: int | None
    due_at: datetime | None = Field(description="for approval tasks: the step's SLA deadline")
    decision: str | None = Field(
        default=None, description="for a decided step: approve, reject or veto (一票否决)"
    )
    reason: str | None = Field(
        default=None,
        description="why: a rejection's or veto's comment, a cancellation's reason",
    )
    published_at: datetime | None = Field(description="when Kafka acknowledged it; null: waiting")
    trace_id: str | None
    span_id: str | None
    trace_url: str | None = Field(
        description="the trace in the operators' trace viewer (`TRACE_UI_URL`); null when unset"
    )


class TimelineAttempt(BaseModel):
    at: datetime
    status_code: int | None
    latency_ms: int
    outcome: str
    error: str | None


class TimelineWebhook(BaseModel):
    webhook_id: str
    channel: str = Field(description="webhook, or the notification channel: wecom, dingtalk, email")
    type: str
    recipient: str
    status: str
    created_at: datetime
    next_attempt_at: datetime | None
    attempts: list[TimelineAttempt]


class Timeline(BaseModel):
    request_id: str
    status: str
    current_step: int | None
    trace_id: str
    trace_url: str | None = Field(
        description="the request's trace in the operators' trace viewer (`TRACE_UI_URL`, e.g. "
        "Jaeger's); null when unset"
    )
    events: list[TimelineEvent]
    webhooks: list[TimelineWebhook]


def _trace(traceparent: str | None) -> tuple[str | None, str | None]:
    parts = (traceparent or "").split("-")
    return (parts[1], parts[2]) if len(parts) >= 3 else (None, None)


def trace_link(template: str | None, trace_id: str | None) -> str | None:
    """`template` (TRACE_UI_URL) with `{trace_id}` filled in; None without either."""
    if not template or not trace_id:
        return None
    return template.replace("{trace_id}", trace_id)


def _actor(data: dict[str, Any]) -> str | None:
    actor = data.get("actor") or data.get("approver_id")
    return str(actor) if actor else None


async def timeline_of(
    session: AsyncSession, request: DataRequest, trace_ui_url: str | None = None
) -> Timeline:
    """`trace_ui_url`: the TRACE_UI_URL template each trace id is linked with."""
    reports = await routes.problems_naming(session, request.id)
    events = await outbox.events_about(session, [request.id, *reports])
    deliveries = await webhooks.deliveries_about(session, request.id)
    attempts = await webhooks.attempts_of(session, [d.id for d in deliveries])
    return Timeline(
        request_id=request.id,
        status=request.status,
        current_step=request.current_step,
        trace_id=request.trace_id,
        trace_url=trace_link(trace_ui_url, request.trace_id),
        events=[
            TimelineEvent(
                at=e.created_at,
                type=e.type.removeprefix("cn.gov.gd.cdo."),
                topic=e.topic,
                actor=_actor(e.data),
                step=e.data.get("step"),
                due_at=e.data.get("due_at"),
                decision=(e.data.get("detail") or {}).get("decision"),
                reason=(e.data.get("detail") or {}).get("reason"),
                published_at=e.sent_at,
                trace_id=trace_id,
                span_id=span_id,
                trace_url=trace_link(trace_ui_url, trace_id),
            )
            for e in events
            for trace_id, span_id in [_trace(e.traceparent)]
        ],
        webhooks=[
            TimelineWebhook(
                webhook_id=d.id,
                channel=d.channel,
                type=d.event_type,
                recipient=d.organisation_id,
                status=d.status,
                created_at=d.created_at,
                next_attempt_at=d.next_attempt_at,
                attempts=[
                    TimelineAttempt(
                        at=a.attempted_at,
                        status_code=a.status_code,
                        latency_ms=a.latency_ms,
                        outcome=a.outcome,
                        error=a.error,
                    )
                    for a in attempts.get(d.id, [])
                ],
            )
            for d in deliveries
        ],
    )
