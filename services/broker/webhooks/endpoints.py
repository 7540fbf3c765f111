"""Webhooks API: the caller organisation's endpoint, its secret, its deliveries and replays."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Response, status

from broker.kit.deps import CipherDep, SessionDep, SettingsDep
from broker.kit.pagination import CursorQuery, LimitQuery, Page, decode_cursor, next_cursor
from broker.kit.problem_docs import problems
from broker.oauth.principal import WebhooksManagerDep
from broker.webhooks import repository, service
from broker.webhooks.schemas import (
    DeliveryChannel,
    DeliveryOut,
    DeliveryStatus,
    EndpointIn,
    EndpointOut,
    EndpointWithSecret,
    RangeReplayIn,
    ReplayIn,
    ReplayOut,
    RotateIn,
)
from core.clock import utcnow

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


@router.put(
    "/endpoint",
    summary="Register or change your organisation's webhook endpoint",
    response_model=None,  # which model answers depends on the status: documented here
    responses={
        200: {"model": EndpointOut, "description": "The URL changed; the secret stays unshown"},
        201: {"model": EndpointWithSecret, "description": "Registered; the secret shown once"},
    },
)
async def register_endpoint(
    body: EndpointIn,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    caller: WebhooksManagerDep,
    cipher: CipherDep,
) -> EndpointWithSecret | EndpointOut:
    """The first registration answers 201 with the signing secret (`whsec_…`), the only time it
    is shown; a later PUT changes the URL (200, no secret: the secret stays). Either way a
    disabled endpoint (after a 410 Gone) is enabled again. The URL must be https on the public
    internet; a refused one answers 422 naming `url` and the reason."""
    now = utcnow()
    endpoint, secret = await service.register_endpoint(
        session,
        actor=caller.actor,
        url=body.url,
        cipher=cipher,
        allow_private=settings.webhook_allow_private_urls,
        now=now,
    )
    if secret is None:
        return service.to_out(endpoint, now)
    response.status_code = status.HTTP_201_CREATED
    return service.with_secret(endpoint, secret, now)


@router.get(
    "/endpoint",
    summary="Your organisation's webhook endpoint (without its secret)",
    responses=problems(404),
)
async def get_endpoint(session: SessionDep, caller: WebhooksManagerDep) -> EndpointOut:
    return service.to_out(await service.get_endpoint(session, caller.organisation_id), utcnow())


@router.post(
    "/endpoint/rotate-secret", summary="Replace the signing secret", responses=problems(404)
)
async def rotate_secret(
    session: SessionDep,
    settings: SettingsDep,
    caller: WebhooksManagerDep,
    cipher: CipherDep,
    body: RotateIn | None = None,
) -> EndpointWithSecret:
    """Answers the new secret, once. The old one keeps signing alongside it (every message
    carries both signatures) until `rotation_ends_at`: `overlap_seconds`, by default
    WEBHOOK_ROTATION_OVERLAP. A secret left from an earlier rotation stops signing at once."""
    now = utcnow()
    overlap = body.overlap_seconds if body and body.overlap_seconds is not None else None
    if overlap is None:
        overlap = settings.webhook_rotation_overlap_seconds
    endpoint, secret = await service.rotate_secret(
        session,
        actor=caller.actor,
        cipher=cipher,
        overlap=timedelta(seconds=overlap),
        now=now,
    )
    return service.with_secret(endpoint, secret, now)


@router.get("/deliveries", summary="Webhooks sent (or being sent) to your organisation")
async def list_deliveries(
    session: SessionDep,
    caller: WebhooksManagerDep,
    event: str | None = None,
    status: DeliveryStatus | None = None,
    request_id: str | None = None,
    channel: DeliveryChannel | None = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[DeliveryOut]:
    """Newest first, each with every attempt made (time, status code, latency, outcome):
    webhooks and the messages to your notification channels (`channel`)."""
    rows = await repository.list_deliveries(
        session,
        organisation_id=caller.organisation_id,
        event_type=event,
        status=status,
        request_id=request_id,
        channel=channel,
        before=service.parse_cursor_key(decode_cursor(cursor)),
        limit=limit + 1,
    )
    return Page(
        items=await service.describe(session, rows[:limit]),
        next_cursor=next_cursor([service.cursor_key(d) for d in rows], limit),
    )


@router.get("/deliveries/{delivery_id}", summary="One delivery with its attempts")
async def get_delivery(
    delivery_id: str, session: SessionDep, caller: WebhooksManagerDep
) -> DeliveryOut:
    delivery = await service.get_delivery(session, delivery_id, caller.organisation_id)
    return (await service.describe(session, [delivery]))[0]


@router.post(
    "/deliveries/replay",
    summary="Send again the failed deliveries of a period",
    responses=problems(409),
)
async def replay_deliveries(
    body: RangeReplayIn, session: SessionDep, caller: WebhooksManagerDep
) -> ReplayOut:
    """Deliveries created in [`from`, `to`) that are `dead` or `undeliverable` (or only those in
    `status`) go back to pending, due now, with the retry schedule from its start; their earlier
    attempts stay in their history. `status: delivered` sends delivered ones again and needs
    `force: true`."""
    count = await service.replay_between(
        session,
        actor=caller.actor,
        organisation_id=caller.organisation_id,
        start=body.from_,
        end=body.to,
        status=body.status,
        force=body.force,
        now=utcnow(),
    )
    return ReplayOut(requeued=count)


@router.post(
    "/deliveries/{delivery_id}/replay", summary="Send one delivery again", responses=problems(409)
)
async def replay_delivery(
    delivery_id: str, session: SessionDep, caller: WebhooksManagerDep, body: ReplayIn | None = None
) -> DeliveryOut:
    """A dead or undeliverable delivery goes back to pending, due now, with the retry schedule
    from its start (earlier attempts stay listed). A delivered one answers 409 unless `force`;
    a pending one is already queued and is left as it is."""
    delivery, _ = await service.replay_delivery(
        session,
        actor=caller.actor,
        organisation_id=caller.organisation_id,
        delivery_id=delivery_id,
        force=body.force if body else False,
        now=utcnow(),
    )
    return (await service.describe(session, [delivery]))[0]
