"""What each role of a person may do, and who may decide as a body's CDO. Pure."""

from __future__ import annotations

from enum import StrEnum

from broker.oauth.scopes import Scope


class Role(StrEnum):
    cdo = "cdo"
    staff = "staff"
    bureau_operator = "bureau_operator"
    auditor = "auditor"


# The API scopes a person's token may carry, by role (the client's own scopes narrow them).
ROLE_SCOPES: dict[Role, frozenset[str]] = {
    Role.cdo: frozenset(
        {Scope.requests_read, Scope.approvals_decide, Scope.grants_read, Scope.reports_read}
    ),
    Role.staff: frozenset({Scope.requests_submit, Scope.requests_read, Scope.grants_read}),
    Role.bureau_operator: frozenset(
        {
            Scope.requests_read,
            Scope.approvals_decide,
            Scope.grants_read,
            Scope.grants_revoke,
            Scope.directory_admin,
            Scope.catalog_admin,
            Scope.reports_read,
        }
    ),
    Role.auditor: frozenset({Scope.requests_read, Scope.grants_read, Scope.reports_read}),
}

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
