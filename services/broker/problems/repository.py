"""The problem reports' SQL."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models.directory import Level, Organisation, OrgKind
from core.models.problems import ProblemReport


async def provincial_bureau(session: AsyncSession) -> str | None:
    """The provincial data bureau (the first by id, should a directory hold two)."""
    return await session.scalar(
        select(Organisation.id)
        .where(Organisation.kind == OrgKind.data_bureau, Organisation.level == Level.province)
        .order_by(Organisation.id)
        .limit(1)
    )


async def existing_organisations(session: AsyncSession, ids: Sequence[str]) -> set[str]:
    if not ids:
        return set()
    return set(await session.scalars(select(Organisation.id).where(Organisation.id.in_(ids))))


def _involves(org_id: str) -> object:
    """Filed by the body, or addressed to it to answer."""
    return or_(ProblemReport.reporter_id == org_id, ProblemReport.addressed_to == org_id)


async def visible(session: AsyncSession, problem_id: str, org_id: str) -> ProblemReport | None:
    return await session.scalar(
        select(ProblemReport).where(ProblemReport.id == problem_id, _involves(org_id))  # type: ignore[arg-type]
    )


async def lock(session: AsyncSession, problem_id: str) -> ProblemReport | None:
    return await session.scalar(
        select(ProblemReport).where(ProblemReport.id == problem_id).with_for_update()
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
    """Newest first (ids are time-ordered); `role`: `reporter` or `answerer` only."""
    query = select(ProblemReport)
    if role == "reporter":
        query = query.where(ProblemReport.reporter_id == org_id)
    elif role == "answerer":
        query = query.where(ProblemReport.addressed_to == org_id)
    else:
        query = query.where(_involves(org_id))  # type: ignore[arg-type]
    if status is not None:
        query = query.where(ProblemReport.status == status)
    if after is not None:
        query = query.where(ProblemReport.id < after)
    return (await session.scalars(query.order_by(ProblemReport.id.desc()).limit(limit))).all()
