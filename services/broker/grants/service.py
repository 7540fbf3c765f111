"""Issuing and reading grants. An approved request yields exactly one grant."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit import service as audit
from broker.audit.actor import SYSTEM, Actor
from broker.directory import repository as directory_repository
from broker.directory.jurisdiction import covers
from broker.grants import feed, repository
from broker.grants.exceptions import GrantChangeRefused, GrantClosed, GrantNotFound
from broker.kit.attributes import attributes
from broker.kit.lookups import found
from broker.kit.tracing import follow_request, traceparent_of
from broker.oauth.standing import grants_changing
from core import topics
from core.events import GrantEvent, GrantEventName, ce_type
from core.ids import new_id
from core.models.grants import Grant, GrantChange
from core.models.requests import DataRequest
from core.outbox import record_event

# What a grant's event and its change row (the feed's) repeat of the grant, under its own names.
_IN_EVENT = tuple(
    name
    for name in GrantEvent.model_fields
    if name not in {"event", "grant_id", "trace_id", "occurred_at", "reason"}
)
_IN_CHANGE = ("provider_id", "grantee_id", "dataset_id", "status", "ends_at")


def scope_for(dataset_id: str) -> str:
    return f"dataset:{dataset_id}:read"


async def issue_grant(
    session: AsyncSession,
    request: DataRequest,
    decision_ids: Sequence[str],
    *,
    now: datetime,
    actor: Actor,
) -> Grant:
    """`actor`: whose call approved the request (the last decider, or the requester when the
    policy approves at filing)."""
    assert request.dataset_id is not None  # only a request for a dataset is granted
    grant = Grant(
        id=new_id("grt"),
        request_id=request.id,
        grantee_id=request.requester_id,
        provider_id=request.provider_id,
        dataset_id=request.dataset_id,
        fields=list(request.granted_fields),
        purpose=request.purpose,
        jurisdiction=request.jurisdiction,
        scope=scope_for(request.dataset_id),
        starts_at=request.granted_start,
        ends_at=request.granted_end,
        status="active",
        decision_ids=list(decision_ids),
        created_at=now,
    )
    session.add(grant)
    await session.flush()
    await grant_event(session, grant, GrantEventName.issued, request=request, now=now, new=True)
    await audit.record(
        session, "grant.issued", actor=actor, subject=grant.id, now=now,
        grantee=grant.grantee_id, dataset=grant.dataset_id, decisions=list(decision_ids),
    )  # fmt: skip
    return grant


async def grant_event(
    session: AsyncSession,
    grant: Grant,
    name: GrantEventName,
    *,
    request: DataRequest,
    now: datetime,
    reason: str | None = None,
    new: bool = False,
) -> None:
    """The change row, the feed's wake-up and the event of a grant issued or changed. A grant
    that existed before this transaction had a standing processes may keep: they drop it
    (oauth/standing.py)."""
    if not new:
        await grants_changing(session)
    event = GrantEvent(
        event=name,
        grant_id=grant.id,
        trace_id=request.trace_id,
        occurred_at=now,
        reason=reason,
        **attributes(grant, _IN_EVENT),
    )
    session.add(
        GrantChange(
            grant_id=grant.id, event=name.value, occurred_at=now, **attributes(grant, _IN_CHANGE)
        )
    )
    feed.changed(session)
    await record_event(
        session,
        topic=topics.GRANTS,
        key=grant.id,
        type=ce_type("grant", name.value),
        subject=grant.request_id,
        data=event.model_dump(mode="json"),
        traceparent=traceparent_of(request),
    )


async def visible_grant(session: AsyncSession, grant_id: str, org_id: str) -> Grant:
    grant = await repository.visible_grant(session, grant_id, org_id)
    return found(grant, GrantNotFound, grant_id)


list_grants = repository.list_grants  # a read with nothing to decide


async def _may_change(session: AsyncSession, grant: Grant, org_id: str, now: datetime) -> bool:
    """The provider's CDO (DOMAIN: supervises, may stop violations) or a data bureau whose
    jurisdiction covers the provider."""
    if org_id == grant.provider_id:
        return True
    return covers(await directory_repository.current_view(session, now), org_id, grant.provider_id)


async def change_grant(
    session: AsyncSession,
    grant_id: str,
    *,
    actor: Actor,
    action: GrantEventName,
    reason: str | None,
    now: datetime,
) -> Grant:
    """Pause, resume or revoke. Repeating the change it already has is idempotent."""
    caller_org_id = actor.organisation
    grant = await repository.locked_grant(session, grant_id)
    may_change = grant is not None and await _may_change(session, grant, caller_org_id, now)
    if grant is None or (caller_org_id != grant.grantee_id and not may_change):
        raise GrantNotFound(grant_id)
    if not may_change:
        raise GrantChangeRefused(
            "the grantee may read its grant, not change it",
            detail_zh="获得授权的单位可以查看该授权，但不能变更",
        )
    request = await session.get(DataRequest, grant.request_id)
    assert request is not None
    follow_request(request.id, request.trace_id, request.span_id)
    target = {
        GrantEventName.paused: "paused",
        GrantEventName.resumed: "active",
        GrantEventName.revoked: "revoked",
    }[action]
    if grant.status == target:
        return grant
    allowed_from = {"paused": {"active"}, "active": {"paused"}, "revoked": {"active", "paused"}}
    if grant.status not in allowed_from[target]:
        raise GrantClosed(grant.status)
    grant.status = target
    if action is GrantEventName.revoked:
        grant.revoked_at, grant.revoked_by, grant.revoke_reason = now, caller_org_id, reason
    await session.flush()
    await grant_event(session, grant, action, request=request, now=now, reason=reason)
    await audit.record(
        session, f"grant.{action.value}", actor=actor, subject=grant.id, now=now, reason=reason
    )
    return grant


async def expire_grants(session: AsyncSession, *, now: datetime, limit: int) -> int:
    """Grants past their window expire (a batch of `limit`, none that another replica holds)."""
    grants = await repository.past_their_window(session, now, limit)
    for grant in grants:
        grant.status = "expired"
        request = await session.get(DataRequest, grant.request_id)
        assert request is not None
        await grant_event(session, grant, GrantEventName.expired, request=request, now=now)
        await audit.record(session, "grant.expired", actor=SYSTEM, subject=grant.id, now=now)
    await session.flush()
    return len(grants)
