"""Who may decide as a body's CDO, and who needs a second factor: the pure rules."""

from __future__ import annotations

import pytest

from broker.people.roles import Role, may_decide_for_body, needs_second_factor


def test_only_the_person_the_active_appointment_names_decides() -> None:
    assert may_decide_for_body(
        Role.cdo, person_id="p1", cdo_in_office=True, appointed_person_id="p1", is_bureau=False
    )
    assert not may_decide_for_body(
        Role.cdo, person_id="p2", cdo_in_office=True, appointed_person_id="p1", is_bureau=False
    )
    # an appointment that names nobody lets no person decide (its body's system still may)
    assert not may_decide_for_body(
        Role.cdo, person_id="p1", cdo_in_office=True, appointed_person_id=None, is_bureau=False
    )


@pytest.mark.parametrize("role", [Role.staff, Role.auditor, Role.bureau_operator])
def test_other_roles_never_decide_while_a_cdo_is_in_office(role: Role) -> None:
    assert not may_decide_for_body(
        role, person_id="p1", cdo_in_office=True, appointed_person_id="p1", is_bureau=True
    )


def test_a_bureau_without_a_cdo_decides_through_its_operators_and_nobody_else_does() -> None:
    def between_cdos(role: Role, is_bureau: bool) -> bool:
        return may_decide_for_body(
            role, person_id="p", cdo_in_office=False, appointed_person_id=None, is_bureau=is_bureau
        )

    assert between_cdos(Role.bureau_operator, True)
    assert not between_cdos(Role.staff, True)
    assert not between_cdos(Role.cdo, False)


def test_second_factor_for_deciders_in_production_only() -> None:
    assert needs_second_factor(Role.cdo, production=True)
    assert needs_second_factor(Role.bureau_operator, production=True)
    assert not needs_second_factor(Role.staff, production=True)
    assert not needs_second_factor(Role.cdo, production=False)
