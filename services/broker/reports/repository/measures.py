"""The evaluation report's SQL: one GROUP BY per measure, keyed by (body, CDO appointment).

Per CDO, the key's appointment is the one the row itself records (a decision's `appointment_id`,
an escalation's `lapsed_appointment_id`), otherwise the body's appointment active when the thing
happened (appointment windows never overlap, so there is at most one). Per body, the key's
appointment is None and the same queries group by the body alone.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, distinct, func, null, select, true
from sqlalchemy.engine import Result
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable

from core.models.directory import Appointment, Organisation
from core.models.grants import Grant
from core.models.problems import ProblemNamedOrganisation, ProblemReport
from core.models.requests import (
    Appeal,
    AppealCoordinator,
    Clarification,
    Decision,
    Escalation,
    StepApprover,
)

Key = tuple[str, str | None]  # (organisation_id, appointment_id)


@dataclass(frozen=True)
class ReportFilter:
    start: datetime
    end: datetime
    level: str | None
    per_cdo: bool


@dataclass(frozen=True)
class DecisionCounts:
    decided: int
    approved: int
    rejected: int
    by_delegate: int


@dataclass(frozen=True)
class EscalationCounts:
    breaches: int  # distinct steps the body let lapse
    escalations: int  # escalation rows (a step may lapse at one body more than once)


def _during(moment: Any, f: ReportFilter) -> ColumnElement[bool]:
    return and_(moment >= f.start, moment < f.end)


def _at_level(org_id: Any, f: ReportFilter) -> ColumnElement[bool]:
    if f.level is None:
        return true()
    return org_id.in_(select(Organisation.id).where(Organisation.level == f.level))  # type: ignore[no-any-return]


def _cdo_at(org_id: Any, moment: Any) -> ColumnElement[bool]:
    """Join condition: the body's CDO appointment active at `moment`."""
    return and_(
        Appointment.organisation_id == org_id,
        Appointment.in_force_at(moment),
    )


def _keyed(f: ReportFilter, org_id: Any, appointment_id: Any) -> tuple[list[Any], list[Any]]:
    """The key's select columns and GROUP BY columns."""
    if f.per_cdo:
        return [org_id, appointment_id], [org_id, appointment_id]
    return [org_id, null()], [org_id]


async def _rows(session: AsyncSession, stmt: Executable) -> Result[*tuple[Any, ...]]:
    """Core execution on the session's connection: the report reads columns only, and the ORM's
    result machinery cost more than the rows for the province's thousands of CDOs."""
    return await (await session.connection()).execute(stmt)


async def _counts(session: AsyncSession, stmt: Select[Any]) -> dict[Key, tuple[int, ...]]:
    return {(row[0], row[1]): tuple(row[2:]) for row in await _rows(session, stmt)}


async def _count_at_body(
    session: AsyncSession,
    f: ReportFilter,
    org_id: Any,
    moment: Any,
    *where: ColumnElement[bool],
    counted: Any = None,
) -> dict[Key, int]:
    """Rows of `org_id`'s table whose `moment` is in the window, counted per body (per CDO: the
    body's appointment in force at `moment`); `counted`: what to count instead of rows."""
    key, group = _keyed(f, org_id, Appointment.id)
    stmt = (
        select(*key, func.count() if counted is None else counted)
        .select_from(org_id.class_)
        .outerjoin(Appointment, _cdo_at(org_id, moment))
        .where(*where, _during(moment, f), _at_level(org_id, f))
        .group_by(*group)
    )
    return {k: v[0] for k, v in (await _counts(session, stmt)).items()}


async def routed(session: AsyncSession, f: ReportFilter) -> dict[Key, int]:
    """Requests in which the body became an approver in the window (planned or escalated to)."""
    return await _count_at_body(
        session,
        f,
        StepApprover.organisation_id,
        StepApprover.added_at,
        counted=func.count(distinct(StepApprover.request_id)),
    )


_DECISION_COUNTS = (
    func.count(),
    func.count().filter(Decision.decision == "approve"),
    func.count().filter(Decision.decision == "reject"),
    func.count(Decision.delegation_id),
)


def _decisions_in(f: ReportFilter, *counted: Any) -> Select[Any]:
    """The window's decisions, `counted` per key."""
    key, group = _keyed(f, Decision.organisation_id, Decision.appointment_id)
    return (
        select(*key, *counted)
        .where(_during(Decision.created_at, f), _at_level(Decision.organisation_id, f))
        .group_by(*group)
    )


async def decisions(session: AsyncSession, f: ReportFilter) -> dict[Key, DecisionCounts]:
    counts = await _counts(session, _decisions_in(f, *_DECISION_COUNTS))
    return {k: DecisionCounts(*v) for k, v in counts.items()}


@dataclass
class Clocks:
    elapsed: list[int] = field(default_factory=list)  # SLA-clock seconds, holds excluded
    working: list[int] = field(default_factory=list)  # the same in working time, where recorded


async def decision_clocks(session: AsyncSession, f: ReportFilter) -> dict[Key, Clocks]:
    """Each key's clock seconds before its decisions: percentiles are taken in Python.
    Decisions recorded before working time was (revision 0015) have no working time."""
    key, _ = _keyed(f, Decision.organisation_id, Decision.appointment_id)
    stmt = select(*key, Decision.clock_seconds, Decision.working_seconds).where(
        _during(Decision.created_at, f), _at_level(Decision.organisation_id, f)
    )
    clocks: dict[Key, Clocks] = defaultdict(Clocks)
    for row in await _rows(session, stmt):
        clock = clocks[(row[0], row[1])]
        clock.elapsed.append(row[2])
        if row[3] is not None:
            clock.working.append(row[3])
    return clocks


