"""What a provider's guard calls: the feed of its grants' changes, and the uses it counted."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import StreamingResponse

from broker.grants import stream, uses
from broker.grants.dependencies import GrantFeedDep
from broker.grants.schemas import GrantUsesIn, GrantUsesOut
from broker.kit.deps import SessionDep, SettingsDep
from broker.kit.problem_docs import problems
from broker.oauth.principal import GrantsReaderDep, Principal, require_scope
from broker.oauth.scopes import Scope
from core.clock import utcnow

# No prefix: included at the top of the grants router, before `/{grant_id}` could take the path.
router = APIRouter()

_EVENT_STREAM = {
    "description": "Server-sent events (`text/event-stream`): `grant.state` (no id) for each grant "
    "not in force at the start, `ready`, then `grant.issued|paused|resumed|revoked|expired` "
    "and `heartbeat`, each with its position as `id`. Each `data` is JSON: `grant_id`, "
    "`dataset_id`, `grantee_id`, `provider_id`, `event`, `status`, `ends_at`, `occurred_at`.",
    "content": {"text/event-stream": {"schema": {"type": "string"}}},
}


@router.get(
    "/changes",
    summary="Follow the changes of the grants on your datasets (server-sent events)",
    response_class=StreamingResponse,
    responses={200: _EVENT_STREAM, **problems(422)},
)
async def changes(
    feed: GrantFeedDep,
    settings: SettingsDep,
    caller: GrantsReaderDep,
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            description="resume after this position (the id of the last event received)",
        ),
    ] = None,
    after: Annotated[
        str | None,
        Query(description="the same as Last-Event-ID, for clients that cannot set the header"),
    ] = None,
    follow: Annotated[
        bool, Query(description="false: end the stream at `ready` (one catch-up, then close)")
    ] = True,
) -> StreamingResponse:
    events = stream.listen(
        feed,
        caller.organisation_id,
        stream.parse_event_id(last_event_id or after),
        until=caller.expires_at if follow else 0,
        heartbeat_s=settings.grant_feed_heartbeat_seconds,
        retry_ms=int(1000 * settings.grant_feed_poll_interval_seconds) + 500,
    )
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.post(
    "/uses",
    summary="Report uses of grants on your datasets, counted by your own token checks",
)
async def report_uses(
    body: GrantUsesIn,
    session: SessionDep,
    caller: Annotated[Principal, Depends(require_scope(Scope.tokens_introspect))],
) -> GrantUsesOut:
    counted, ignored = await uses.record_uses(
        session,
        actor=caller.actor,
        uses=[(u.grant_id, u.count, u.last_used_at) for u in body.uses],
        now=utcnow(),
    )
    return GrantUsesOut(counted=counted, ignored=ignored)
