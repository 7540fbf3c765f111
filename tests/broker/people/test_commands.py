"""`cdo-broker person create` and `seed-pilot --people`, as an operator runs them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from broker.people.service import authenticate
from core.models.directory import Appointment
from core.models.people import Person
from core.webhooks.secrets import cipher_from_settings
from testing import REPO_ROOT
from testing.clients import Sessions
from testing.organisations import new_organisation
from testing.processes import cdo_broker
from testing.settings import Settings

pytestmark = pytest.mark.integration


async def test_person_create_prints_a_password_that_signs_in(
    migrated: str, sessionmaker: Sessions
) -> None:
    org = await new_organisation(sessionmaker)
    result = cdo_broker(
        "person", "create", "--org", org, "--role", "cdo", "--name", "陈首席",
        database_url=migrated,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["username"] == f"{org}-cdo"
    assert printed["totp_uri"].startswith("otpauth://totp/")
    # the command's process keeps its development keys where `cdo-broker` runs
    cipher = cipher_from_settings(
        Settings.model_validate({"BROKER_DEV_KEY_DIR": str(REPO_ROOT / ".broker")})
    )
    async with sessionmaker() as session:
        person = await authenticate(
            session, username=printed["username"], password=printed["password"],
            totp_code=None, cipher=cipher, production=False, now=datetime.now(UTC),
        )  # fmt: skip
    assert (person.id, person.role, person.name) == (printed["person_id"], "cdo", "陈首席")


def test_person_create_names_a_wrong_role(migrated: str, seeded: object) -> None:
    result = cdo_broker(
        "person", "create", "--org", "gz-gaj", "--role", "mayor", "--name", "x",
        database_url=migrated,
    )  # fmt: skip
    assert result.returncode != 0
    assert "mayor" in result.stderr


# The first run hashes some 185 passwords with argon2id (64 MiB, 3 passes each: 0.2 s on an
# idle core), all of it CPU: on a machine shared by several suites it has taken over three minutes.
@pytest.mark.timeout(600)
async def test_seed_pilot_people_twice_keeps_them_and_names_the_cdos_in_appointments(
    migrated: str, seeded: object, sessionmaker: Sessions, tmp_path: Path
) -> None:
    people_file = tmp_path / "demo-people.json"
    seed = ("seed-pilot", "--people", str(people_file))
    first = cdo_broker(*seed, database_url=migrated, timeout_s=290)
    assert first.returncode == 0, first.stderr
    written = json.loads(people_file.read_text())
    again = cdo_broker(*seed, database_url=migrated, timeout_s=290)
    assert again.returncode == 0, again.stderr
    assert json.loads(people_file.read_text()) == written
    assert json.loads(again.stdout)["created"]["people"] == 0
    assert oct(people_file.stat().st_mode & 0o777) == "0o600"

    roles = {p["role"] for people in written.values() for p in people}
    assert roles == {"cdo", "staff", "bureau_operator"}
    assert all(set(p) == {"username", "password", "role", "name"} for p in written["gz-gaj"])
    cdo = next(p for p in written["gz-gaj"] if p["role"] == "cdo")
    async with sessionmaker() as session:
        person = await session.scalar(select(Person).where(Person.username == cdo["username"]))
        assert person is not None
        appointment = await session.scalar(
            select(Appointment).where(
                Appointment.organisation_id == "gz-gaj", Appointment.ends_at.is_(None)
            )
        )
        assert appointment is not None
        assert (appointment.person_id, appointment.person_name) == (person.id, cdo["name"])
