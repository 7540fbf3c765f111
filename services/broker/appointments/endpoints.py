"""Filing and ending CDO appointments (the directory's API, under its tag): appointments.service
records the appointment and, for a body left without a CDO in office, hands its open steps to its
level's data bureau in the same transaction.

Its own package because it joins two domains: the directory knows nothing of requests, and
requests read the directory, never the other way round (pyproject's import contracts)."""

from __future__ import annotations

from fastapi import APIRouter, status

from broker.appointments import service
from broker.directory.schemas import AppointmentEnd, AppointmentIn, AppointmentOut
from broker.kit.deps import SessionDep
from broker.kit.problem_docs import problems
from broker.oauth.principal import DirectoryAdminDep
from broker.requests.dependencies import LinksDep, PolicyDep
from core.clock import utcnow

router = APIRouter(prefix="/v1", tags=["directory"])


@router.post(
    "/appointments",
    status_code=status.HTTP_201_CREATED,
    summary="File a CDO appointment for a body in your jurisdiction",
    responses=problems(404, 409),
)
async def appoint(
    body: AppointmentIn,
    session: SessionDep,
    admin: DirectoryAdminDep,
    policy: PolicyDep,
    links: LinksDep,
) -> AppointmentOut:
    appointment = await service.appoint(
        session, body, actor=admin.actor, policy=policy, links=links, now=utcnow()
    )
    return AppointmentOut.model_validate(appointment)


@router.post(
    "/appointments/{appointment_id}/end",
    summary="End a CDO appointment of a body in your jurisdiction",
)
async def end_appointment(
    appointment_id: str,
    body: AppointmentEnd,
    session: SessionDep,
    admin: DirectoryAdminDep,
    policy: PolicyDep,
    links: LinksDep,
) -> AppointmentOut:
    """An appointment that ends now (the default) hands the body's open steps to its level's
    data bureau at once; one ending later hands them over when it ends (the SLA job)."""
    now = utcnow()
    appointment = await service.end_appointment(
        session,
        appointment_id,
        ends_at=body.ends_at or now,
        reason=body.reason,
        actor=admin.actor,
        policy=policy,
        links=links,
        now=now,
    )
    return AppointmentOut.model_validate(appointment)
