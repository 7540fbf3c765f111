"""All SQL of OAuth clients and their tokens' grants; the batches of uses Redis counted, in
`use_batches`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    ARRAY,
    String,
    Table,
    and_,
    any_,
    bindparam,
    func,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit import repository as audit_repository
from broker.oauth.standing import Standing
from core.db import connection_of
from core.driver import DriverStatement
from core.models.grants import Grant
from core.models.oauth import OAuthClient
from core.models.requests import DataRequest


class TracedGrant(NamedTuple):
    """What a token carries of a grant, with the trace context of the request that produced it."""

    id: str
    dataset_id: str
    fields: list[str]
    purpose: str
    jurisdiction: str | None
    ends_at: datetime
    request_id: str
    trace_id: str
    span_id: str


_grants = cast(Table, Grant.__table__)
_clients = cast(Table, OAuthClient.__table__)
_requests = cast(Table, DataRequest.__table__)
_standing_client = (
    select(_clients.c.id)
    .where(_clients.c.id == bindparam("holder"), _clients.c.revoked_at.is_(None))
    .scalar_subquery()
)


def _in_force(grants: Any) -> Any:  # the table or an alias of it
    return and_(
        grants.c.id.in_(bindparam("grant_ids", expanding=True)),
        grants.c.status == "active",
        grants.c.starts_at <= bindparam("now"),
        grants.c.ends_at > bindparam("now"),
    )


_other = _grants.alias("other")
# Built once. One statement decides and counts: the grants are counted only when the client
# stands and every one of them is in force, read in the statement itself (a revocation or pause
# committed before it is seen), and the UPDATE's own arithmetic counts concurrent uses once each.
_COUNT_USES_IF_STANDING = (
    update(_grants)
    .where(
        _in_force(_grants),
        _standing_client.is_not(None),
        select(func.count()).select_from(_other).where(_in_force(_other)).scalar_subquery()
        == bindparam("wanted"),
    )
    .values(use_count=_grants.c.use_count + 1, last_used_at=bindparam("now"))
    .returning(_grants.c.id)
)
_CLIENT_STANDS = select(_standing_client)
# Built once. An uncorrelated subquery beside aggregates: one row, whatever the grants.
_STANDING = select(
    _standing_client,
    func.count(),
    func.max(_grants.c.starts_at),
    func.min(_grants.c.ends_at),
).where(_grants.c.id.in_(bindparam("grant_ids", expanding=True)), _grants.c.status == "active")
_COUNT_USES = (
    update(_grants)
    .where(_grants.c.id.in_(bindparam("grant_ids", expanding=True)))
    .values(use_count=_grants.c.use_count + 1, last_used_at=bindparam("now"))
)


async def locked_client(session: AsyncSession, client_id: str) -> OAuthClient | None:
    """The client, its row locked until the transaction ends."""
    return await session.get(OAuthClient, client_id, with_for_update=True)


def _grants_in_force(organisation: Any, of_datasets: Any, now: Any) -> Any:
    return and_(
        Grant.grantee_id == organisation,
        of_datasets,
        Grant.status == "active",
        Grant.starts_at <= now,
        Grant.ends_at > now,
    )


# the longest-running grant last, and of grants ending at the same moment the newest (else
# which one a token carried was the database's choice)
_GRANT_ORDER = (Grant.ends_at, Grant.created_at, Grant.id)


def _grants_in_force_query(of_datasets: Any) -> Any:
    """Core columns only: a grant token whose client is known reads no ORM entity."""
    return (
        select(
            *(_grants.c[name] for name in TracedGrant._fields[:7]),
            _requests.c.trace_id,
            _requests.c.span_id,
        )
        .select_from(_grants.outerjoin(_requests, _requests.c.id == _grants.c.request_id))
        .where(_grants_in_force(bindparam("organisation"), of_datasets, bindparam("now")))
        .order_by(*_GRANT_ORDER)
    )


# Built once. On PostgreSQL the datasets are one array parameter (`= ANY`), not an IN list whose
# SQL changes with its length, so the statement is compiled once and runs on the driver
# (core/driver.py); elsewhere (SQLite) an IN list, through SQLAlchemy.
_ANY_DATASET = Grant.dataset_id == any_(bindparam("dataset_ids", type_=ARRAY(String)))
_GRANTS_IN_FORCE = DriverStatement(_grants_in_force_query(_ANY_DATASET))
_GRANTS_IN_FORCE_LISTED = _grants_in_force_query(
    Grant.dataset_id.in_(bindparam("dataset_ids", expanding=True))
)


def _traced(grant: Grant, trace_id: str, span_id: str) -> TracedGrant:
    return TracedGrant(
        grant.id, grant.dataset_id, grant.fields, grant.purpose, grant.jurisdiction,
        grant.ends_at, grant.request_id, trace_id, span_id,
    )  # fmt: skip


async def client_with_grants(
    session: AsyncSession, client_id: str, dataset_ids: Sequence[str], *, now: datetime
) -> tuple[OAuthClient, list[TracedGrant]] | None:
    """The client and its organisation's grants in force at `now` for `dataset_ids`, each with
    its request's trace id and span id, in one query, in the order of `grants_in_force`."""
    query = select(OAuthClient).where(OAuthClient.id == client_id)
    if dataset_ids:
        query = (
            query.add_columns(Grant, DataRequest.trace_id, DataRequest.span_id)
            .outerjoin(
                Grant,
                _grants_in_force(
                    OAuthClient.organisation_id, Grant.dataset_id.in_(dataset_ids), now
                ),
            )
            .outerjoin(DataRequest, DataRequest.id == Grant.request_id)
            .order_by(*_GRANT_ORDER)
        )
    rows: list[Any] = list((await session.execute(query)).all())  # add_columns() widens them
    if not rows:
        return None
    if not dataset_ids:
        return rows[0][0], []
    return rows[0][0], [_traced(g, trace, span) for _, g, trace, span in rows if g is not None]


