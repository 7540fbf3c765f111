"""People for tests: a person (optionally named by their body's active appointment), signed in
to the console through its form, and a person's tokens through the OIDC flow."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
from sqlalchemy import select

from broker.people.service import NewPerson, create_person
from core.models.directory import Appointment
from core.webhooks.secrets import cipher_from_settings
from testing.clients import Sessions
from testing.settings import Settings

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def new_person(
    sessionmaker: Sessions, settings: Settings, org_id: str, role: str, *, appointed: bool = False
) -> NewPerson:
    """A person of `org_id`; `appointed`: the body's active appointment names them from now."""
    async with sessionmaker() as session:
        new = await create_person(
            session, organisation_id=org_id, role=role, name=f"测试{role}",
            cipher=cipher_from_settings(settings),
        )  # fmt: skip
        if appointed:
            now = datetime.now(UTC)
            appointment = await session.scalar(
                select(Appointment).where(
                    Appointment.organisation_id == org_id,
                    Appointment.starts_at <= now,
                    Appointment.ends_at.is_(None) | (Appointment.ends_at > now),
                )
            )
            assert appointment is not None, f"{org_id} has no CDO in office"
            appointment.person_id = new.person.id
        await session.commit()
    return new


def csrf_of(page: str) -> str:
    found = CSRF.search(page)
    assert found, "the page has no CSRF field"
    return found.group(1)


async def sign_in(browser: httpx.AsyncClient, person: NewPerson) -> httpx.Response:
    """The console's sign-in form, filled in; `browser` keeps the session cookie."""
    form = await browser.get("/console/signin")
    return await browser.post(
        "/console/signin",
        data={
            "username": person.person.username,
            "password": person.password,
            "csrf": csrf_of(form.text),
            "next": "/console/",
        },
    )
