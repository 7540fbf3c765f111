"""All SQL of grants: grants read, listed and locked; the feed's changes in feed order, a
provider's standing, reported uses.

A position is `(tx, seq)` of a `grant_changes` row (see `GrantChange` for why both). Every read
of "what came after" stops at the horizon: rows of transactions older than any still running.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from broker.kit.filters import where_given
from core.db import UTCDateTime
from core.models.grants import Grant, GrantChange

Position = tuple[int, int]
ORIGIN: Position = (0, 0)


@dataclass(frozen=True)
class Change:
    position: Position
    grant_id: str
    provider_id: str
    grantee_id: str
    dataset_id: str
    event: str
    status: str
    ends_at: datetime
    occurred_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "grant_id": self.grant_id,
            "dataset_id": self.dataset_id,
            "grantee_id": self.grantee_id,
            "provider_id": self.provider_id,
            "event": self.event,
            "status": self.status,
            "ends_at": self.ends_at.isoformat(),
            "occurred_at": self.occurred_at.isoformat(),
        }


_C = GrantChange
_COLUMNS = (
    _C.tx,
    _C.seq,
    _C.grant_id,
    _C.provider_id,
    _C.grantee_id,
    _C.dataset_id,
    _C.event,
    _C.status,
    _C.ends_at,
    _C.occurred_at,
)


_ORDER = (_C.tx, _C.seq)


def _change(row: Any) -> Change:
    return Change((row.tx, row.seq), *row[2:10])


def _horizon(session: AsyncSession) -> ColumnElement[bool]:
    """Rows every reader will see from now on, and no row that could still appear before them."""
    if session.get_bind().dialect.name != "postgresql":
        return literal(True)
    return _C.tx < text("pg_snapshot_xmin(pg_current_snapshot())::text::bigint")


def _after(position: Position) -> ColumnElement[bool]:
    return tuple_(_C.tx, _C.seq) > tuple_(literal(position[0]), literal(position[1]))


async def changes_after(session: AsyncSession, after: Position, *, limit: int) -> Sequence[Change]:
    """Every provider's changes after `after`, up to the horizon: what a feed process reads."""
    query = select(*_COLUMNS).where(_after(after), _horizon(session))
    return [_change(row) for row in await session.execute(query.order_by(*_ORDER).limit(limit))]


async def provider_changes_between(
    session: AsyncSession, provider_id: str, after: Position, upto: Position, *, limit: int
) -> Sequence[Change]:
    """One provider's changes in `(after, upto]`: a listener catching up from the table. Every
    row up to a position the feed has read is final, so no horizon is needed."""
    query = select(*_COLUMNS).where(
        _C.provider_id == provider_id,
        _after(after),
        tuple_(_C.tx, _C.seq) <= tuple_(literal(upto[0]), literal(upto[1])),
    )
    return [_change(row) for row in await session.execute(query.order_by(*_ORDER).limit(limit))]


async def last_position(session: AsyncSession) -> Position:
    """The newest position below the horizon: where a feed process starts."""
    query = select(_C.tx, _C.seq).where(_horizon(session)).order_by(_C.tx.desc(), _C.seq.desc())
    row = (await session.execute(query.limit(1))).first()
    return ORIGIN if row is None else (row.tx, row.seq)


async def standing(
    session: AsyncSession, provider_id: str, upto: Position, *, now: datetime
) -> Sequence[Change]:
    """As of `upto`, the provider's grants that are not active and not yet past their end: what
    a guard starting afresh must refuse although their tokens still verify."""
    newest = (
        func.row_number()
        .over(partition_by=_C.grant_id, order_by=(_C.tx.desc(), _C.seq.desc()))
        .label("newest")
    )
    latest = (
        select(*_COLUMNS, newest)
        .where(
            _C.provider_id == provider_id,
            tuple_(_C.tx, _C.seq) <= tuple_(literal(upto[0]), literal(upto[1])),
        )
        .subquery()
    )
    query = (
        select(*(latest.c[c.key] for c in _COLUMNS))
        .where(latest.c.newest == 1, latest.c.status != "active", latest.c.ends_at > now)
        .order_by(latest.c.tx, latest.c.seq)
    )
    return [_change(row) for row in await session.execute(query)]


_grants = cast(Table, Grant.__table__)
_used_at = bindparam("used_at", type_=UTCDateTime())
# In SQL, so concurrent reports all count; the last use never moves back in time.
_ADD_USES = (
    update(_grants)
    .where(_grants.c.id == bindparam("grant"), _grants.c.provider_id == bindparam("provider"))
    .values(
        use_count=_grants.c.use_count + bindparam("uses"),
        last_used_at=case(
            (
                and_(_grants.c.last_used_at.is_not(None), _grants.c.last_used_at >= _used_at),
                _grants.c.last_used_at,
            ),
            else_=_used_at,
        ),
    )
    .returning(_grants.c.id)
)


async def add_uses(
    session: AsyncSession, provider_id: str, uses: Sequence[tuple[str, int, datetime]]
) -> set[str]:
    """Add `(grant id, count, last used)` to grants on the provider's datasets; the ids counted."""
    connection = await session.connection()
    counted: set[str] = set()
    for grant_id, count, used_at in uses:
        params = {"grant": grant_id, "provider": provider_id, "uses": count, "used_at": used_at}
        counted.update((await connection.execute(_ADD_USES, params)).scalars())
    return counted


# --- grants


async def visible_grant(session: AsyncSession, grant_id: str, org_id: str) -> Grant | None:
    """The grant if `org_id` is its grantee or its provider."""
    return await session.scalar(
        select(Grant).where(
            Grant.id == grant_id, or_(Grant.grantee_id == org_id, Grant.provider_id == org_id)
        )
    )


async def locked_grant(session: AsyncSession, grant_id: str) -> Grant | None:
    """The grant, its row locked until the transaction ends: changes to it are serialised."""
    return await session.scalar(select(Grant).where(Grant.id == grant_id).with_for_update())


async def list_grants(
    session: AsyncSession,
    *,
    org_id: str,
    role: str | None,
    status: str | None,
    dataset_id: str | None,
    after: str | None,
    limit: int,
) -> Sequence[Grant]:
    """Newest first; `role`: the caller as grantee, as provider, or either."""
    query = select(Grant).order_by(Grant.id.desc()).limit(limit)
    if role == "grantee":
        query = query.where(Grant.grantee_id == org_id)
    elif role == "provider":
        query = query.where(Grant.provider_id == org_id)
    else:
        query = query.where(or_(Grant.grantee_id == org_id, Grant.provider_id == org_id))
    query = where_given(query, (Grant.status, status), (Grant.dataset_id, dataset_id))
    if after is not None:
        query = query.where(Grant.id < after)
    return (await session.scalars(query)).all()


async def past_their_window(session: AsyncSession, now: datetime, limit: int) -> Sequence[Grant]:
    """Grants in force whose window has ended, locked; SKIP LOCKED keeps replicas from taking one
    twice."""
    return (
        await session.scalars(
            select(Grant)
            .where(Grant.status.in_(["active", "paused"]), Grant.ends_at <= now)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
