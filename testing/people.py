"""People for tests: a person (optionally named by their body's active appointment), signed in
to the console through its form, and a person's tokens through the OIDC flow."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select

from broker.people.service import NewPerson, create_person
from core.models.directory import Appointment
from core.webhooks.secrets import cipher_from_settings
from testing.clients import Sessions
from testing.settings import Settings

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def own_address() -> str:
    """A browser's address of its own, as each person's is: sign-ins are limited per address
    (RATE_LIMIT_SIGNIN) and the counts in Redis outlive a test."""
    return f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"


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
    return await sign_in_as(browser, person.person.username, person.password)


async def sign_in_as(browser: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    form = await browser.get("/console/signin")
    return await browser.post(
        "/console/signin",
        data={
            "username": username,
            "password": password,
            "csrf": csrf_of(form.text),
            "next": "/console/",
        },
    )


@dataclass(frozen=True)
class Console:
    """A person's browser without the browser: an HTTP client that holds their session cookie
    and posts the console's forms as a browser does, with the session's CSRF token."""

    http: httpx.AsyncClient
    person: NewPerson

    async def post(
        self, path: str, data: dict[str, Any], *, page: str = "/console/grants"
    ) -> httpx.Response:
        """`data` posted to `path`, with the CSRF token of `page` (any page carries it)."""
        shown = await self.http.get(page)
        return await self.http.post(path, data={"csrf": csrf_of(shown.text), **data})