async def grants_in_force(
    session: AsyncSession, organisation_id: str, dataset_ids: Sequence[str], *, now: datetime
) -> list[TracedGrant]:
    """The organisation's grants in force at `now` for `dataset_ids` with their requests' trace
    ids and span ids (a client already known), in one query; the longest-running grant last."""
    connection = await connection_of(session)  # Core statements: none of the ORM's work
    parameters = {"organisation": organisation_id, "dataset_ids": list(dataset_ids), "now": now}
    if connection.dialect.name == "postgresql":
        return [
            TracedGrant._make(row) for row in await _GRANTS_IN_FORCE.rows(connection, parameters)
        ]
    return [
        TracedGrant._make(row)
        for row in await connection.execute(_GRANTS_IN_FORCE_LISTED, parameters)
    ]


def _grants_audited() -> DriverStatement:
    """`_GRANTS_IN_FORCE` and, only if it finds a grant, the audit entry appended
    (audit/repository.py, `append_when`): one statement, one snapshot."""
    granted = (
        _grants_in_force_query(_ANY_DATASET)
        .add_columns(_grants.c.created_at)  # ordered below, as `_GRANT_ORDER`
        .order_by(None)
        .cte("granted")
    )
    head, appended = audit_repository.append_when(select(granted.c.id).exists())
    return DriverStatement(
        select(
            *(granted.c[name] for name in TracedGrant._fields[:9]),
            appended.c.id,
            appended.c.prev_hash,
            appended.c.hash,
        )
        .select_from(granted.outerjoin(appended, true()))
        .order_by(granted.c.ends_at, granted.c.created_at, granted.c.id)
        .add_cte(head)
    )


_GRANTS_AUDITED = _grants_audited()


async def grants_in_force_audited(
    session: AsyncSession,
    organisation_id: str,
    dataset_ids: Sequence[str],
    audit_parameters: dict[str, Any],
    *,
    now: datetime,
) -> tuple[list[TracedGrant], tuple[int, str, str] | None]:
    """PostgreSQL: `grants_in_force` and, in the same statement, the audit entry whose
    `audit_parameters` (audit/service.py, `parameters_of`) are given, appended only if a grant
    is in force: the grants, and the entry's id and hashes (None: nothing appended)."""
    connection = await connection_of(session)
    parameters = {"organisation": organisation_id, "dataset_ids": list(dataset_ids), "now": now}
    rows = await _GRANTS_AUDITED.rows(connection, parameters | audit_parameters)
    if not rows:
        return [], None
    return [TracedGrant._make(row[:9]) for row in rows], rows[0][9:]


async def count_uses_if_standing(
    session: AsyncSession, client_id: str, grant_ids: set[str], *, now: datetime
) -> bool:
    """Whether the token's client is not revoked and each of `grant_ids` is active at `now`,
    read afresh in one statement; if so (and only then), one use counted on each grant."""
    connection = await session.connection()  # Core statements: none of the ORM's work
    if not grant_ids:
        return (
            await connection.execute(_CLIENT_STANDS, {"holder": client_id})
        ).scalar() is not None
    counted = (
        await connection.execute(
            _COUNT_USES_IF_STANDING,
            {
                "holder": client_id,
                "grant_ids": sorted(grant_ids),
                "now": now,
                "wanted": len(grant_ids),
            },
        )
    ).all()
    return len(counted) == len(grant_ids)


async def standing_of(session: AsyncSession, client_id: str, grant_ids: set[str]) -> Standing:
    """Whether the token's client is not revoked and each of `grant_ids` active, and the window
    in which they are all in force (oauth/standing.py keeps it), in one statement."""
    connection = await session.connection()
    holder, active, starts_at, ends_at = (
        await connection.execute(_STANDING, {"holder": client_id, "grant_ids": sorted(grant_ids)})
    ).one()
    return Standing(holder is not None and active == len(grant_ids), starts_at, ends_at)


async def count_uses(session: AsyncSession, grant_ids: set[str], *, now: datetime) -> None:
    """One use on each of `grant_ids`, their standing known (oauth/standing.py); the UPDATE's
    own arithmetic counts concurrent uses once each."""
    connection = await session.connection()
    await connection.execute(_COUNT_USES, {"grant_ids": sorted(grant_ids), "now": now})
