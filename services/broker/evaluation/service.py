"""The CDO evaluation as the seed runs it (结合重点工作部署、日常管理等落实情况): each CDO's
computed indicators from the broker's records and the scores bureaus entered, weighted as the
indicators file says, for the bodies in the reader's jurisdiction. The period report a city
bureau forwards to the provincial bureau is this scorecard, exported as CSV in Chinese."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit import service as audit
from broker.audit.actor import Actor
from broker.calendar.deadlines import china_day
from broker.directory.service import require_jurisdiction
from broker.evaluation import repository
from broker.evaluation.card import scorecard_json, scorecard_row
from broker.evaluation.exceptions import NotAnEnteredIndicator, OnlyABureauScores
from broker.evaluation.indicators import Indicators
from broker.evaluation.measures import KindCounts
from broker.evaluation.schemas import ScorecardJson, ScoreIn
from broker.reports.schemas import GroupBy
from broker.reports.service import cdo_evaluation
from core.ids import new_id
from core.models.directory import Organisation, OrgKind
from core.models.evaluation import EvaluationScore


async def enter_score(
    session: AsyncSession, data: ScoreIn, indicators: Indicators, *, actor: Actor, now: datetime
) -> EvaluationScore:
    """A data bureau scores a body in its jurisdiction on an `entered` indicator, with why."""
    indicator = indicators.get(data.indicator)
    if indicator is None or indicator.source != "entered":
        raise NotAnEnteredIndicator(
            f"indicator: '{data.indicator}' is not an indicator a bureau scores",
            detail_zh=f"indicator: “{data.indicator}”不是由数据管理部门评分的指标",
            field="indicator",
            entered=[i.id for i in indicators.indicators if i.source == "entered"],
        )
    caller = await session.get(Organisation, actor.organisation)
    if caller is None or caller.kind != OrgKind.data_bureau:
        raise OnlyABureauScores(
            "only a data bureau scores CDOs (the seed's evaluation is the bureaus')",
            detail_zh="仅政务服务数据管理部门可对首席数据官履职情况评分",
        )
    await require_jurisdiction(
        session, actor.organisation, data.organisation_id, field="organisation_id", now=now
    )
    score = EvaluationScore(
        id=new_id("evs"),
        **data.model_dump(),
        entered_by_org_id=actor.organisation,
        entered_by_person_id=actor.person_id,
        created_at=now,
    )
    session.add(score)
    await session.flush()
    await audit.record(
        session, "evaluation.scored", actor=actor, subject=data.organisation_id, now=now,
        score_id=score.id, indicator=data.indicator, score=data.score,
        period=[data.period_start.isoformat(), data.period_end.isoformat()],
    )  # fmt: skip
    return score


async def scorecard(
    session: AsyncSession,
    indicators: Indicators,
    *,
    start: datetime,
    end: datetime,
    reader: str,
) -> ScorecardJson:
    report = await cdo_evaluation(
        session, start=start, end=end, level=None, group_by=GroupBy.cdo, reader=reader
    )
    kinds = await repository.kind_counts(session, start, end)
    entered = await _latest_scores(
        session, {r.organisation_id for r in report.rows}, china_day(start), china_day(end)
    )
    no_kinds = KindCounts()
    rows = [
        scorecard_row(
            row, kinds.get((row.organisation_id, row.appointment_id), no_kinds), entered, indicators
        )
        for row in report.rows
    ]
    return scorecard_json(start, end, reader, rows)


async def _latest_scores(
    session: AsyncSession, organisation_ids: set[str], start: date, end: date
) -> dict[tuple[str, str], EvaluationScore]:
    scores = await repository.scores_overlapping(session, organisation_ids, start, end)
    return {(s.organisation_id, s.indicator): s for s in scores}  # oldest first: the last wins
