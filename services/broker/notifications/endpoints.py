"""Notification channels API: the caller organisation's WeCom and DingTalk group robots and
e-mail recipients, where its people hear of approvals and outcomes."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from broker.kit.deps import CipherDep, SessionDep, SettingsDep
from broker.kit.problem_docs import problems
from broker.notifications import service
from broker.notifications.schemas import ChannelIn, ChannelKind, ChannelList, ChannelOut
from broker.oauth.principal import WebhooksManagerDep
from core.clock import utcnow

router = APIRouter(prefix="/v1/notifications", tags=["notifications"])


@router.get("/channels", summary="Your organisation's notification channels")
async def list_channels(
    session: SessionDep, caller: WebhooksManagerDep, cipher: CipherDep
) -> ChannelList:
    channels = await service.list_channels(session, caller.organisation_id)
    return ChannelList(items=[service.to_out(channel, cipher) for channel in channels])


@router.put(
    "/channels/{kind}",
    summary="Register or change a notification channel",
    responses={201: {"model": ChannelOut, "description": "Registered"}, **problems(409)},
)
async def put_channel(
    kind: ChannelKind,
    body: ChannelIn,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    caller: WebhooksManagerDep,
    cipher: CipherDep,
) -> ChannelOut:
    """`wecom` and `dingtalk`: a group robot of the government's work chat, given by its
    `webhook_url` (with its `key` or `access_token`) and, for DingTalk, its signing `secret`;
    `email`: `recipients`. `events` picks the notifications it receives. Each message is in
    Chinese, with the deadline in China Standard Time and a link to the request's page in the
    console. The first PUT answers 201, later ones replace the settings (200) and enable a
    channel that was disabled. The URL must be https on the public internet (422 naming
    `webhook_url` otherwise); credentials are stored encrypted and never answered."""
    channel, created = await service.put_channel(
        session,
        actor=caller.actor,
        kind=kind,
        body=body,
        cipher=cipher,
        allow_private=settings.webhook_allow_private_urls,
        smtp_configured=settings.smtp_host is not None,
        now=utcnow(),
    )
    if created:
        response.status_code = status.HTTP_201_CREATED
    return service.to_out(channel, cipher)


@router.get("/channels/{kind}", summary="One notification channel", responses=problems(404))
async def get_channel(
    kind: ChannelKind, session: SessionDep, caller: WebhooksManagerDep, cipher: CipherDep
) -> ChannelOut:
    return service.to_out(await service.get_channel(session, caller.organisation_id, kind), cipher)


@router.delete(
    "/channels/{kind}",
    summary="Remove a notification channel",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(404),
)
async def delete_channel(
    kind: ChannelKind, session: SessionDep, caller: WebhooksManagerDep
) -> None:
    """Messages still waiting for it are not sent (their deliveries turn `undeliverable`)."""
    await service.remove_channel(session, actor=caller.actor, kind=kind, now=utcnow())
