"""Delegations: a CDO lets a named deputy decide for a bounded window, and anyone who could
make one may end it at once.

Made by the body itself (its CDO's system, `approvals:decide`, or its own `directory:admin`) or by
a data bureau whose jurisdiction covers the body (`directory:admin`). A bureau filing one for
another body may not name itself the delegate: whom a CDO trusts with its decisions is the
CDO's choice, and an administrator choosing itself is the takeover issue 12 found. The window
starts now or later, runs at most a year, and ends by the time the appointment does.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit import service as audit
from broker.audit.actor import Actor
from broker.directory import repository
from broker.directory.exceptions import (
    DelegationEnded,
    DelegationNotFound,
    InvalidDirectoryChange,
    NoActiveCDO,
    NotYourCDO,
    OutsideJurisdiction,
    SelfDelegation,
)
from broker.directory.jurisdiction import covers
from broker.directory.schemas import DelegationIn
from broker.directory.service import get_organisation
from broker.oauth.principal import insufficient_scope
from broker.oauth.scopes import Scope
from core.ids import new_id
from core.models.directory import Appointment, Delegation

# A start this far before the server's clock still counts as "now": the caller's clock and ours
# differ by a little, and a delegation meant to start at once must not be refused for it.
CLOCK_SKEW = timedelta(minutes=5)


def one_year_after(moment: datetime) -> datetime:
    try:
        return moment.replace(year=moment.year + 1)
    except ValueError:  # 29 February: a year later there is none, the 28th is the bound
        return moment.replace(year=moment.year + 1, day=28)


def window_problem(
    starts_at: datetime, ends_at: datetime, appointment_ends_at: datetime | None, now: datetime
) -> tuple[str, str, str] | None:
    """What is wrong with a delegation window, as (field, message, its Chinese), or None. Pure."""
    if ends_at <= starts_at:
        return "ends_at", "ends_at: must be after starts_at", "ends_at: 结束时间须晚于开始时间"
    if starts_at < now - CLOCK_SKEW:
        return (
            "starts_at",
            "starts_at: a delegation may not start in the past",
            "starts_at: 授权委托不能从过去的时间开始",
        )
    if ends_at > one_year_after(starts_at):
        return "ends_at", "ends_at: a delegation runs at most one year", "ends_at: 授权委托最长一年"
    if appointment_ends_at is not None and ends_at > appointment_ends_at:
        return (
            "ends_at",
            "ends_at: a delegation cannot outlast the CDO's appointment",
            "ends_at: 授权委托不能晚于首席数据官任期结束",
        )
    return None


async def _may_act_for(
    session: AsyncSession,
    organisation_id: str,
    *,
    caller_id: str,
    scopes: frozenset[str],
    field: str,
    now: datetime,
) -> None:
    """The body itself, or a bureau whose jurisdiction covers it; 403 otherwise."""
    is_admin = Scope.directory_admin.value in scopes
    if organisation_id == caller_id:
        if not is_admin and Scope.approvals_decide.value not in scopes:
            raise insufficient_scope(
                Scope.approvals_decide,
                "delegating needs 'approvals:decide' (the CDO's own system) or 'directory:admin'",
                "授权委托需要权限范围“approvals:decide”（首席数据官本单位的系统）"
                "或“directory:admin”",
            )
        return
    if not is_admin:
        raise NotYourCDO(field)
    if not covers(await repository.current_view(session, now), caller_id, organisation_id):
        raise OutsideJurisdiction(caller_id, organisation_id, field)


async def delegate(
    session: AsyncSession,
    data: DelegationIn,
    *,
    actor: Actor,
    scopes: frozenset[str],
    now: datetime,
) -> Delegation:
    caller_id = actor.organisation
    organisation_id = data.organisation_id or caller_id
    await get_organisation(session, organisation_id)
    await _may_act_for(
        session, organisation_id, caller_id=caller_id, scopes=scopes, field="organisation_id",
        now=now,
    )  # fmt: skip
    delegate_org_id = data.delegate_org_id or organisation_id
    if delegate_org_id != organisation_id:
        await get_organisation(session, delegate_org_id)
    if delegate_org_id == caller_id != organisation_id:
        raise SelfDelegation(caller_id, organisation_id)
    active = await repository.active_appointments(session, [organisation_id], now)
    appointment = active.get(organisation_id)
    if appointment is None:
        raise NoActiveCDO(organisation_id)
    problem = window_problem(data.starts_at, data.ends_at, appointment.ends_at, now)
    if problem is not None:
        field, message, message_zh = problem
        raise InvalidDirectoryChange(message, detail_zh=message_zh, field=field)
    delegation = Delegation(
        id=new_id("dlg"),
        appointment_id=appointment.id,
        delegate_name=data.delegate_name,
        delegate_title=data.delegate_title,
        delegate_org_id=delegate_org_id,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        reason=data.reason,
    )
    session.add(delegation)
    await session.flush()
    await audit.record(
        session, "cdo.delegated", actor=actor, subject=delegation.id, now=now,
        organisation=organisation_id, delegate=delegation.delegate_name,
        delegate_org=delegate_org_id, starts_at=delegation.starts_at, ends_at=delegation.ends_at,
    )  # fmt: skip
    return delegation


async def revoke(
    session: AsyncSession,
    delegation_id: str,
    *,
    reason: str | None,
    actor: Actor,
    scopes: frozenset[str],
    now: datetime,
) -> tuple[Delegation, Appointment]:
    """Ends a delegation now. Revoking a revoked one changes nothing; one that already ended
    is a 409."""
    found = await repository.delegation(session, delegation_id)
    if found is None:
        raise DelegationNotFound(delegation_id)
    delegation, appointment = found
    await _may_act_for(
        session, appointment.organisation_id, caller_id=actor.organisation, scopes=scopes,
        field="delegation_id", now=now,
    )  # fmt: skip
    if delegation.revoked_at is not None:
        return delegation, appointment
    if delegation.ends_at <= now:
        raise DelegationEnded(delegation.id, delegation.ends_at)
    delegation.revoked_at = now
    await session.flush()
    await audit.record(
        session, "cdo.delegation_revoked", actor=actor, subject=delegation.id, now=now,
        organisation=appointment.organisation_id, delegate_org=delegation.delegate_org_id,
        reason=reason,
    )  # fmt: skip
    return delegation, appointment
