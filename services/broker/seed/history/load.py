"""`cdo-broker seed-history`: seed/history.py's requests over the seeded directory, written with
PostgreSQL's COPY in batches (a million requests through the API would take days here).

The directory is read once; routes are planned over it as it stood in the month of each filing
(who had a CDO then). The audit chains continue from their heads, which are moved to the last
rows written, so the log verifies as one. Requests are told in the order filed, and their ids
are made at their filing time, so ids sort as the broker's own do.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit.service import keys_of
from broker.routing.model import DirectoryView, OrgView
from broker.routing.policy import load_policy
from broker.seed.history import repository
from broker.seed.history.rows import COLUMNS, AuditChains, Body, DatasetRow, History, Rows
from broker.seed.history.story import story
from core.clock import utcnow

_BATCH = 5000  # requests per COPY round: bounded memory whatever the size


async def seed_history(
    session: AsyncSession, *, requests: int, years: float, seed: int, until: datetime | None = None
) -> dict[str, int]:
    until = until or utcnow()
    rng = random.Random(seed)
    orgs = await repository.organisations(session)
    terms: dict[str, list[tuple[datetime, datetime | None, str, str]]] = defaultdict(list)
    for org_id, start, end, appointment_id, name in await repository.appointment_terms(session):
        terms[org_id].append((start, end, appointment_id, name))
    bodies = {o.id: Body(o.id, o.level, o.division_code, tuple(terms[o.id])) for o in orgs}
    datasets = [
        DatasetRow(
            id,
            owner,
            sharing,
            grade,
            tuple(f["name"] for f in fields),
            frozenset(f["name"] for f in fields if f.get("personal") or f.get("sensitive")),
        )
        for id, owner, sharing, grade, fields in await repository.published_datasets(session)
    ]
    views: dict[tuple[int, int], DirectoryView] = {}

    def view_at(moment: datetime) -> DirectoryView:
        month = (moment.year, moment.month)
        if month not in views:
            views[month] = DirectoryView.of(
                OrgView(
                    o.id,
                    o.kind,
                    o.level,
                    o.government_id,
                    o.parent_id,
                    bodies[o.id].cdo_at(moment) is not None,
                )
                for o in orgs
            )
        return views[month]

    heads = await repository.chain_heads(session)
    history = History(
        bodies=bodies,
        requesters=sorted(o.id for o in orgs if o.kind != "data_bureau"),
        datasets=datasets,
        policy=load_policy(),
        views=view_at,
        chains=AuditChains(keys_of(session).current, heads),
        until=until,
        rng=rng,
    )
    start = until - timedelta(days=365 * years)
    span = (until - start).total_seconds()
    moments = sorted(rng.random() * span for _ in range(requests))
    rows_written: dict[str, int] = defaultdict(int)
    for first in range(0, requests, _BATCH):
        rows = Rows()
        for offset in moments[first : first + _BATCH]:
            story(history, _office_hours(start + timedelta(seconds=offset), rng), rows)
        await _copy(session, rows, rows_written)
    await repository.move_chain_heads(session, history.chains.heads)
    return {**history.counts, **{f"rows.{t}": n for t, n in rows_written.items()}}


def _office_hours(moment: datetime, rng: random.Random) -> datetime:
    """Moved to a working hour of a weekday, China time (UTC+8): when people file."""
    local = moment + timedelta(hours=8)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day + timedelta(seconds=rng.randint(9 * 3600, 18 * 3600) - 8 * 3600)


async def _copy(session: AsyncSession, rows: Rows, written: dict[str, int]) -> None:
    tables = [  # parents before children: the order of COLUMNS
        (table, columns, records)
        for table, columns in COLUMNS.items()
        if (records := rows.tables.get(table))
    ]
    await repository.copy_tables(session, tables)
    for table, _, records in tables:
        written[table] += len(records)
