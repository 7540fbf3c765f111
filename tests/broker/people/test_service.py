"""People: argon2id passwords, TOTP for deciders in production, one answer for every failure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from broker.people.exceptions import SignInRefused, UnknownRole, UsernameTaken
from broker.people.service import authenticate, create_person, totp_now
from core.models.audit import AuditEntry
from core.models.people import Person
from core.webhooks.secrets import SecretCipher, cipher_from_settings
from testing.clients import Sessions
from testing.organisations import new_organisation
from testing.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def cipher(settings: Settings) -> SecretCipher:
    return cipher_from_settings(settings)


async def test_a_person_gets_an_argon2id_hash_and_an_audited_one_time_password(
    sessionmaker: Sessions, cipher: SecretCipher
) -> None:
    org = await new_organisation(sessionmaker)
    async with sessionmaker() as session:
        new = await create_person(
            session, organisation_id=org, role="staff", name="李经办", cipher=cipher
        )
        await session.commit()
    assert new.person.password_hash.startswith("$argon2id$")
    assert new.password not in new.person.password_hash
    assert new.person.username == f"{org}-staff"
    assert new.totp_uri is None  # staff need no second factor
    async with sessionmaker() as session:
        audited = await session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "person.created", AuditEntry.subject == new.person.id
            )
        )
        assert audited is not None
        signed_in = await authenticate(
            session, username=new.person.username, password=new.password, totp_code=None,
            cipher=cipher, production=True, now=datetime.now(UTC),
        )  # fmt: skip
    assert signed_in.id == new.person.id


async def test_usernames_are_numbered_by_default_and_refused_when_asked_for_twice(
    sessionmaker: Sessions, cipher: SecretCipher
) -> None:
    org = await new_organisation(sessionmaker)
    async with sessionmaker() as session:
        first = await create_person(
            session, organisation_id=org, role="auditor", name="甲", cipher=cipher
        )
        second = await create_person(
            session, organisation_id=org, role="auditor", name="乙", cipher=cipher
        )
        assert (first.person.username, second.person.username) == (
            f"{org}-auditor",
            f"{org}-auditor-2",
        )
        with pytest.raises(UsernameTaken):
            await create_person(
                session, organisation_id=org, role="staff", name="丙", cipher=cipher,
                username=first.person.username,
            )  # fmt: skip
        with pytest.raises(UnknownRole):
            await create_person(
                session, organisation_id=org, role="mayor", name="丁", cipher=cipher
            )


async def test_a_cdo_needs_the_one_time_code_in_production(
    sessionmaker: Sessions, cipher: SecretCipher
) -> None:
    org = await new_organisation(sessionmaker)
    now = datetime.now(UTC)
    async with sessionmaker() as session:
        new = await create_person(
            session, organisation_id=org, role="cdo", name="王首席", cipher=cipher
        )
        await session.commit()
        assert str(new.totp_uri).startswith("otpauth://totp/")
        code = totp_now(new.person, cipher, now)
        stale = totp_now(new.person, cipher, now - timedelta(minutes=5))

        async def sign_in(password: str, code: str | None, production: bool = True) -> Person:
            return await authenticate(
                session, username=new.person.username, password=password, totp_code=code,
                cipher=cipher, production=production, now=now,
            )  # fmt: skip

        assert (await sign_in(new.password, code)).id == new.person.id
        # development: the password alone
        assert (await sign_in(new.password, None, production=False)).id == new.person.id
        for password, wrong in ((new.password, None), (new.password, stale), ("wrong", code)):
            with pytest.raises(SignInRefused) as refused:
                await sign_in(password, wrong)
            assert refused.value.detail == "the username, password or one-time code is not right"
        with pytest.raises(SignInRefused):
            await authenticate(
                session, username="nobody-here", password="x", totp_code=None,
                cipher=cipher, production=False, now=now,
            )  # fmt: skip
