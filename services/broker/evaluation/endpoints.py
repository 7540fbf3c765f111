"""The evaluation API: the indicators in force, scores a bureau enters, and the scorecard (the
period report), as JSON or CSV with Chinese headers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from broker.evaluation import service
from broker.evaluation.dependencies import IndicatorsDep
from broker.evaluation.export import scorecard_csv
from broker.evaluation.schemas import IndicatorsOut, Scorecard, ScoreIn, ScoreOut
from broker.kit.deps import SessionDep
from broker.kit.problem_docs import problems
from broker.oauth.principal import Principal, require_scope
from broker.oauth.scopes import Scope
from broker.reports.endpoints import (
    CSV_RESPONSE,
    FormatQuery,
    ReportReader,
    WindowEnd,
    WindowStart,
    csv_language,
    export,
)
from core.clock import utcnow

router = APIRouter(prefix="/v1", tags=["reports"])
Scorer = Annotated[Principal, Depends(require_scope(Scope.evaluation_score))]


@router.get("/evaluation/indicators", summary="The evaluation's indicators and weights")
async def indicators(indicators: IndicatorsDep, _reader: ReportReader) -> IndicatorsOut:
    return IndicatorsOut.model_validate(
        {"groups": indicators.groups, "indicators": indicators.indicators},
        from_attributes=True,
    )


@router.post(
    "/evaluation/scores",
    status_code=status.HTTP_201_CREATED,
    summary="Score a body's CDO on an entered indicator (a data bureau, in its jurisdiction)",
    responses=problems(403, 422),
)
async def enter_score(
    body: ScoreIn, session: SessionDep, indicators: IndicatorsDep, scorer: Scorer
) -> ScoreOut:
    score = await service.enter_score(session, body, indicators, actor=scorer.actor, now=utcnow())
    return ScoreOut.model_validate(score)


@router.get(
    "/reports/cdo-scorecard",
    summary="CDO evaluation scorecard: each CDO's indicators, scores and weighted total",
    description=(service.__doc__ or "").strip()
    + "\n\nRows are those of the caller's jurisdiction, as in `/v1/reports/cdo-evaluation`. "
    "CSV for `Accept: text/csv` or `?format=csv`, headers in Chinese unless `?lang=en`.",
    response_model=Scorecard,
    responses=CSV_RESPONSE,
)
async def scorecard(
    request: Request,
    session: SessionDep,
    indicators: IndicatorsDep,
    reader: ReportReader,
    start: WindowStart,
    end: WindowEnd,
    format_: FormatQuery = None,
) -> Response:
    card = await service.scorecard(
        session, indicators, start=start, end=end, reader=reader.organisation_id
    )
    return export(
        request,
        format_,
        card,
        lambda: scorecard_csv(card, indicators, csv_language(request)),
        f"cdo-scorecard-{start:%Y%m%d}-{end:%Y%m%d}.csv",
    )
