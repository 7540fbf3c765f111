"""The problem reports' SQL."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from broker.kit.filters import where_given
from core.models.directory import Level, Organisation, OrgKind
from core.models.problems import ProblemNamedOrganisation, ProblemNamedRequest, ProblemReport


async def provincial_bureau(session: AsyncSession) -> str | None:
    """The provincial data bureau (the first by id, should a directory hold two)."""
    return await session.scalar(
        select(Organisation.id)
        .where(Organisation.kind == OrgKind.data_bureau, Organisation.level == Level.province)
        .order_by(Organisation.id)
        .limit(1)
    )


async def add(session: AsyncSession, report: ProblemReport) -> None:
    """The report, and a row for each body and request it names (the lookups' index): the
    report is flushed first, as the rows' foreign keys need it and no relationship orders them."""
    session.add(report)
    await session.flush()
    session.add_all(
        ProblemNamedOrganisation(
            problem_id=report.id, organisation_id=org_id, reported_at=report.created_at
        )
        for org_id in report.concerned_organisations
    )
    session.add_all(
        ProblemNamedRequest(problem_id=report.id, request_id=request_id)
        for request_id in report.concerned_requests
    )


async def existing_organisations(session: AsyncSession, ids: Sequence[str]) -> set[str]:
    if not ids:
        return set()
    return set(await session.scalars(select(Organisation.id).where(Organisation.id.in_(ids))))


def _named(org_id: str) -> ColumnElement[bool]:
    return exists().where(
        ProblemNamedOrganisation.problem_id == ProblemReport.id,
        ProblemNamedOrganisation.organisation_id == org_id,
    )


def _involves(org_id: str) -> ColumnElement[bool]:
    """Filed by the body, addressed to it to answer, or naming it (it is told of the report,
    so it may read it)."""
    return or_(
        ProblemReport.reporter_id == org_id,
        ProblemReport.addressed_to == org_id,
        _named(org_id),
    )


async def visible(session: AsyncSession, problem_id: str, org_id: str) -> ProblemReport | None:
    return await session.scalar(
        select(ProblemReport).where(ProblemReport.id == problem_id, _involves(org_id))
    )


async def lock_visible(session: AsyncSession, problem_id: str, org_id: str) -> ProblemReport | None:
    """The report, its row locked, if `org_id` has a part in it."""
    return await session.scalar(
        select(ProblemReport)
        .where(ProblemReport.id == problem_id, _involves(org_id))
        .with_for_update()
    )


async def list_for(
    session: AsyncSession,
    org_id: str,
    *,
    role: str | None,
    status: str | None,
    after: str | None,
    limit: int,
) -> Sequence[ProblemReport]:
    """Newest first (ids are time-ordered); `role`: `reporter`, `answerer` or `named` only."""
    query = select(ProblemReport)
    if role == "reporter":
        query = query.where(ProblemReport.reporter_id == org_id)
    elif role == "answerer":
        query = query.where(ProblemReport.addressed_to == org_id)
    elif role == "named":
        query = query.where(_named(org_id))
    else:
        query = query.where(_involves(org_id))
    query = where_given(query, (ProblemReport.status, status))
    if after is not None:
        query = query.where(ProblemReport.id < after)
    return (await session.scalars(query.order_by(ProblemReport.id.desc()).limit(limit))).all()
