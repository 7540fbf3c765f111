"""All SQL of the directory."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from broker.kit.filters import where_given
from broker.routing.model import DirectoryView, OrgView
from core.db import version_now
from core.models.directory import Appointment, Delegation, DirectoryVersion, Organisation


async def list_organisations(
    session: AsyncSession,
    *,
    level: str | None,
    kind: str | None,
    parent_id: str | None,
    government_id: str | None,
    after: str | None,
    limit: int,
) -> Sequence[Organisation]:
    query = where_given(
        select(Organisation).order_by(Organisation.id).limit(limit),
        (Organisation.level, level),
        (Organisation.kind, kind),
        (Organisation.parent_id, parent_id),
        (Organisation.government_id, government_id),
    )
    if after is not None:
        query = query.where(Organisation.id > after)
    return (await session.scalars(query)).all()


def _active_at(moment: datetime) -> list[ColumnElement[bool]]:
    return [
        Appointment.in_force_at(moment),
    ]


async def active_appointments(
    session: AsyncSession, organisation_ids: Sequence[str], moment: datetime
) -> dict[str, Appointment]:
    if not organisation_ids:
        return {}
    query = select(Appointment).where(
        Appointment.organisation_id.in_(organisation_ids), *_active_at(moment)
    )
    return {a.organisation_id: a for a in await session.scalars(query)}


async def appointment_history(session: AsyncSession, organisation_id: str) -> Sequence[Appointment]:
    query = (
        select(Appointment)
        .where(Appointment.organisation_id == organisation_id)
        .order_by(Appointment.starts_at, Appointment.id)
    )
    return (await session.scalars(query)).all()


async def lock_organisation(session: AsyncSession, organisation_id: str) -> Organisation | None:
    """Serialises appointment changes per body (SELECT ... FOR UPDATE; SQLite locks the file)."""
    query = select(Organisation).where(Organisation.id == organisation_id).with_for_update()
    return await session.scalar(query)


async def next_filing_sequence(session: AsyncSession, bureau_id: str, year: int) -> int:
    """The bureau's next receipt number in `year`. The caller holds the bureau's row lock
    (`lock_organisation`), so two filings with one bureau never take the same number; the
    unique constraint is the backstop."""
    last = await session.scalar(
        select(func.max(Appointment.filing_sequence)).where(
            Appointment.filed_with_id == bureau_id, Appointment.filing_year == year
        )
    )
    return (last or 0) + 1


async def organisations_by_id(
    session: AsyncSession, organisation_ids: Sequence[str]
) -> dict[str, Organisation]:
    query = select(Organisation).where(Organisation.id.in_(organisation_ids))
    return {o.id: o for o in await session.scalars(query)}


async def overlapping_appointments(
    session: AsyncSession,
    organisation_id: str,
    starts_at: datetime,
    ends_at: datetime | None,
) -> Sequence[Appointment]:
    query = select(Appointment).where(
        Appointment.organisation_id == organisation_id,
        or_(Appointment.ends_at.is_(None), Appointment.ends_at > starts_at),
    )
    if ends_at is not None:
        query = query.where(Appointment.starts_at < ends_at)
    return (await session.scalars(query)).all()


async def delegations_of(session: AsyncSession, organisation_id: str) -> Sequence[Delegation]:
    query = (
        select(Delegation)
        .join(Appointment, Appointment.id == Delegation.appointment_id)
        .where(Appointment.organisation_id == organisation_id)
        .order_by(Delegation.starts_at, Delegation.id)
    )
    return (await session.scalars(query)).all()


# --- The directory as filing sees it, kept between filings.
#
# Filing plans a route over every body and its CDO windows, names the approvers' CDOs in its
# answer and tells each approval task who may decide for the CDO. Loading and rebuilding that on
# each filing cost more than the rest of filing's reads together, so each process keeps the rows
# and what is built from them. A change made by any process shows through `version_columns`:
# `directory_version`'s counter, which a trigger sets after every statement that writes one of
# `VERSIONED`'s tables, in its transaction, to a sequence's next number (revisions 0015, 0028), so
# no two states of the directory, committed or rolled back, have one number. SQLite: no cache.

# What the cache is built from: each table has the trigger (tests/broker/directory checks).
VERSIONED = (Organisation, Appointment, Delegation)


@dataclass(frozen=True)
class DirectorySnapshot:
    """The directory at one moment."""

    view: DirectoryView  # what routing plans over
    cdo_names: Mapping[str, str]  # body -> the name of its CDO in office
    delegates: Mapping[str, list[str]]  # body -> the other bodies that may decide for its CDO


@dataclass(frozen=True)
class _Directory:
    version: tuple[int, ...]
    organisations: tuple[tuple[str, str, str, str | None, str | None], ...]
    # body -> (starts_at, ends_at, person_name) of each CDO appointment
    appointments: dict[str, tuple[tuple[datetime, datetime | None, str], ...]]
    # body -> (delegate body, starts_at, ends_at) of each delegation not revoked
    delegations: dict[str, tuple[tuple[str, datetime, datetime], ...]]
    boundaries: tuple[datetime, ...]  # every start and end, sorted: where the snapshot changes


@dataclass
class _Built:
    snapshot: DirectorySnapshot
    valid_from: datetime | None  # the snapshot holds for valid_from <= now < valid_until
    valid_until: datetime | None


_cached: dict[str, tuple[_Directory, _Built | None]] = {}  # per database URL


def version_columns(dialect: str) -> list[ColumnElement[int]]:
    """A scalar subquery that changes whenever the directory changes (see above); none where that
    cannot be told (SQLite)."""
    return version_now(DirectoryVersion, dialect)


async def _load(session: AsyncSession, version: tuple[int, ...]) -> _Directory:
    # Core statements on the session's connection: the ORM's result machinery cost more than
    # the rows themselves (about 1 s of the province's 10,000 bodies and 13,000 appointments).
    connection = await session.connection()
    organisations = tuple(
        (id, kind, level, government_id, parent_id)
        for id, kind, level, government_id, parent_id in await connection.execute(
            select(
                Organisation.id,
                Organisation.kind,
                Organisation.level,
                Organisation.government_id,
                Organisation.parent_id,
            )
        )
    )
    appointments: dict[str, list[tuple[datetime, datetime | None, str]]] = {}
    for org_id, starts_at, ends_at, name in await connection.execute(
        select(
            Appointment.organisation_id,
            Appointment.starts_at,
            Appointment.ends_at,
            Appointment.person_name,
        ).order_by(Appointment.starts_at)
    ):
        appointments.setdefault(org_id, []).append((starts_at, ends_at, name))
    delegations: dict[str, list[tuple[str, datetime, datetime]]] = {}
    for org_id, delegate_id, starts_at, ends_at in await connection.execute(
        select(
            Appointment.organisation_id,
            Delegation.delegate_org_id,
            Delegation.starts_at,
            Delegation.ends_at,
        )
        .join(Appointment, Appointment.id == Delegation.appointment_id)
        .where(Delegation.revoked_at.is_(None))
    ):
        delegations.setdefault(org_id, []).append((delegate_id, starts_at, ends_at))
    moments = {m for spans in appointments.values() for span in spans for m in span[:2] if m}
    moments |= {m for spans in delegations.values() for span in spans for m in span[1:]}
    return _Directory(
        version,
        organisations,
        {org_id: tuple(spans) for org_id, spans in appointments.items()},
        {org_id: tuple(spans) for org_id, spans in delegations.items()},
        tuple(sorted(moments)),
    )


def _build(directory: _Directory, now: datetime) -> _Built:
    cdo_names = {
        org_id: name
        for org_id, spans in directory.appointments.items()
        for start, end, name in spans
        if start <= now and (end is None or end > now)
    }
    delegates = {
        org_id: sorted({d for d, start, end in spans if d != org_id and start <= now < end})
        for org_id, spans in directory.delegations.items()
    }
    view = DirectoryView.of(
        OrgView(id, kind, level, government_id, parent_id, id in cdo_names)
        for id, kind, level, government_id, parent_id in directory.organisations
    )
    at = bisect_right(directory.boundaries, now)
    return _Built(
        DirectorySnapshot(view, cdo_names, {k: v for k, v in delegates.items() if v}),
        directory.boundaries[at - 1] if at else None,
        directory.boundaries[at] if at < len(directory.boundaries) else None,
    )


def _holds(built: _Built, now: datetime) -> bool:
    after, before = built.valid_from, built.valid_until
    return (after is None or after <= now) and (before is None or now < before)


async def directory_snapshot(
    session: AsyncSession, now: datetime, version: tuple[int, ...] = ()
) -> DirectorySnapshot:
    """Every body, whether it has a CDO in office at `now` and who, and its delegates then.
    `version` is what `version_columns` gave in this transaction; without one the rows are read
    again."""
    kept = kept_snapshot(session, now, version)
    if kept is not None:
        return kept
    directory = await _load(session, version)
    built = _build(directory, now)
    if version:
        _cached[str(session.get_bind().engine.url)] = (directory, built)
    return built.snapshot


def kept_snapshot(
    session: AsyncSession, now: datetime, version: tuple[int, ...]
) -> DirectorySnapshot | None:
    """The snapshot this process keeps, if its rows were read at `version`; else None, having
    read nothing. A caller with a version read earlier, not in this transaction, checks it is
    still the database's where it writes (filing's write does)."""
    key = str(session.get_bind().engine.url)  # per database
    directory, built = _cached.get(key, (None, None))
    if not version or directory is None or directory.version != version:
        return None
    if built is None or not _holds(built, now):
        built = _build(directory, now)
        _cached[key] = (directory, built)
    return built.snapshot


async def current_view(session: AsyncSession, now: datetime) -> DirectoryView:
    """The routing view of the directory as this transaction sees it, from the process's cache
    when nothing changed (one query for the version)."""
    columns = version_columns(session.get_bind().dialect.name)
    version = (
        tuple(int(v) for v in (await session.execute(select(*columns))).one()) if columns else ()
    )
    return (await directory_snapshot(session, now, version)).view


async def delegation(
    session: AsyncSession, delegation_id: str
) -> tuple[Delegation, Appointment] | None:
    """A delegation with the appointment it delegates, its row locked."""
    row = (
        await session.execute(
            select(Delegation, Appointment)
            .join(Appointment, Appointment.id == Delegation.appointment_id)
            .where(Delegation.id == delegation_id)
            .with_for_update(of=Delegation)
        )
    ).one_or_none()
    return (row[0], row[1]) if row else None
