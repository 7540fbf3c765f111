"""Creating people and checking who signs in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pyotp
from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit import service as audit
from broker.audit.actor import SYSTEM, Actor
from broker.kit.problems import OrganisationNotFound
from broker.people import repository
from broker.people.exceptions import SignInRefused, UnknownRole, UsernameTaken
from broker.people.passwords import hash_password, one_time_password, verify_password
from broker.people.roles import SECOND_FACTOR_ROLES, Role, needs_second_factor
from core.ids import new_id
from core.models.directory import Organisation
from core.models.people import Person
from core.webhooks.secrets import SecretCipher


@dataclass(frozen=True)
class NewPerson:
    person: Person
    password: str  # shown once
    totp_uri: str | None  # otpauth:// for an authenticator app, shown once


def role_of(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise UnknownRole(value, [r.value for r in Role]) from None


async def _free_username(session: AsyncSession, wanted: str) -> str:
    taken = await repository.usernames_like(session, wanted)
    if wanted not in taken:
        return wanted
    return next(f"{wanted}-{n}" for n in range(2, len(taken) + 3) if f"{wanted}-{n}" not in taken)


async def create_person(
    session: AsyncSession,
    *,
    organisation_id: str,
    role: str,
    name: str,
    cipher: SecretCipher,
    username: str | None = None,
    password: str | None = None,
    actor: Actor = SYSTEM,
) -> NewPerson:
    """A person of `organisation_id` with a one-time password (and a TOTP secret for the roles
    that need a second factor in production). `username` defaults to `<org>-<role>`, numbered
    when taken; an explicit one that is taken is refused."""
    kind = role_of(role)
    if await session.get(Organisation, organisation_id) is None:
        raise OrganisationNotFound(organisation_id)
    if username is not None and await repository.by_username(session, username) is not None:
        raise UsernameTaken(username)
    username = username or await _free_username(session, f"{organisation_id}-{kind.value}")
    password = password or one_time_password()
    totp_secret = pyotp.random_base32() if kind in SECOND_FACTOR_ROLES else None
    person = Person(
        id=new_id("per"),
        organisation_id=organisation_id,
        username=username,
        name=name,
        role=kind.value,
        password_hash=hash_password(password),
        totp_secret=cipher.encrypt(totp_secret) if totp_secret else None,
    )
    session.add(person)
    await session.flush()
    await audit.record(
        session, "person.created", actor=actor, subject=person.id,
        organisation=organisation_id, role=kind.value, username=username,
    )  # fmt: skip
    uri = (
        pyotp.TOTP(totp_secret).provisioning_uri(name=username, issuer_name="cdo-broker")
        if totp_secret
        else None
    )
    return NewPerson(person=person, password=password, totp_uri=uri)


def totp_now(person: Person, cipher: SecretCipher, at: datetime) -> str | None:
    """The person's current one-time code (the demo and tests type it as an app would)."""
    if person.totp_secret is None:
        return None
    return str(pyotp.TOTP(cipher.decrypt(person.totp_secret)).at(at))


async def authenticate(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    totp_code: str | None,
    cipher: SecretCipher,
    production: bool,
    now: datetime,
) -> Person:
    """The person these credentials name; SignInRefused, saying nothing of which part failed."""
    person = await repository.by_username(session, username)
    password_ok = verify_password(person.password_hash if person else None, password)
    refused = SignInRefused()
    if person is None or not password_ok or person.disabled_at is not None:
        raise refused
    if needs_second_factor(Role(person.role), production=production) or (
        totp_code and person.totp_secret
    ):
        secret = cipher.decrypt(person.totp_secret) if person.totp_secret else None
        # valid_window=1: a code typed as it turned over (30 s steps) is still accepted
        totp = pyotp.TOTP(secret) if secret else None
        if not (totp and totp_code and totp.verify(totp_code, for_time=now, valid_window=1)):
            raise refused
    return person
