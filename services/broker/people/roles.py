"""The roles of a person, which need a second factor, and who may decide as a body's CDO (the
scopes each role's token may carry: oauth/scopes.py). Pure."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    cdo = "cdo"
    staff = "staff"
    bureau_operator = "bureau_operator"
    auditor = "auditor"


# Who can approve with a password alone would be one phishing mail away from approving.
SECOND_FACTOR_ROLES = frozenset({Role.cdo, Role.bureau_operator})


def needs_second_factor(role: Role, *, production: bool) -> bool:
    return production and role in SECOND_FACTOR_ROLES


def may_decide_for_body(
    role: Role,
    *,
    person_id: str,
    cdo_in_office: bool,
    appointed_person_id: str | None,
    is_bureau: bool,
) -> bool:
    """A person decides for their own body as its CDO only while the body's active appointment
    names them; a data bureau with no CDO in office decides as its level's authority, through
    its operators (routing counts on it)."""
    if cdo_in_office:
        return role is Role.cdo and appointed_person_id == person_id
    return is_bureau and role in (Role.bureau_operator, Role.cdo)


def may_decide_as_delegate(role: Role) -> bool:
    """A delegation names the deputy's body; among its people, its CDO decides."""
    return role is Role.cdo
