"""Signed-in browsers: a random token in a secure, HTTP-only cookie, its hash in the database
(signing out ends it everywhere at once), and a CSRF token per session that every form posts
back (the synchronizer token pattern)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import URL

from broker.audit import service as audit
from broker.audit.actor import Actor
from broker.people import repository
from core.models.directory import Organisation
from core.models.people import Person, PersonSession

COOKIE = "cdo_session"
LIFETIME = timedelta(hours=8)  # a working day; signing in again costs a CDO little
CONSOLE_CLIENT = "console"  # the audit log's client for what people do in the console


def sign_in_url(url: URL) -> str:
    """The console's sign-in page for a browser without a session, sending it back to `url` (its
    path and query) once signed in."""
    target = url.path + ("?" + url.query if url.query else "")
    return "/console/signin?" + urlencode({"next": target})


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class PersonView:
    """The signed-in person as plain values: a page that rolls back a refused change still
    reads who is signed in (a rollback expires every loaded row)."""

    id: str
    username: str
    name: str
    organisation_id: str
    role: str
    organisation_kind: str  # government | department | data_bureau

    @classmethod
    def of(cls, person: Person, organisation_kind: str) -> PersonView:
        return cls(
            person.id, person.username, person.name, person.organisation_id, person.role,
            organisation_kind,
        )  # fmt: skip

    @property
    def runs_the_scheme(self) -> bool:
        """Reads the data bureau's pages: a bureau's operators and auditors."""
        return self.organisation_kind == "data_bureau" and self.role in (
            "bureau_operator",
            "auditor",
        )


@dataclass(frozen=True)
class SignedIn:
    person: PersonView
    session_id: str
    csrf_token: str
    signed_in_at: datetime

    @property
    def actor(self) -> Actor:
        return Actor(self.person.organisation_id, CONSOLE_CLIENT, self.person.id)

    def csrf_matches(self, posted: str | None) -> bool:
        return posted is not None and hmac.compare_digest(self.csrf_token, posted)


async def start(
    session: AsyncSession, person: Person, now: datetime, *, via: str = "password"
) -> tuple[str, SignedIn]:
    """A new session for `person`; the cookie's value (shown only here) and the session.
    `via`: how they proved who they are (`password`, `upstream`: the unified sign-on)."""
    token = secrets.token_urlsafe(32)
    row = PersonSession(
        id=_hash(token),
        person_id=person.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + LIFETIME,
    )
    session.add(row)
    await session.flush()
    organisation = await session.get(Organisation, person.organisation_id)
    assert organisation is not None  # a foreign key
    signed_in = SignedIn(PersonView.of(person, organisation.kind), row.id, row.csrf_token, now)
    await audit.record(
        session, "person.signed_in", actor=signed_in.actor, subject=person.id, via=via
    )
    return token, signed_in


async def find(session: AsyncSession, token: str | None, now: datetime) -> SignedIn | None:
    if not token:
        return None
    found = await repository.live_session(session, _hash(token), now)
    if found is None:
        return None
    row, person, kind = found
    return SignedIn(PersonView.of(person, kind), row.id, row.csrf_token, row.created_at)


async def end(session: AsyncSession, signed_in: SignedIn, now: datetime) -> None:
    await repository.end_session(session, signed_in.session_id, now)
    await audit.record(
        session, "person.signed_out", actor=signed_in.actor, subject=signed_in.person.id
    )