Percentiles = tuple[int | None, int | None, int | None, int | None]  # p50, p90, working p50, p90


async def decisions_with_percentiles(
    session: AsyncSession, f: ReportFilter
) -> tuple[dict[Key, DecisionCounts], dict[Key, Percentiles]]:
    """PostgreSQL: `decisions` and the nearest-rank percentiles of `decision_clocks` in one
    reading of the window (`percentile_disc` is the nearest rank; it leaves out nulls)."""
    stmt = _decisions_in(
        f,
        *_DECISION_COUNTS,
        *(
            func.percentile_disc(share).within_group(column)
            for column in (Decision.clock_seconds, Decision.working_seconds)
            for share in (0.5, 0.9)
        ),
    )
    counts = await _counts(session, stmt)
    return (
        {k: DecisionCounts(*v[:4]) for k, v in counts.items()},
        {k: (v[4], v[5], v[6], v[7]) for k, v in counts.items()},
    )


async def escalations_caused(session: AsyncSession, f: ReportFilter) -> dict[Key, EscalationCounts]:
    key, group = _keyed(f, Escalation.lapsed_org_id, Escalation.lapsed_appointment_id)
    stmt = (
        select(*key, func.count(distinct(Escalation.step_id)), func.count())
        .where(_during(Escalation.created_at, f), _at_level(Escalation.lapsed_org_id, f))
        .group_by(*group)
    )
    return {k: EscalationCounts(*v) for k, v in (await _counts(session, stmt)).items()}


async def escalations_received(session: AsyncSession, f: ReportFilter) -> dict[Key, int]:
    org_id = Escalation.to_org_id
    return await _count_at_body(session, f, org_id, Escalation.created_at, org_id.is_not(None))


async def clarifications_asked(session: AsyncSession, f: ReportFilter) -> dict[Key, int]:
    return await _count_at_body(session, f, Clarification.asked_by_org_id, Clarification.asked_at)


async def grants_revoked(session: AsyncSession, f: ReportFilter) -> dict[Key, int]:
    """Grants revoked in the window, per key with an approval among the grant's decisions.
    `decision_ids` is a JSON list, so the grant-to-decision step is done here, not in SQL."""
    revoked = (
        await _rows(
            session,
            select(Grant.id, Grant.decision_ids).where(
                Grant.revoked_at.is_not(None), _during(Grant.revoked_at, f)
            ),
        )
    ).all()
    grant_of = {decision_id: grant_id for grant_id, ids in revoked for decision_id in ids}
    if not grant_of:
        return {}
    key, _ = _keyed(f, Decision.organisation_id, Decision.appointment_id)
    stmt = select(*key, Decision.id).where(
        Decision.id.in_(grant_of),
        Decision.decision == "approve",
        _at_level(Decision.organisation_id, f),
    )
    grants: dict[Key, set[str]] = defaultdict(set)
    for row in await _rows(session, stmt):
        grants[(row[0], row[1])].add(grant_of[row[2]])
    return {k: len(v) for k, v in grants.items()}


async def problems_filed(session: AsyncSession, f: ReportFilter) -> dict[Key, int]:
    """Problem reports the body filed with the provincial bureau in the window."""
    return await _count_at_body(session, f, ProblemReport.reporter_id, ProblemReport.created_at)


async def problem_answer_seconds(session: AsyncSession, f: ReportFilter) -> dict[Key, list[int]]:
    """Per answering body, the seconds from filing to answer of each report it answered in the
    window: the percentiles are taken in Python."""
    org_id = ProblemReport.addressed_to
    key, _ = _keyed(f, org_id, Appointment.id)
    stmt = (
        select(*key, ProblemReport.created_at, ProblemReport.answered_at)
        .select_from(ProblemReport)
        .outerjoin(Appointment, _cdo_at(org_id, ProblemReport.answered_at))
        .where(
            ProblemReport.answered_at.is_not(None),
            _during(ProblemReport.answered_at, f),
            _at_level(org_id, f),
        )
    )
    seconds: dict[Key, list[int]] = defaultdict(list)
    for row in await _rows(session, stmt):
        seconds[(row[0], row[1])].append(max(0, int((row[3] - row[2]).total_seconds())))
    return seconds


async def problems_naming(session: AsyncSession, f: ReportFilter) -> dict[Key, int]:
    """Problem reports filed in the window that name the body."""
    return await _count_at_body(
        session, f, ProblemNamedOrganisation.organisation_id, ProblemNamedOrganisation.reported_at
    )


@dataclass(frozen=True)
class AppealCounts:
    received: int  # appeals that came to the body to coordinate (filed or escalated to it)
    upheld: int
    overturned: int


async def appeals(session: AsyncSession, f: ReportFilter) -> dict[Key, AppealCounts]:
    """Appeals (申请协调) the body received to coordinate in the window, and those it decided in
    the window, upheld or overturned (per CDO: the appointment in force at each moment)."""
    counts = await _count_at_body(
        session, f, AppealCoordinator.organisation_id, AppealCoordinator.added_at
    )
    decider = Appeal.decided_by_org_id
    key, group = _keyed(f, decider, Appeal.decided_by_appointment_id)
    decided = (
        select(
            *key,
            func.count().filter(Appeal.status == "upheld"),
            func.count().filter(Appeal.status == "overturned"),
        )
        .where(decider.is_not(None), _during(Appeal.decided_at, f), _at_level(decider, f))
        .group_by(*group)
    )
    outcomes = await _counts(session, decided)
    return {
        k: AppealCounts(counts.get(k, 0), *outcomes.get(k, (0, 0)))
        for k in set(counts) | set(outcomes)
    }
