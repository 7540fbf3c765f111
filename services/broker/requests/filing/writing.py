"""How a filing's rows reach the database once the service has built them in memory: on
PostgreSQL one statement (`filing/repository.write`), else the unit of work's flushes, in the
order the foreign keys need; and whether the session in hand can take them without a
transaction (`filing/service.NeedsTransaction` when it cannot)."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit import service as audit
from broker.requests.filing import repository
from broker.requests.filing.repository import Written
from broker.requests.progress import Route
from core.models.audit import AuditEntry
from core.models.requests import DataRequest
from core.outbox import take_recorded


async def write_filing(
    session: AsyncSession,
    request: DataRequest,
    route: Route,
    entry: AuditEntry,
    *,
    read_at: tuple[tuple[int, ...], tuple[int, ...]] | None,
) -> Written:
    """The filing's rows (the request, its steps and approvers, the events recorded) and its
    audit entry written; nothing written if the request's Idempotency-Key was used. With
    `read_at` (when `in_one_statement`, as the caller asked it when it held the events: the
    directory's and the catalog's versions what it planned from was read at) one statement,
    which writes nothing either unless those are still the versions (`Written.stale`); else, on
    SQLite or when the request is approved at once (which then updates it and issues a grant),
    the unit of work's flushes, in the transaction that read them."""
    if read_at is not None:
        rows = [request, *route.steps, *route.approvers, *take_recorded(session)]
        parameters = audit.append_parameters(session, entry)
        return await repository.write(session, rows, entry, parameters, read_at)
    session.add(request)
    try:
        await session.flush()
    except IntegrityError:
        # Nothing else has been written in this transaction, so it is rolled back whole.
        if request.idempotency_key is None:
            raise
        await session.rollback()
        return Written.key_used
    # Each table after those its foreign keys name: the request is written, then its steps, then
    # (with the events, at the commit) the approvers of each step. There is no relationship()
    # between them to order one flush by, so the flushes order them.
    session.add_all(route.steps)
    await session.flush()
    session.add_all(route.approvers)
    # After the request's INSERT, never before: a lost race (above) rolls back before any row,
    # and this row's chain is the one the rest of the transaction (a grant issued) appends to.
    await audit.append(session, entry)
    return Written.written


def on_postgresql(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def in_one_statement(session: AsyncSession, route: Route) -> bool:
    return bool(route.steps) and on_postgresql(session)


def autocommitting(session: AsyncSession) -> bool:
    return session.get_bind().get_execution_options().get("isolation_level") == "AUTOCOMMIT"
