"""All SQL of the evaluation: the scores bureaus entered, and the decisions on demands and IT
projects per CDO (the report's own measures come from reports/repository/measures.py)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from broker.evaluation.measures import KindCounts
from core.models.evaluation import EvaluationScore
from core.models.requests import DataRequest, Decision

# Past this many bodies a period's scores are read whole: a long IN list costs more.
_WHOLE_PERIOD_FROM = 500
# (organisation_id, appointment_id), as in reports/repository/measures.py
Key = tuple[str, str | None]


async def kind_counts(
    session: AsyncSession, start: datetime, end: datetime
) -> dict[Key, KindCounts]:
    """Per (body, CDO appointment): decisions in [start, end) on demands and on IT projects,
    and the vetoes among them."""
    stmt = (
        select(
            Decision.organisation_id,
            Decision.appointment_id,
            func.count().filter(DataRequest.kind == "demand"),
            func.count().filter(DataRequest.kind == "it_project"),
            func.count().filter(Decision.decision == "veto"),
        )
        .join(DataRequest, DataRequest.id == Decision.request_id)
        .where(
            Decision.created_at >= start,
            Decision.created_at < end,
            DataRequest.kind.in_(("demand", "it_project")),
        )
        .group_by(Decision.organisation_id, Decision.appointment_id)
    )
    # Core on the session's connection, as the report's own measures
    # (reports/repository/measures.py).
    rows = await (await session.connection()).execute(stmt)
    return {(row[0], row[1]): KindCounts(*row[2:]) for row in rows}


async def scores_overlapping(
    session: AsyncSession, organisation_ids: Collection[str], start: date, end: date
) -> Sequence[EvaluationScore]:
    """Scores for periods that overlap [start, end), oldest first (a later one supersedes): a
    year's score counts in a report on any part of that year. For the provincial bureau the
    bodies are most of the directory: the period's scores are read whole then, as
    reports/repository/roster.py reads bodies (an IN list of 9,500 ids took 110-230 ms to run
    against an empty table; the whole period, 2-5 ms)."""
    stmt = (
        select(EvaluationScore)
        .where(EvaluationScore.period_start < end, EvaluationScore.period_end > start)
        .order_by(EvaluationScore.created_at, EvaluationScore.id)
    )
    if len(organisation_ids) < _WHOLE_PERIOD_FROM:
        stmt = stmt.where(EvaluationScore.organisation_id.in_(organisation_ids))
    return [s for s in await session.scalars(stmt) if s.organisation_id in organisation_ids]
