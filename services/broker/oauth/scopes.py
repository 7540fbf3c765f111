"""The scopes of CONTRACT, which ones each kind of organisation gets in the demo, and which a
person's token may carry by role."""

from __future__ import annotations

import re
from enum import StrEnum

from broker.people.roles import Role


class Scope(StrEnum):
    requests_submit = "requests:submit"
    requests_read = "requests:read"
    approvals_decide = "approvals:decide"
    grants_read = "grants:read"
    grants_revoke = "grants:revoke"
    webhooks_manage = "webhooks:manage"
    directory_admin = "directory:admin"
    catalog_admin = "catalog:admin"
    reports_read = "reports:read"
    # A data bureau scores the CDOs in its jurisdiction on the evaluation's entered indicators.
    evaluation_score = "evaluation:score"
    # May ask for per-grant tokens (`dataset:<id>:read`): the system that uses granted data.
    grants_use = "grants:use"
    # For resource servers (the providers' data APIs) checking the tokens presented to them.
    tokens_introspect = "tokens:introspect"


# Per-grant scopes are issued only to clients allowed `grants:use`, and only against an active
# grant of their organisation (oauth/server.py).
DATASET_SCOPE = re.compile(r"^dataset:(?P<dataset_id>[A-Za-z0-9._-]{1,100}):read$")

FIXED_SCOPES = frozenset(s.value for s in Scope)
# OpenID Connect's: only in a person's sign-in (authorization code), never client credentials.
IDENTITY_SCOPES = frozenset({"openid", "profile"})


def parse_scope(value: str | None) -> set[str]:
    return set(value.split()) if value else set()


def is_known_scope(scope: str) -> bool:
    return (
        scope in FIXED_SCOPES or scope in IDENTITY_SCOPES or DATASET_SCOPE.match(scope) is not None
    )


_EVERY_BODY = {
    Scope.requests_submit,
    Scope.requests_read,
    Scope.approvals_decide,
    Scope.grants_read,
    Scope.grants_revoke,
    Scope.grants_use,
    Scope.webhooks_manage,
    Scope.tokens_introspect,
}
_BUREAU = _EVERY_BODY | {
    Scope.directory_admin,
    Scope.catalog_admin,
    Scope.reports_read,
    Scope.evaluation_score,
}


def demo_scopes_for(kind: str, has_cdo: bool) -> str:
    """What a seeded organisation's demo client may ask for, by its role in the scheme."""
    scopes = set(_BUREAU if kind == "data_bureau" else _EVERY_BODY)
    if not has_cdo and kind != "data_bureau":
        # without a CDO nobody there decides; the bureau of its level acts for it
        scopes.discard(Scope.approvals_decide)
    return " ".join(sorted(scopes))


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
            Scope.evaluation_score,
        }
    ),
    Role.auditor: frozenset({Scope.requests_read, Scope.grants_read, Scope.reports_read}),
}
