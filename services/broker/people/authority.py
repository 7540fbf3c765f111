"""Which person may decide a step: the CONTRACT's "a person acts as CDO only while the body's
active appointment names that person", applied where a decision is recorded."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit.actor import Actor
from broker.people.exceptions import NotTheAppointedPerson, PersonRequired
from broker.people.roles import Role, may_decide_as_delegate, may_decide_for_body
from core.models.directory import Appointment, Delegation, Organisation, OrgKind
from core.models.people import Person


async def deciding_person(
    session: AsyncSession,
    actor: Actor,
    *,
    approver_org_id: str,
    appointment: Appointment | None,
    delegation: Delegation | None,
    require_person: bool,
) -> Person | None:
    """The person deciding (None: a system with client credentials, where allowed); 403 when a
    person is needed (DECISIONS_REQUIRE_PERSON) or this person may not decide this step."""
    if actor.person_id is None:
        if require_person:
            raise PersonRequired()
        return None
    person = await session.get(Person, actor.person_id)
    if person is None or person.disabled_at is not None:
        raise NotTheAppointedPerson("your account is no longer active", detail_zh="您的账号已停用")
    role = Role(person.role)
    if delegation is not None:
        allowed = may_decide_as_delegate(role)
    else:
        body = await session.get(Organisation, approver_org_id)
        allowed = may_decide_for_body(
            role,
            person_id=person.id,
            cdo_in_office=appointment is not None,
            appointed_person_id=appointment.person_id if appointment else None,
            is_bureau=body is not None and body.kind == OrgKind.data_bureau,
        )
    if not allowed:
        named = f" ({appointment.person_name})" if appointment else ""
        named_zh = f"（{appointment.person_name}）" if appointment else ""
        raise NotTheAppointedPerson(
            f"'{approver_org_id}' decides through its CDO in office{named}: only the person the "
            "active appointment names may decide",
            detail_zh=f"“{approver_org_id}”由其在任首席数据官{named_zh}审批："
            "只有任命所载的本人可以审批",
            person_id=person.id,
        )
    return person
