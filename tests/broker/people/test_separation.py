"""Whoever files an IT project never decides it: the pure rule, every pairing of who filed and
who decides."""

from __future__ import annotations

import pytest

from broker.audit.actor import Actor
from broker.requests.separation import filed_it
from core.models.people import Person
from core.models.requests import DataRequest

SYSTEM_CLIENT = "c-system"  # the body's department system, through which its staff file
OTHER_CLIENT = "c-cdo"


def project(*, by_person: str | None, through: str) -> DataRequest:
    return DataRequest(
        id="r1", kind="it_project", filed_by_person_id=by_person, filed_by_client_id=through
    )


def deciding(client: str, person: str | None) -> tuple[Actor, Person | None]:
    actor = Actor(org_id="gz-gaj", client_id=client, person_id=person)
    return actor, Person(id=person) if person else None


@pytest.mark.parametrize(
    ("filer", "decider", "refused"),
    [
        # a person filed through the system
        (("p-staff", SYSTEM_CLIENT), (SYSTEM_CLIENT, "p-staff"), True),
        (("p-staff", SYSTEM_CLIENT), (OTHER_CLIENT, "p-staff"), True),
        (("p-staff", SYSTEM_CLIENT), (SYSTEM_CLIENT, None), True),  # the system, anonymously
        (("p-staff", SYSTEM_CLIENT), (SYSTEM_CLIENT, "p-cdo"), False),
        (("p-staff", SYSTEM_CLIENT), (OTHER_CLIENT, None), False),
        # the system filed on its own
        ((None, SYSTEM_CLIENT), (SYSTEM_CLIENT, None), True),
        ((None, SYSTEM_CLIENT), (SYSTEM_CLIENT, "p-cdo"), False),
        ((None, SYSTEM_CLIENT), (OTHER_CLIENT, None), False),
    ],
)
def test_whoever_filed_never_decides(
    filer: tuple[str | None, str], decider: tuple[str, str | None], refused: bool
) -> None:
    actor, person = deciding(*decider)
    assert filed_it(project(by_person=filer[0], through=filer[1]), actor, person) is refused
