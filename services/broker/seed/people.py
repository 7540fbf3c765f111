"""`cdo-broker seed-pilot --people PATH`: demo people for the pilot bodies, written to PATH as
`{"<org id>": [{"username", "password", "role", "name"}]}` (CONTRACT v2).

Each pilot body with a CDO gets that CDO as a person, named by its active appointment; each pilot
department also gets a member of staff (经办人) who files requests. Like the demo clients, people
already in the file who still exist are kept (their passwords are only there): reruns neither
duplicate nor reset them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from broker.people.roles import Role
from broker.people.service import create_person
from broker.requests.repository import authority
from broker.seed import repository
from core.webhooks.secrets import SecretCipher

DemoPeople = dict[str, list[dict[str, str]]]


def _wanted(entry: dict[str, Any]) -> list[tuple[Role, str]]:
    wanted: list[tuple[Role, str]] = []
    if entry.get("cdo"):
        wanted.append((Role.cdo, entry["cdo"]["person_name"]))
    if entry["kind"] == "department":
        wanted.append((Role.staff, f"{entry['name']}经办人"))
    if entry["kind"] == "data_bureau":
        wanted.append((Role.bureau_operator, f"{entry['name']}工作人员"))
    return wanted


async def ensure_demo_people(
    session: AsyncSession,
    data: dict[str, Any],
    known: DemoPeople,
    *,
    cipher: SecretCipher,
    now: datetime,
) -> tuple[DemoPeople, int]:
    """The demo people and how many were created now. A new CDO person is named by its body's
    active appointment, if that names nobody yet."""
    existing = {p.username: p for p in await repository.enabled_people(session)}
    result: DemoPeople = {}
    created = 0
    for entry in data["organisations"]:
        if not entry.get("pilot"):
            continue
        org_id = entry["id"]
        kept = [p for p in known.get(org_id, []) if p.get("username") in existing]
        result[org_id] = list(kept)
        for role, name in _wanted(entry):
            if any(p["role"] == role.value for p in kept):
                continue
            new = await create_person(
                session, organisation_id=org_id, role=role.value, name=name, cipher=cipher
            )
            created += 1
            result[org_id].append(
                {
                    "username": new.person.username,
                    "password": new.password,
                    "role": role.value,
                    "name": name,
                }
            )
            if role is Role.cdo:
                await _name_in_appointment(session, org_id, new.person.id, now)
    return result, created


async def _name_in_appointment(
    session: AsyncSession, org_id: str, person_id: str, now: datetime
) -> None:
    """Names the person in the body's appointment in force, unless it names one already (the
    one-CDO rule leaves one in force at a time)."""
    appointment = await authority.active_appointment(session, org_id, now)
    if appointment is not None and appointment.person_id is None:
        appointment.person_id = person_id
        await session.flush()
